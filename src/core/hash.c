/* hash.c: a model's content hash (what runs, not how it is written) */
#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

#include "core/lexer.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/strbuf.h"

static const char *resolve_ref(void *payload, const char *name, size_t len)
{
	const struct project *p = payload;
	int i = project_resolve(p, name, len);

	return i >= 0 ? p->models[i]->name : NULL;
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

int model_content_hash(struct model *m, const struct project *p,
		       struct arena *scratch)
{
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
	rc = sql_canonical(&sb, m->body, m->body_len, resolve_ref, (void *)p);
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
