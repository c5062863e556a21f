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
 * so their resolution is reused instead of searched again. */
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

/* The resolved names of the dependencies header, sorted and unique. */
static int header_deps(struct str_list *out, const struct model *m,
		       const struct project *p, struct arena *scratch)
{
	size_t k, n = 0;
	const char **items = arena_calloc(scratch, m->n_refs + 1,
					  sizeof(*items));

	if (items == NULL)
		return IL_ENOMEM;
	for (k = 0; k < m->n_refs; k++) {
		const struct model_ref *r = &m->refs[k];

		if (r->from_header)
			items[n++] = r->target >= 0 ?
				p->models[r->target]->name : r->name;
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

static const char *resolved_name(const struct model_ref *r,
				 const struct project *p)
{
	return r->target >= 0 ? p->models[r->target]->name : NULL;
}

/* 1 when m's refs resolve to the names the memo was computed with. */
static int memo_matches(const struct hash_memo *memo, const struct model *m,
			const struct project *p)
{
	size_t k;

	for (k = 0; k < m->n_refs; k++) {
		const char *a = memo->resolved[k];
		const char *b = resolved_name(&m->refs[k], p);

		if (a == NULL || b == NULL ? a != b : strcmp(a, b) != 0)
			return 0;
	}
	return 1;
}

static int memo_store(struct hash_memo *memo, const struct model *m,
		      const struct project *p)
{
	size_t k;

	memo->resolved = arena_calloc(p->arena, m->n_refs + 1,
				      sizeof(*memo->resolved));
	if (memo->resolved == NULL)
		return IL_ENOMEM;
	for (k = 0; k < m->n_refs; k++)
		memo->resolved[k] = resolved_name(&m->refs[k], p);
	memcpy(memo->hash, m->content_hash, sizeof(memo->hash));
	memo->valid = 1;
	return 0;
}

static int compute_hash(struct model *m, const struct project *p,
			struct arena *scratch);

int model_content_hash(struct model *m, const struct project *p,
		       struct arena *scratch)
{
	int rc;

	if (m->memo && m->memo->valid && memo_matches(m->memo, m, p)) {
		memcpy(m->content_hash, m->memo->hash, sizeof(m->content_hash));
		return 0;
	}
	if ((rc = compute_hash(m, p, scratch)) < 0)
		return rc;
	return m->memo && !m->memo->valid ? memo_store(m->memo, m, p) : 0;
}

static int compute_hash(struct model *m, const struct project *p,
			struct arena *scratch)
{
	struct ref_cursor cursor;
	struct strbuf sb;
	struct str_list deps;
	size_t before;
	int rc;

	if ((rc = header_deps(&deps, m, p, scratch)) < 0)
		return rc;
	strbuf_init(&sb, scratch, IL_MAX_CANONICAL_SQL + 64 * 1024);
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
	before = sb.len;
	cursor.p = p;
	cursor.m = m;
	cursor.next = 0;
	rc = sql_canonical(&sb, m->body, m->body_len, resolve_ref, &cursor);
	if (rc == -1 && !sb.failed) {
		/* unlexable: the raw body, after a marker */
		sb.len = before;
		strbuf_adds(&sb, "raw:");
		strbuf_add(&sb, m->body, m->body_len);
	}
	if (strbuf_cstr(&sb) == NULL)
		return IL_ETOOBIG;
	crypto_sha256_hex(sb.buf, sb.len, m->content_hash);
	return 0;
}
