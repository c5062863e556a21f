/* cache.c: parsed model files shared between the projects of a request */
#include <stdint.h>
#include <string.h>

#include "core/cache_int.h"
#include "core/diag.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/* A problem of the cached file, replayed under each path it appears at. */
struct cached_diag {
	unsigned line;
	enum diag_severity severity;
	const char *message;
};

struct cache_entry {
	unsigned char key[PARSE_CACHE_MAX_KEY];
	size_t key_len;
	struct model tmpl;       /* as parsed, before any project touched it */
	int has_model;           /* 0: the file gave no usable model */
	struct cached_diag *diags;
	size_t n_diags;
};

struct parse_cache {
	struct arena *arena;
	struct cache_entry **slots;  /* open addressing, power-of-two size */
	size_t cap;
	size_t n;
};

int parse_cache_new(struct parse_cache **out, struct arena *a)
{
	struct parse_cache *c = arena_calloc(a, 1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return IL_ENOMEM;
	c->arena = a;
	c->cap = 1024;
	c->slots = arena_calloc(a, c->cap, sizeof(*c->slots));
	if (c->slots == NULL)
		return IL_ENOMEM;
	*out = c;
	return 0;
}

/* FNV-1a over the key (keys are blob ids: already well mixed). */
static size_t key_hash(const unsigned char *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return (size_t)h;
}

static struct cache_entry **find_slot(struct cache_entry **slots, size_t cap,
				      const unsigned char *key, size_t n)
{
	size_t i = key_hash(key, n) & (cap - 1);

	while (slots[i] && (slots[i]->key_len != n ||
			    memcmp(slots[i]->key, key, n) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct parse_cache *c)
{
	size_t cap = c->cap * 2, i;
	struct cache_entry **slots = arena_calloc(c->arena, cap, sizeof(*slots));

	if (slots == NULL)
		return IL_ENOMEM;
	for (i = 0; i < c->cap; i++)
		if (c->slots[i])
			*find_slot(slots, cap, c->slots[i]->key,
				   c->slots[i]->key_len) = c->slots[i];
	c->slots = slots;
	c->cap = cap;
	return 0;
}

struct cache_entry *cache__lookup(struct parse_cache *c, const void *key,
				  size_t n)
{
	return *find_slot(c->slots, c->cap, key, n);
}

int parse_cache_contains(struct parse_cache *c, const void *key, size_t len)
{
	return c && len <= PARSE_CACHE_MAX_KEY && cache__lookup(c, key, len);
}

/* Records the model (may be NULL) and the diags [from, dl->n) of a file. */
int cache__store(struct parse_cache *c, const void *key, size_t n,
		 struct model *m, const struct diag_list *dl, size_t from)
{
	struct cache_entry *e;
	size_t i;

	if (n > PARSE_CACHE_MAX_KEY)
		return 0;
	if (c->n * 2 >= c->cap && grow(c) < 0)
		return IL_ENOMEM;
	if ((e = arena_calloc(c->arena, 1, sizeof(*e))) == NULL)
		return IL_ENOMEM;
	memcpy(e->key, key, n);
	e->key_len = n;
	e->n_diags = dl->n - from;
	e->diags = arena_calloc(c->arena, e->n_diags + 1, sizeof(*e->diags));
	if (e->diags == NULL)
		return IL_ENOMEM;
	for (i = 0; i < e->n_diags; i++) {
		e->diags[i].line = dl->items[from + i].line;
		e->diags[i].severity = dl->items[from + i].severity;
		e->diags[i].message = dl->items[from + i].message;
	}
	if (m) {
		if (m->memo == NULL)
			m->memo = arena_calloc(c->arena, 1, sizeof(*m->memo));
		if (m->memo == NULL)
			return IL_ENOMEM;
		e->tmpl = *m;
		e->has_model = 1;
	}
	*find_slot(c->slots, c->cap, key, n) = e;
	c->n++;
	return 0;
}

int cache__clone(struct model **out, const struct cache_entry *e,
		 struct arena *a, const char *path, struct diag_list *dl)
{
	struct model *m;
	size_t i;

	*out = NULL;
	if ((path = arena_strdup(a, path)) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < e->n_diags; i++)
		diag_add(dl, e->diags[i].severity, path, e->diags[i].line, "%s",
			 e->diags[i].message);
	if (!e->has_model)
		return dl->oom ? IL_ENOMEM : 0;
	if ((m = arena_alloc(a, sizeof(*m))) == NULL)
		return IL_ENOMEM;
	*m = e->tmpl;
	m->path = path;
	m->refs = arena_calloc(a, m->n_refs + 1, sizeof(*m->refs));
	if (m->refs == NULL)
		return IL_ENOMEM;
	if (m->n_refs)
		memcpy(m->refs, e->tmpl.refs, m->n_refs * sizeof(*m->refs));
	for (i = 0; i < m->n_refs; i++)
		m->refs[i].target = -1;
	*out = m;
	return dl->oom ? IL_ENOMEM : 0;
}
