/* cache_int.h: the parse cache's internals shared by project.c and hash.c */
#ifndef IL_CACHE_INT_H
#define IL_CACHE_INT_H
#include <stddef.h>

#include "core/model.h"

struct arena;
struct cache_entry;
struct diag_list;
struct parse_cache;

/* A content hash computed once for a cached file, with the model names its
 * refs stood for (NULL for unresolved): reusable when they match. */
struct hash_memo {
	int valid;
	const char **resolved;    /* one per ref */
	char hash[IL_SHA256_HEX_LEN + 1];
};

struct cache_entry *cache__lookup(struct parse_cache *c, const void *key,
				  size_t n);
/* Stores the file's model (NULL when unusable) and diags [from, dl->n);
 * gives m a memo shared with every later copy. 0 or IL_ENOMEM. */
int cache__store(struct parse_cache *c, const void *key, size_t n,
		 struct model *m, const struct diag_list *dl, size_t from);
/* A fresh copy of the entry's model under path (NULL when the file had
 * none), its diags replayed into dl. 0 or IL_ENOMEM. */
int cache__clone(struct model **out, const struct cache_entry *e,
		 struct arena *a, const char *path, struct diag_list *dl);
#endif
