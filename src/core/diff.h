/* diff.h: structural diff of the models at two commits */
#ifndef IL_DIFF_H
#define IL_DIFF_H
#include <stddef.h>

struct arena;
struct project;

enum change_kind {
	CHANGE_NONE = 0,   /* same model (a moved or renamed file included) */
	CHANGE_ADDED,      /* only in the target */
	CHANGE_REMOVED,    /* only in the base */
	CHANGE_MODIFIED,   /* content hash differs: rebuilt */
	CHANGE_COSMETIC,   /* text differs, hash equal: not rebuilt */
	CHANGE_METADATA    /* only owner/tags differ: not rebuilt */
};

struct model_change {
	const char *name;
	enum change_kind kind;
	int base_idx;      /* index in base, or -1 */
	int target_idx;    /* index in target, or -1 */
};

struct diff {
	struct model_change *changes; /* kind != NONE, sorted by name */
	size_t n_changes;
	enum change_kind *target_kind; /* per target model index */
};

/* Compares base and target model by model (by name). 0 or IL_ENOMEM. */
int diff_projects(struct diff *out, struct arena *a,
		  const struct project *base, const struct project *target);

/* "ADDED", "REMOVED", "MODIFIED", "COSMETIC", "METADATA" or "NONE". */
const char *change_kind_name(enum change_kind k);
#endif
