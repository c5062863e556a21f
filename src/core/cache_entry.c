/* cache_entry.c: one parsed file as bytes, for a parse cache that outlives a request */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache_int.h"
#include "core/diag.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/*
 * Layout (little-endian; str = u32 length, the bytes, a NUL, so a reader
 * can point into the entry instead of copying; ostr = u8 present + str;
 * list = u32 count + str each):
 *   u8 has_model; u32 n_diags; each: u32 line, u8 severity, str message
 *   then, with a model:
 *   str text; str name; u32 name_line; u8 kind, materialization,
 *   contract_mode; ostr time_column, unique_key, partition_by, owner;
 *   list tags, contract_columns, tests; u32 lookback_days;
 *   u32 body_off, body_len, body_line; u8 has_errors; u8 raw (the body
 *   does not lex); u32 n_refs; each: str name, u32 line, u8 from_header;
 *   u8 memo_valid; then 64 hex hash and one ostr per ref.
 * The canonical body is not kept: a hash whose refs resolve otherwise
 * than its memo's lexes the body again. Whatever reads an entry back
 * trusts none of it: every length, count, offset and enum is checked, and
 * the model must look like one the parser made.
 */

#define ENTRY_MAX_DIAGS 4096
#define ENTRY_MAX_MESSAGE 1024

/* --- writing ------------------------------------------------------- */

static void put(struct entry_buf *b, const void *p, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *np;

	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		while (cap < b->len + n)
			cap *= 2;
		np = b->borrowed ? malloc(cap) : realloc(b->p, cap);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		if (b->borrowed && b->len)
			memcpy(np, b->p, b->len);
		b->p = np;
		b->cap = cap;
		b->borrowed = 0;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u8(struct entry_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void put_u32(struct entry_buf *b, size_t v)
{
	unsigned char c[4] = {
		(unsigned char)v, (unsigned char)(v >> 8),
		(unsigned char)(v >> 16), (unsigned char)(v >> 24),
	};

	if (v > UINT32_MAX)
		b->failed = 1;
	put(b, c, 4);
}

static void put_bytes(struct entry_buf *b, const char *s, size_t n)
{
	put_u32(b, n);
	put(b, s, n);
	put(b, "", 1);
}

static void put_str(struct entry_buf *b, const char *s)
{
	put_bytes(b, s, strlen(s));
}

static void put_ostr(struct entry_buf *b, const char *s)
{
	put_u8(b, s != NULL);
	if (s)
		put_str(b, s);
}

static void put_list(struct entry_buf *b, const struct str_list *l)
{
	size_t i;

	put_u32(b, l->n);
	for (i = 0; i < l->n; i++)
		put_str(b, l->items[i]);
}

static void put_refs(struct entry_buf *b, const struct model *m)
{
	size_t k;

	put_u32(b, m->n_refs);
	for (k = 0; k < m->n_refs; k++) {
		const struct model_ref *r = &m->refs[k];

		put_str(b, r->name);
		put_u32(b, r->line);
		put_u8(b, r->from_header != 0);
	}
}

static void put_model(struct entry_buf *b, const struct model *m)
{
	const struct hash_memo *memo = m->memo;
	size_t k;

	put_bytes(b, m->text, m->text_len);
	put_str(b, m->name);
	put_u32(b, m->name_line);
	put_u8(b, m->kind);
	put_u8(b, m->materialization);
	put_u8(b, m->contract_mode);
	put_ostr(b, m->time_column);
	put_ostr(b, m->unique_key);
	put_ostr(b, m->partition_by);
	put_ostr(b, m->owner);
	put_list(b, &m->tags);
	put_list(b, &m->contract_columns);
	put_list(b, &m->tests);
	put_u32(b, (size_t)m->lookback_days);
	put_u32(b, (size_t)(m->body - m->text));
	put_u32(b, m->body_len);
	put_u32(b, m->body_line);
	put_u8(b, m->has_errors != 0);
	put_u8(b, m->canon.state == CANON_RAW);
	put_refs(b, m);
	put_u8(b, memo && memo->valid);
	if (memo == NULL || !memo->valid)
		return;
	put(b, memo->hash, IL_SHA256_HEX_LEN);
	for (k = 0; k < m->n_refs; k++)
		put_ostr(b, memo->resolved[k]);
}

int cache__encode(struct entry_buf *b, const struct model *m,
		  const struct diag *diags, size_t n_diags, size_t *text_off)
{
	size_t i;

	b->len = 0;
	b->failed = 0;
	put_u8(b, m != NULL);
	put_u32(b, n_diags);
	for (i = 0; i < n_diags; i++) {
		put_u32(b, diags[i].line);
		put_u8(b, diags[i].severity);
		put_str(b, diags[i].message);
	}
	if (text_off)
		*text_off = b->len + 4;   /* after the text's length */
	if (m)
		put_model(b, m);
	return b->failed ? IL_ENOMEM : 0;
}

void cache__buf_free(struct entry_buf *b)
{
	if (!b->borrowed)
		free(b->p);
	memset(b, 0, sizeof(*b));
}

/* --- reading ------------------------------------------------------- */

struct reader {
	const unsigned char *p;
	size_t len;
	size_t pos;
	int bad;
	struct arena *a;
};

static int get_u8(struct reader *r, unsigned max)
{
	unsigned v;

	if (r->bad || r->pos >= r->len) {
		r->bad = 1;
		return 0;
	}
	v = r->p[r->pos++];
	if (v > max)
		r->bad = 1;
	return (int)v;
}

static size_t get_u32(struct reader *r, size_t max)
{
	const unsigned char *c = r->p + r->pos;
	size_t v;

	if (r->bad || r->len - r->pos < 4) {
		r->bad = 1;
		return 0;
	}
	v = (size_t)c[0] | (size_t)c[1] << 8 | (size_t)c[2] << 16 |
	    (size_t)c[3] << 24;
	r->pos += 4;
	if (v > max)
		r->bad = 1;
	return r->bad ? 0 : v;
}

/* n bytes and the NUL after them, in place; NULL when bad. */
static const char *get_raw(struct reader *r, size_t n)
{
	const char *s = (const char *)r->p + r->pos;

	if (r->bad || r->len - r->pos <= n || s[n] != '\0') {
		r->bad = 1;
		return NULL;
	}
	r->pos += n + 1;
	return s;
}

/* A C string (no NUL inside) of at most max bytes. */
static const char *get_str(struct reader *r, size_t max)
{
	size_t n = get_u32(r, max);
	const char *s = get_raw(r, n);

	if (s && memchr(s, '\0', n) != NULL)
		r->bad = 1;
	return r->bad ? NULL : s;
}

static const char *get_ostr(struct reader *r, size_t max)
{
	return get_u8(r, 1) ? get_str(r, max) : NULL;
}

static void get_list(struct reader *r, struct str_list *l)
{
	size_t i;

	l->n = get_u32(r, IL_MAX_LIST_ITEMS);
	l->items = NULL;     /* as the parser leaves an absent header */
	if (l->n == 0 || r->bad)
		return;
	if ((l->items = arena_alloc(r->a, l->n * sizeof(*l->items))) == NULL) {
		r->bad = 1;
		l->n = 0;
		return;
	}
	for (i = 0; i < l->n && !r->bad; i++)
		l->items[i] = get_str(r, IL_MAX_HEADER_VALUE);
}

static int get_diags(struct reader *r, struct cache_entry *e)
{
	size_t i;

	e->n_diags = get_u32(r, ENTRY_MAX_DIAGS);
	e->diags = NULL;     /* none, most often */
	if (r->bad)
		return -1;
	if (e->n_diags && (e->diags = arena_calloc(r->a, e->n_diags,
						   sizeof(*e->diags))) == NULL)
		return -1;
	for (i = 0; i < e->n_diags && !r->bad; i++) {
		e->diags[i].file = "";
		e->diags[i].line = (unsigned)get_u32(r, UINT32_MAX);
		e->diags[i].severity = (enum diag_severity)get_u8(r, DIAG_WARNING);
		e->diags[i].message = get_str(r, ENTRY_MAX_MESSAGE);
	}
	return r->bad ? -1 : 0;
}

/* Each contract column is "name:TYPE[:NOT_NULL]" (the planner splits it). */
static int columns_ok(const struct str_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strchr(l->items[i], ':') == NULL)
			return 0;
	return 1;
}

/* Body refs come first, then the dependencies header's. */
static int refs_ok(const struct model *m)
{
	size_t k;
	int header = 0;

	for (k = 0; k < m->n_refs; k++) {
		const struct model_ref *r = &m->refs[k];

		if (r->name[0] == '\0' || (header && !r->from_header))
			return 0;
		header = r->from_header;
	}
	return 1;
}

static void get_refs(struct reader *r, struct model *m)
{
	size_t k;

	m->n_refs = get_u32(r, IL_MAX_REFS + IL_MAX_LIST_ITEMS);
	m->refs = r->bad ? NULL : arena_calloc(r->a, m->n_refs ? m->n_refs : 1,
						sizeof(*m->refs));
	if (m->refs == NULL) {
		r->bad = 1;
		m->n_refs = 0;
		return;
	}
	for (k = 0; k < m->n_refs && !r->bad; k++) {
		struct model_ref *ref = &m->refs[k];

		ref->name = get_str(r, IL_MAX_HEADER_VALUE);
		ref->line = (unsigned)get_u32(r, UINT32_MAX);
		ref->from_header = get_u8(r, 1);
		ref->target = -1;
		ref->dotted = ref->name && strchr(ref->name, '.') != NULL;
	}
}

/* 1 when s is n lower-case hex digits, as crypto_sha256_hex writes. */
static int lower_hex(const char *s, size_t n)
{
	unsigned bad = 0;
	size_t i;

	/* no early exit: a loop the compiler can run 16 bytes at a time */
	for (i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];

		bad |= (c - '0' > 9u) & (c - 'a' > 5u);
	}
	return bad == 0;
}

/* The 64 hex digits of a hash (no NUL after them). */
static const char *get_hash(struct reader *r)
{
	const char *s = (const char *)r->p + r->pos;

	if (r->bad || r->len - r->pos < IL_SHA256_HEX_LEN) {
		r->bad = 1;
		return NULL;
	}
	r->pos += IL_SHA256_HEX_LEN;
	return s;
}

static void get_memo(struct reader *r, struct model *m)
{
	struct hash_memo *memo;
	const char *hash;
	size_t k;

	if (!get_u8(r, 1) || r->bad)
		return;
	memo = arena_calloc(r->a, 1, sizeof(*memo));
	hash = get_hash(r);
	if (memo == NULL || hash == NULL) {
		r->bad = 1;
		return;
	}
	memcpy(memo->hash, hash, IL_SHA256_HEX_LEN);
	memo->hash[IL_SHA256_HEX_LEN] = '\0';
	if (!lower_hex(memo->hash, IL_SHA256_HEX_LEN) ||
	    (memo->resolved = arena_alloc(r->a, (m->n_refs + 1) *
					  sizeof(*memo->resolved))) == NULL) {
		r->bad = 1;
		return;
	}
	for (k = 0; k < m->n_refs && !r->bad; k++) {
		const char *name = get_ostr(r, IL_MAX_HEADER_VALUE);

		/* most often the ref's own text: the same pointer then, so
		 * a project's check of the memo compares no strings */
		if (name && m->refs[k].name && strcmp(name, m->refs[k].name) == 0)
			name = m->refs[k].name;
		memo->resolved[k] = name;
	}
	memo->valid = 1;
	m->memo = memo;
}

static void get_header(struct reader *r, struct model *m)
{
	m->name = get_str(r, IL_MAX_MODEL_NAME);
	m->name_line = (unsigned)get_u32(r, UINT32_MAX);
	m->kind = (enum model_kind)get_u8(r, KIND_MERGE_BY_KEY);
	m->materialization = (enum materialization)get_u8(r, MAT_MERGE);
	m->contract_mode = (enum contract_mode)get_u8(r, CONTRACT_STRICT);
	m->time_column = get_ostr(r, IL_MAX_HEADER_VALUE);
	m->unique_key = get_ostr(r, IL_MAX_HEADER_VALUE);
	m->partition_by = get_ostr(r, IL_MAX_HEADER_VALUE);
	m->owner = get_ostr(r, IL_MAX_HEADER_VALUE);
	get_list(r, &m->tags);
	get_list(r, &m->contract_columns);
	get_list(r, &m->tests);
	m->lookback_days = (long)get_u32(r, IL_MAX_LOOKBACK_DAYS);
}

static struct model *get_model(struct reader *r)
{
	struct model *m = arena_calloc(r->a, 1, sizeof(*m));
	size_t body_off;

	if (m == NULL)
		return NULL;
	m->text_len = get_u32(r, IL_MAX_SQL_FILE);
	m->text = get_raw(r, m->text_len);   /* the lexer copes with any bytes */
	get_header(r, m);
	body_off = get_u32(r, m->text_len);
	m->body_len = get_u32(r, m->text_len - body_off);
	m->body = m->text ? m->text + body_off : NULL;
	m->body_line = (unsigned)get_u32(r, UINT32_MAX);
	m->has_errors = get_u8(r, 1);
	m->canon.state = get_u8(r, 1) ? CANON_RAW : CANON_NONE;
	get_refs(r, m);
	get_memo(r, m);
	if (r->bad || !model_name_valid(m->name) || m->body_line == 0 ||
	    !columns_ok(&m->contract_columns) || !refs_ok(m))
		return NULL;
	return m;
}

int cache__decode(struct cache_entry *e, struct arena *a, const void *data,
		  size_t len)
{
	struct reader r = { data, len, 0, 0, a };
	int has_model = get_u8(&r, 1);

	if (get_diags(&r, e) < 0)
		return IL_EINVALID;
	e->tmpl = NULL;
	if (has_model && (e->tmpl = get_model(&r)) == NULL)
		return IL_EINVALID;
	return r.bad || r.pos != r.len ? IL_EINVALID : 0;
}
