/* diff.c: structural diff of the models at two commits */
#include "core/diff.h"

#include <string.h>

#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"

static const char *const change_names[] = {
	"NONE", "ADDED", "REMOVED", "MODIFIED", "COSMETIC", "METADATA",
};

const char *change_kind_name(enum change_kind k)
{
	return change_names[k];
}

static int str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int lists_eq(const struct str_list *a, const struct str_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return 0;
	return 1;
}

static enum change_kind classify(const struct model *b, const struct model *t)
{
	if (memcmp(b->content_hash, t->content_hash,
		   sizeof(b->content_hash)) != 0)
		return CHANGE_MODIFIED;
	if (!str_eq(b->owner, t->owner) || !lists_eq(&b->tags, &t->tags))
		return CHANGE_METADATA;
	if (b->text_len != t->text_len ||
	    (b->text != t->text && memcmp(b->text, t->text, b->text_len) != 0))
		return CHANGE_COSMETIC;
	return CHANGE_NONE;
}

static void record(struct diff *d, const char *name, enum change_kind k,
		   int bi, int ti)
{
	struct model_change *c;

	if (ti >= 0)
		d->target_kind[ti] = k;
	if (k == CHANGE_NONE)
		return;
	c = &d->changes[d->n_changes++];
	c->name = name;
	c->kind = k;
	c->base_idx = bi;
	c->target_idx = ti;
}

int diff_projects(struct diff *out, struct arena *a,
		  const struct project *base, const struct project *target)
{
	size_t i = 0, j = 0, nb = base->n_models, nt = target->n_models;

	memset(out, 0, sizeof(*out));
	out->changes = arena_calloc(a, nb + nt + 1, sizeof(*out->changes));
	out->target_kind = arena_calloc(a, nt + 1, sizeof(*out->target_kind));
	if (out->changes == NULL || out->target_kind == NULL)
		return IL_ENOMEM;
	while (i < nb || j < nt) {
		const struct model *b = i < nb ? base->models[i] : NULL;
		const struct model *t = j < nt ? target->models[j] : NULL;
		int c = b == NULL ? 1 : t == NULL ? -1 : strcmp(b->name, t->name);

		if (c < 0) {
			record(out, b->name, CHANGE_REMOVED, (int)i++, -1);
		} else if (c > 0) {
			record(out, t->name, CHANGE_ADDED, -1, (int)j++);
		} else {
			record(out, t->name, classify(b, t), (int)i, (int)j);
			i++;
			j++;
		}
	}
	return 0;
}
