/* hash.c: a model's content hash (what runs, not how it is written) */
#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

#include "core/cache_int.h"
#include "core/lexer.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/strbuf.h"

/* Body refs come back in the order the parser recorded them in m->refs,
 * so their resolution is reused instead of searched again (used only
 * when the parser kept no canonical form). */
struct ref_cursor {
	const struct project *p;
	const struct model *m;
	size_t next;
};

static const char *resolve_ref(void *payload, const char *name, size_t len)
{
	struct ref_cursor *rc = payload;
	const struct model_ref *r;
	int i;

	if (rc->next < rc->m->n_refs) {
		r = &rc->m->refs[rc->next++];
		if (!r->from_header && strlen(r->name) == len &&
		    memcmp(r->name, name, len) == 0)
			return r->target >= 0 ? rc->p->models[r->target]->name :
				NULL;
	}
	i = project_resolve(rc->p, name, len);
	return i >= 0 ? rc->p->models[i]->name : NULL;
}

static void add_field(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_adds(sb, key);
	strbuf_addc(sb, '=');
	if (value)
		strbuf_adds(sb, value);
	strbuf_addc(sb, '\n');
}

static void add_list(struct strbuf *sb, const char *key,
		     const struct str_list *l)
{
	size_t i;

	strbuf_adds(sb, key);
	strbuf_addc(sb, '=');
	for (i = 0; i < l->n; i++) {
		if (i)
			strbuf_addc(sb, ',');
		strbuf_adds(sb, l->items[i]);
	}
	strbuf_addc(sb, '\n');
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The dependencies header's names (resolved, else as written), sorted and
 * unique. */
static int header_deps(struct str_list *out, const struct model *m,
		       const char *const *names, struct arena *scratch)
{
	size_t k, n = 0;
	const char **items = arena_calloc(scratch, m->n_refs + 1,
					  sizeof(*items));

	if (items == NULL)
		return IL_ENOMEM;
	for (k = 0; k < m->n_refs; k++) {
		const struct model_ref *r = &m->refs[k];

		if (r->from_header)
			items[n++] = names[k] ? names[k] : r->name;
	}
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_str);
	out->items = items;
	out->n = 0;
	for (k = 0; k < n; k++)
		if (out->n == 0 || strcmp(items[out->n - 1], items[k]) != 0)
			items[out->n++] = items[k];
	return 0;
}

/* The canonical body with each resolved ref spliced in by name. */
static void add_canon(struct strbuf *sb, const struct model *m,
		      const char *const *names)
{
	const struct model_canon *c = &m->canon;
	size_t k, pos = 0;

	for (k = 0; k < m->n_refs && !m->refs[k].from_header; k++) {
		const struct model_ref *r = &m->refs[k];

		if (names[k] == NULL)
			continue;     /* unresolved: kept as written */
		strbuf_add(sb, c->text + pos, r->canon_off - pos);
		strbuf_adds(sb, names[k]);
		pos = r->canon_off + r->canon_len;
	}
	strbuf_add(sb, c->text + pos, c->len - pos);
}

/* The body part of the hash: canonical, raw, or lexed again through p. */
static void add_body(struct strbuf *sb, const struct model *m,
		     const char *const *names, const struct project *p)
{
	struct ref_cursor cursor = { p, m, 0 };
	size_t before = sb->len;
	int rc;

	if (m->canon.state == CANON_OK) {
		add_canon(sb, m, names);
		return;
	}
	rc = m->canon.state == CANON_RAW ? -1 :
		sql_canonical(sb, m->body, m->body_len, resolve_ref, &cursor);
	if (rc == -1 && !sb->failed) {
		/* unlexable: the raw body, after a marker */
		sb->len = before;
		strbuf_adds(sb, "raw:");
		strbuf_add(sb, m->body, m->body_len);
	}
}

/* Room for what compute_hash writes, most often all of it, so the buffer
 * is not grown (and copied) five times per model. */
static int presize(struct strbuf *sb, const struct model *m)
{
	size_t cap = 1024 + 2 * m->body_len + 96 * m->n_refs;

	if (cap > sb->max + 1)
		cap = sb->max + 1;
	if ((sb->buf = arena_alloc(sb->arena, cap)) == NULL)
		return -1;
	sb->cap = cap;
	sb->buf[0] = '\0';
	return 0;
}

/* The hash of m when its refs stand for names (NULL: unresolved). p is
 * needed only for a model without a canonical form. */
static int compute_hash(char out[IL_SHA256_HEX_LEN + 1], const struct model *m,
			const char *const *names, const struct project *p,
			struct arena *scratch)
{
	struct strbuf sb;
	struct str_list deps;
	int rc;

	if ((rc = header_deps(&deps, m, names, scratch)) < 0)
		return rc;
	strbuf_init(&sb, scratch, IL_MAX_CANONICAL_SQL + 64 * 1024);
	if (presize(&sb, m) < 0)
		return IL_ENOMEM;
	strbuf_adds(&sb, "ironlayer-model-v1\n");
	add_field(&sb, "kind", model_kind_name(m->kind));
	add_field(&sb, "materialization",
		  materialization_name(m->materialization));
	add_field(&sb, "time_column", m->time_column);
	add_field(&sb, "unique_key", m->unique_key);
	add_field(&sb, "partition_by", m->partition_by);
	add_list(&sb, "dependencies", &deps);
	add_field(&sb, "contract_mode", contract_mode_name(m->contract_mode));
	add_list(&sb, "contract_columns", &m->contract_columns);
	add_list(&sb, "tests", &m->tests);
	strbuf_adds(&sb, "sql=");
	add_body(&sb, m, names, p);
	if (strbuf_cstr(&sb) == NULL)
		return IL_ETOOBIG;
	crypto_sha256_hex(sb.buf, sb.len, out);
	return 0;
}

static int names_equal(const char *const *a, const char *const *b, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (a[k] == NULL || b[k] == NULL ? a[k] != b[k] :
		    a[k] != b[k] && strcmp(a[k], b[k]) != 0)
			return 0;
	return 1;
}

/* Remembers the names a hash was computed with (copied into a). */
static int memo_store(struct hash_memo *memo, const char *const *names,
		      size_t n, const char *hash, struct arena *a)
{
	const char **copy = arena_calloc(a, n + 1, sizeof(*copy));

	if (copy == NULL)
		return IL_ENOMEM;
	if (n)
		memcpy(copy, names, n * sizeof(*copy));
	memo->resolved = copy;
	memcpy(memo->hash, hash, sizeof(memo->hash));
	memo->valid = 1;
	memo->changed = 1;
	return 0;
}

/*
 * The names m's refs stand for in p (NULL: unresolved), in scratch. A
 * ref written schema.name resolves only to the model of that very name,
 * so its own text is that name: the model is not looked at (with 50,000
 * models, every model read is a cache miss).
 */
static const char **names_in(const struct model *m, const struct project *p,
			     struct arena *scratch)
{
	const char **names = arena_alloc(scratch, (m->n_refs + 1) *
					 sizeof(*names));
	size_t k;

	if (names == NULL)
		return NULL;
	for (k = 0; k < m->n_refs; k++) {
		const struct model_ref *r = &m->refs[k];

		if (r->target < 0)
			names[k] = NULL;
		else if (r->dotted)
			names[k] = r->name;
		else
			names[k] = p->models[r->target]->name;
	}
	return names;
}

int model_content_hash(struct model *m, const struct project *p,
		       struct arena *scratch)
{
	const char **names = names_in(m, p, scratch);
	int rc;

	if (names == NULL)
		return IL_ENOMEM;
	if (m->memo && m->memo->valid &&
	    names_equal(m->memo->resolved, names, m->n_refs)) {
		memcpy(m->content_hash, m->memo->hash, sizeof(m->content_hash));
		return 0;
	}
	if ((rc = compute_hash(m->content_hash, m, names, p, scratch)) < 0)
		return rc;
	return m->memo ? 1 : 0;
}

int model_memo_update(struct model *m, const struct project *p,
		      struct arena *scratch)
{
	const char **names;

	if (m->memo == NULL)
		return 0;
	if ((names = names_in(m, p, scratch)) == NULL)
		return IL_ENOMEM;
	if (m->memo->valid && names_equal(m->memo->resolved, names, m->n_refs) &&
	    strcmp(m->memo->hash, m->content_hash) == 0)
		return 0;
	/* the next copy of this file most likely resolves the same way */
	return memo_store(m->memo, names, m->n_refs, m->content_hash,
			  p->arena);
}

int model_prehash(struct model *m, struct arena *a, struct arena *scratch)
{
	const char **names;
	char hash[IL_SHA256_HEX_LEN + 1];
	size_t k;
	int rc;

	if (m->canon.state == CANON_NONE)
		return 0;
	if (m->memo == NULL &&
	    (m->memo = arena_calloc(a, 1, sizeof(*m->memo))) == NULL)
		return IL_ENOMEM;
	if ((names = arena_calloc(a, m->n_refs + 1, sizeof(*names))) == NULL)
		return IL_ENOMEM;
	for (k = 0; k < m->n_refs; k++)
		names[k] = m->refs[k].name;
	rc = compute_hash(hash, m, names, NULL, scratch);
	if (rc == IL_ETOOBIG)
		return 0;     /* project_finish reports it */
	if (rc < 0)
		return rc;
	m->memo->resolved = names;
	memcpy(m->memo->hash, hash, sizeof(hash));
	m->memo->valid = 1;
	return 0;
}
