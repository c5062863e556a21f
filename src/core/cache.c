/* cache.c: parsed model files shared between the projects of a request */
#include <stdint.h>
#include <string.h>

#include "core/cache_int.h"
#include "core/diag.h"
#include "core/hash.h"
#include "core/model_int.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/keyhash.h"
#include "util/limits.h"

/* A slot keeps the key's hash, so a probe reads an entry only when the
 * hashes match (entries are spread out in memory). */
struct slot {
	uint64_t hash;
	struct cache_entry *e;       /* NULL: empty */
};

struct parse_cache {
	struct arena *arena;
	struct slot *slots;          /* open addressing, power-of-two size */
	size_t cap;
	size_t n;
	const struct parse_store_ops *ops;   /* a longer-lived store, or NULL */
	void *store;
	struct entry_buf buf;        /* encodings for the store */
	struct parse_cache_stats stats;
	int frozen;                  /* read-only: projects on several threads */
};

static void free_buf(void *ptr)
{
	cache__buf_free(ptr);
}

int parse_cache_new(struct parse_cache **out, struct arena *a)
{
	struct parse_cache *c = arena_calloc(a, 1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return IL_ENOMEM;
	c->arena = a;
	c->cap = 1024;
	c->slots = arena_calloc(a, c->cap, sizeof(*c->slots));
	if (c->slots == NULL || arena_on_reset(a, free_buf, &c->buf) < 0)
		return IL_ENOMEM;
	*out = c;
	return 0;
}

void parse_cache_set_store(struct parse_cache *c,
			   const struct parse_store_ops *ops, void *store)
{
	c->ops = ops;
	c->store = store;
}

void parse_cache_get_stats(const struct parse_cache *c,
			   struct parse_cache_stats *out)
{
	*out = c->stats;
}

static struct slot *find_slot(struct slot *slots, size_t cap,
			      const unsigned char *key, size_t n, uint64_t h)
{
	size_t i = h & (cap - 1);

	while (slots[i].e && (slots[i].hash != h || slots[i].e->key_len != n ||
			      memcmp(slots[i].e->key, key, n) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* The entry with key in the cache itself, or NULL. */
static struct cache_entry *cached(const struct parse_cache *c,
				  const void *key, size_t n)
{
	return find_slot(c->slots, c->cap, key, n, key_hash(key, n))->e;
}

/* The table at cap slots (a power of two above twice the count). */
static int resize(struct parse_cache *c, size_t cap)
{
	struct slot *slots = arena_calloc(c->arena, cap, sizeof(*slots));
	size_t i;

	if (slots == NULL)
		return IL_ENOMEM;
	for (i = 0; i < c->cap; i++)
		if (c->slots[i].e)
			*find_slot(slots, cap, c->slots[i].e->key,
				   c->slots[i].e->key_len,
				   c->slots[i].hash) = c->slots[i];
	c->slots = slots;
	c->cap = cap;
	return 0;
}

static int grow(struct parse_cache *c)
{
	return resize(c, c->cap * 2);
}

int parse_cache_reserve(struct parse_cache *c, size_t more)
{
	size_t cap = c->cap;

	while (cap <= 2 * (c->n + more))
		cap *= 2;
	return cap == c->cap ? 0 : resize(c, cap);
}

/* A new entry for key, in the table. */
static struct cache_entry *insert(struct parse_cache *c, const void *key,
				  size_t n)
{
	struct cache_entry *e;
	struct slot *slot;
	uint64_t h;

	if (c->n * 2 >= c->cap && grow(c) < 0)
		return NULL;
	if ((e = arena_calloc(c->arena, 1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->key, key, n);
	e->key_len = n;
	h = key_hash(key, n);
	slot = find_slot(c->slots, c->cap, key, n, h);
	slot->hash = h;
	slot->e = e;
	c->n++;
	return e;
}

/* Every copy of the entry's model shares one memo, so a content hash is
 * computed once per file and the store hears when it changes. */
static int give_memo(struct parse_cache *c, struct model *m)
{
	if (m->memo == NULL)
		m->memo = arena_calloc(c->arena, 1, sizeof(*m->memo));
	return m->memo ? 0 : IL_ENOMEM;
}

/* The entry from the store, decoded into the cache; NULL when the store
 * has none or its bytes are not an entry. */
static struct cache_entry *from_store(struct parse_cache *c, const void *key,
				      size_t n)
{
	struct cache_entry tmp, *e;
	const void *data;
	size_t len;

	if (c->ops == NULL ||
	    (data = c->ops->get(c->store, key, n, &len)) == NULL)
		return NULL;
	memset(&tmp, 0, sizeof(tmp));
	if (cache__decode(&tmp, c->arena, data, len) < 0 ||
	    (tmp.tmpl && give_memo(c, tmp.tmpl) < 0)) {
		c->stats.bad_entries++;
		return NULL;
	}
	if ((e = insert(c, key, n)) == NULL)
		return NULL;
	tmp.unsaved = 0;
	memcpy(tmp.key, e->key, sizeof(tmp.key));
	tmp.key_len = n;
	*e = tmp;
	c->stats.from_store++;
	return e;
}

struct cache_entry *cache__lookup(struct parse_cache *c, const void *key,
				  size_t n)
{
	struct cache_entry *e = cached(c, key, n);

	return e || c->frozen ? e : from_store(c, key, n);
}

int parse_cache_has(const struct parse_cache *c, const void *key, size_t len)
{
	return len <= PARSE_CACHE_MAX_KEY && cached(c, key, len) != NULL;
}

void parse_cache_freeze(struct parse_cache *c, int frozen)
{
	c->frozen = frozen;
}

int parse_cache_contains(struct parse_cache *c, const void *key, size_t len)
{
	return c && len <= PARSE_CACHE_MAX_KEY && cache__lookup(c, key, len);
}

/* The entry's own copy of diags (the file is replayed per path). */
static int keep_diags(struct parse_cache *c, struct cache_entry *e,
		      const struct diag *d, size_t n)
{
	size_t i;

	e->n_diags = n;
	e->diags = NULL;     /* none, most often */
	if (n == 0)
		return 0;
	if ((e->diags = arena_calloc(c->arena, n, sizeof(*e->diags))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n; i++) {
		e->diags[i] = d[i];
		e->diags[i].file = "";
	}
	return 0;
}

static int store_entry(struct parse_cache *c, const void *key, size_t n,
		       struct model *m, const struct diag *d, size_t n_diags)
{
	struct cache_entry *e;

	if (n > PARSE_CACHE_MAX_KEY)
		return 0;
	if ((e = insert(c, key, n)) == NULL ||
	    keep_diags(c, e, d, n_diags) < 0 || (m && give_memo(c, m) < 0))
		return IL_ENOMEM;
	e->tmpl = m;
	return 0;
}

int cache__store(struct parse_cache *c, const void *key, size_t n,
		 struct model *m, const struct diag_list *dl, size_t from)
{
	/* no diags yet: no list to point into */
	const struct diag *d = dl->n > from ? dl->items + from : NULL;
	int rc = store_entry(c, key, n, m, d, dl->n - from);
	struct cache_entry *e;

	c->stats.parsed++;
	if (rc == 0 && n <= PARSE_CACHE_MAX_KEY &&
	    (e = cached(c, key, n)) != NULL)
		e->unsaved = 1;
	return rc;
}

int cache__copy_model(struct model **out, const struct model *tmpl,
		      struct arena *a, const char *path)
{
	struct model *m;
	size_t i;

	*out = NULL;
	/* the refs right behind the model: one allocation, read together */
	if ((m = arena_alloc(a, sizeof(*m) + (tmpl->n_refs ? tmpl->n_refs : 1) *
			     sizeof(*m->refs))) == NULL)
		return IL_ENOMEM;
	*m = *tmpl;
	m->path = path;
	m->refs = (struct model_ref *)(m + 1);
	if (m->n_refs)
		memcpy(m->refs, tmpl->refs, m->n_refs * sizeof(*m->refs));
	for (i = 0; i < m->n_refs; i++)
		m->refs[i].target = -1;
	*out = m;
	return 0;
}

int cache__clone(struct model **out, const struct cache_entry *e,
		 struct arena *a, const char *path, struct diag_list *dl)
{
	size_t i;

	*out = NULL;
	if ((path = arena_strdup(a, path)) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < e->n_diags; i++)
		diag_add(dl, e->diags[i].severity, path, e->diags[i].line, "%s",
			 e->diags[i].message);
	if (dl->oom)
		return IL_ENOMEM;
	return e->tmpl ? cache__copy_model(out, e->tmpl, a, path) : 0;
}

int parse_cache_add_parsed(struct parse_cache *c, const void *key,
			   size_t key_len, const struct parsed_file *pf)
{
	struct cache_entry *e;
	int rc;

	if (key_len > PARSE_CACHE_MAX_KEY)
		return IL_EINVALID;
	c->stats.bad_entries += pf->bad_entry;
	if (cached(c, key, key_len) != NULL)
		return 0;     /* parsed twice: keep the first */
	rc = store_entry(c, key, key_len, pf->m, pf->diags, pf->n_diags);
	if (rc < 0)
		return rc;
	e = cached(c, key, key_len);
	if (pf->from_store) {
		c->stats.from_store++;
		return 0;
	}
	c->stats.parsed++;
	/* the caller gives the store pf->entry itself */
	e->unsaved = pf->entry == NULL;
	return 0;
}

int parse_entry_decode(struct parsed_file *out, struct arena *a,
		       const void *data, size_t len)
{
	struct cache_entry e;
	struct model *m;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	if ((rc = cache__decode(&e, a, data, len)) < 0)
		return rc;
	if ((m = e.tmpl) != NULL && m->memo == NULL &&
	    (m->memo = arena_calloc(a, 1, sizeof(*m->memo))) == NULL)
		return IL_ENOMEM;
	out->m = m;
	out->diags = e.diags;
	out->n_diags = e.n_diags;
	out->from_store = 1;
	return 0;
}

/* Encodes e and gives it to the store. */
static int save_entry(struct parse_cache *c, struct cache_entry *e)
{
	int rc = cache__encode(&c->buf, e->tmpl,
			       e->diags, e->n_diags, NULL);

	if (rc < 0)
		return rc;
	if (c->ops->put(c->store, e->key, e->key_len, c->buf.p,
			c->buf.len) < 0)
		return IL_ENOMEM;
	c->stats.stored++;
	return 0;
}

int parse_cache_sync(struct parse_cache *c)
{
	size_t i;
	int rc;

	if (c == NULL || c->ops == NULL)
		return 0;
	for (i = 0; i < c->cap; i++) {
		struct cache_entry *e = c->slots[i].e;
		int memo_changed;

		if (e == NULL)
			continue;
		memo_changed = e->tmpl && e->tmpl->memo->changed;
		if (!e->unsaved && !memo_changed)
			continue;
		if ((rc = save_entry(c, e)) < 0)
			return rc;
		e->unsaved = 0;
		if (e->tmpl)
			e->tmpl->memo->changed = 0;
	}
	return 0;
}

/*
 * A ref written as the full schema.name resolves to that name or to
 * nothing, so the guessed hash holds; a short one may resolve otherwise,
 * and then the canonical body (copied into a) saves lexing it again.
 */
static int keep_canon(struct model *m, struct arena *a)
{
	size_t k;
	char *text;

	if (m->canon.state != CANON_OK)
		return 0;
	for (k = 0; k < m->n_refs; k++)
		if (strchr(m->refs[k].name, '.') == NULL)
			break;
	if (k < m->n_refs) {
		if ((text = arena_alloc(a, m->canon.len + 1)) == NULL)
			return IL_ENOMEM;
		memcpy(text, m->canon.text, m->canon.len);
		text[m->canon.len] = '\0';
		m->canon.text = text;
		return 0;
	}
	m->canon.state = CANON_NONE;
	m->canon.text = NULL;
	m->canon.len = 0;
	return 0;
}

int parse_file(struct parsed_file *out, struct arena *a,
	       struct arena *scratch, struct arena *entries, const char *text,
	       size_t len, int text_is_scratch)
{
	struct entry_buf b = { NULL, 0, 0, 0, 0 };
	struct diag_list dl;
	size_t text_off = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	diag_list_init(&dl, a);
	/* the canonical body serves the hash guessed here and then goes:
	 * a project that resolves a ref otherwise lexes the body again */
	if ((rc = model__parse(&out->m, a, scratch, "", text, len, &dl)) < 0)
		return rc;
	out->diags = dl.items;
	out->n_diags = dl.n;
	if (out->m && (rc = model_prehash(out->m, a, scratch)) < 0)
		return rc;
	if (out->m && (rc = keep_canon(out->m, a)) < 0)
		return rc;
	if (entries == NULL)
		return 0;
	/* the encoding goes through scratch (reset by the caller after each
	 * file), sized for the text and the rest so it is not grown on the
	 * way: no heap buffer per file */
	b.cap = len + 1024 + 64 * dl.n;
	b.borrowed = 1;
	if ((b.p = arena_alloc(scratch, b.cap)) == NULL) {
		b.cap = 0;
		b.borrowed = 0;
	}
	rc = cache__encode(&b, out->m, dl.items, dl.n, &text_off);
	if (rc == 0 && (out->entry = arena_alloc(entries, b.len)) == NULL)
		rc = IL_ENOMEM;
	if (rc == 0) {
		memcpy(out->entry, b.p, b.len);
		out->entry_len = b.len;
	}
	cache__buf_free(&b);
	if (rc == 0 && text_is_scratch && out->m) {
		/* the entry keeps the text: one copy instead of two */
		out->m->body = (const char *)out->entry + text_off +
			(out->m->body - out->m->text);
		out->m->text = (const char *)out->entry + text_off;
	}
	return rc;
}
