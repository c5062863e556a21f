/* plan_json.c: the canonical plan JSON and the ids hashed from it */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/plan_int.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"

#define JW_MAX_DEPTH 8

/*
 * A minimal writer that emits members in the order it is given them
 * (callers give keys sorted). pretty: 2-space indent, "key": value;
 * compact: no whitespace at all (the form ids are hashed over). It writes
 * into a malloc'd buffer that realloc grows in place: a plan of 50,000
 * steps is tens of MiB, and an arena would keep every smaller copy.
 */
struct jw {
	struct plan_buf *b;
	int pretty;
	int depth;
	int empty[JW_MAX_DEPTH];
};

static int jw_grow(struct plan_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->failed || n > IL_MAX_PLAN_JSON - b->len) {
		b->failed = 1;
		return -1;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline void jw_put(struct jw *w, const char *s, size_t n)
{
	struct plan_buf *b = w->b;

	if (b->len + n + 1 > b->cap && jw_grow(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void jw_putc(struct jw *w, char c)
{
	jw_put(w, &c, 1);
}

static void jw_indent(struct jw *w)
{
	static const char spaces[2 * JW_MAX_DEPTH + 1] = "\n                ";
	int d = w->depth < JW_MAX_DEPTH ? w->depth : JW_MAX_DEPTH;

	jw_put(w, spaces, 1 + 2 * (size_t)d);
}

/* Separator before a member or element. */
static void jw_next(struct jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->empty[w->depth - 1])
		jw_putc(w, ',');
	w->empty[w->depth - 1] = 0;
	if (w->pretty)
		jw_indent(w);
}

static void jw_open(struct jw *w, char c)
{
	jw_putc(w, c);
	if (w->depth < JW_MAX_DEPTH)
		w->empty[w->depth] = 1;
	w->depth++;
}

static void jw_close(struct jw *w, char c)
{
	int was_empty = w->empty[w->depth - 1];

	w->depth--;
	if (w->pretty && !was_empty)
		jw_indent(w);
	jw_putc(w, c);
}

/* A string that needs an escape somewhere, byte by byte. */
static void jw_str_escaped(struct jw *w, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		char e[6] = { '\\', (char)c, 0, 0, 0, 0 };

		if (c == '"' || c == '\\') {
			jw_put(w, e, 2);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			jw_put(w, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			e[1] = 'u';
			e[2] = e[3] = '0';
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			jw_put(w, e, 6);
		} else {
			jw_putc(w, (char)c);
		}
	}
}

/* 1 when none of the 8 bytes at p needs escaping (a control byte, '"',
 * '\\', DEL), tested a word at a time. */
static int plain8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t x, q, b, d, low;

	memcpy(&x, p, 8);
	low = (x - ones * 0x20) & ~x & highs;
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	d = x ^ (ones * 0x7f);
	q = (q - ones) & ~q & highs;
	b = (b - ones) & ~b & highs;
	d = (d - ones) & ~d & highs;
	return (low | q | b | d) == 0;
}

/* Escapes as strbuf_add_json_string: " \\ \\n \\r \\t, other controls and
 * DEL as \\u00XX; most strings (names, ids) need none and go in one copy. */
static void jw_str(struct jw *w, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = strlen(s);

	while (i + 8 <= n && plain8(s + i))
		i += 8;
	for (; i < n; i++)
		if (u[i] < 0x20 || u[i] == '"' || u[i] == '\\' || u[i] == 0x7f)
			break;
	jw_putc(w, '"');
	jw_put(w, s, i);
	if (i < n)
		jw_str_escaped(w, u + i, n - i);
	jw_putc(w, '"');
}

/* Keys are our own words: nothing to escape. */
static inline void jw_key(struct jw *w, const char *k)
{
	jw_next(w);
	jw_putc(w, '"');
	/* keys are literals: their length is known at compile time */
	jw_put(w, k, __builtin_strlen(k));
	jw_put(w, w->pretty ? "\": " : "\":", w->pretty ? 3 : 2);
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

static void jw_int(struct jw *w, long v)
{
	char buf[24];
	size_t i = sizeof(buf);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[--i] = '-';
	jw_put(w, buf + i, sizeof(buf) - i);
}

int plan_format_number(char *out, double v)
{
	int n = snprintf(out, PLAN_NUMBER_LEN, "%.6f", v);

	if (n < 0 || n >= PLAN_NUMBER_LEN)
		return -1;
	while (n > 2 && out[n - 1] == '0' && out[n - 2] != '.')
		out[--n] = '\0';
	return n;
}

static void jw_num(struct jw *w, double v)
{
	struct plan_buf *b = w->b;
	char buf[PLAN_NUMBER_LEN];
	int i, n;

	/* a plan repeats a few values (300.0, 0.21): formatted once */
	for (i = 0; i < b->n_num; i++)
		if (b->num[i] == v) {
			jw_put(w, b->num_text[i], b->num_len[i]);
			return;
		}
	n = plan_format_number(buf, v);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	jw_put(w, buf, (size_t)n);
	if ((size_t)n < sizeof(b->num_text[0])) {
		i = b->n_num < PLAN_NUM_CACHE ? b->n_num++ : PLAN_NUM_CACHE - 1;
		b->num[i] = v;
		memcpy(b->num_text[i], buf, (size_t)n);
		b->num_len[i] = (size_t)n;
	}
}

static void jw_str_list(struct jw *w, const char *key, const char *const *items,
			size_t n)
{
	size_t i;

	jw_key(w, key);
	jw_open(w, '[');
	for (i = 0; i < n; i++) {
		jw_next(w);
		jw_str(w, items[i]);
	}
	jw_close(w, ']');
}

static void jw_init(struct jw *w, struct plan_buf *b, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->pretty = pretty;
}

void plan__buf_free(struct plan_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

double plan__round6(double x)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.6f", x);
	return parse_double_or(buf, x);   /* x itself when it is not finite */
}

static const char *run_type_name(enum run_type t)
{
	return t == RUN_INCREMENTAL ? "INCREMENTAL" : "FULL_REFRESH";
}

static void write_violation(struct jw *w, const struct plan_violation *v)
{
	jw_open(w, '{');
	jw_key(w, "actual");
	jw_lit(w, "null");
	jw_key(w, "column_name");
	jw_str(w, v->column_name);
	jw_key(w, "expected");
	jw_str(w, v->expected);
	jw_key(w, "message");
	jw_str(w, v->message);
	jw_key(w, "severity");
	jw_str(w, v->severity);
	jw_key(w, "violation_type");
	jw_str(w, v->violation_type);
	jw_close(w, '}');
}

static void write_step(struct jw *w, const struct plan_step *s, int with_id)
{
	size_t i;

	jw_open(w, '{');
	jw_key(w, "contract_violations");
	jw_open(w, '[');
	for (i = 0; i < s->n_violations; i++) {
		jw_next(w);
		write_violation(w, &s->violations[i]);
	}
	jw_close(w, ']');
	jw_str_list(w, "depends_on", s->depends_on, s->n_depends_on);
	jw_key(w, "estimated_compute_seconds");
	jw_num(w, s->compute_seconds);
	jw_key(w, "estimated_cost_usd");
	jw_num(w, s->cost_usd);
	jw_key(w, "input_range");
	if (s->has_range) {
		jw_open(w, '{');
		jw_key(w, "end");
		jw_str(w, s->end);
		jw_key(w, "start");
		jw_str(w, s->start);
		jw_close(w, '}');
	} else {
		jw_lit(w, "null");
	}
	jw_key(w, "model");
	jw_str(w, s->model);
	jw_key(w, "parallel_group");
	jw_int(w, s->parallel_group);
	jw_key(w, "reason");
	jw_str(w, s->reason);
	jw_key(w, "run_type");
	jw_str(w, run_type_name(s->run_type));
	if (with_id) {
		jw_key(w, "step_id");
		jw_str(w, s->step_id);
	}
	jw_close(w, '}');
}

static void write_summary(struct jw *w, const struct plan *p)
{
	long all = 0, breaking = 0;
	size_t i, k;

	for (i = 0; i < p->n_steps; i++)
		for (k = 0; k < p->steps[i].n_violations; k++) {
			all++;
			breaking += strcmp(p->steps[i].violations[k].severity, "BREAKING") == 0;
		}
	jw_key(w, "summary");
	jw_open(w, '{');
	jw_key(w, "breaking_contract_violations");
	jw_int(w, breaking);
	jw_key(w, "contract_violations_count");
	jw_int(w, all);
	jw_str_list(w, "cosmetic_changes_skipped",
		    p->cosmetic_changes_skipped.items,
		    p->cosmetic_changes_skipped.n);
	jw_key(w, "estimated_cost_usd");
	jw_num(w, p->estimated_cost_usd);
	jw_str_list(w, "metadata_changes", p->metadata_changes.items,
		    p->metadata_changes.n);
	jw_str_list(w, "models_added", p->models_added.items,
		    p->models_added.n);
	jw_str_list(w, "models_changed", p->models_changed.items,
		    p->models_changed.n);
	jw_str_list(w, "models_modified", p->models_modified.items,
		    p->models_modified.n);
	jw_str_list(w, "models_removed", p->models_removed.items,
		    p->models_removed.n);
	jw_key(w, "total_steps");
	jw_int(w, (long)p->n_steps);
	jw_str_list(w, "up_to_date", p->up_to_date.items, p->up_to_date.n);
	jw_close(w, '}');
}

/* The plan up to the opening of its steps array. */
static void write_plan_head(struct jw *w, const struct plan *p, int with_id)
{
	jw_open(w, '{');
	jw_key(w, "as_of");
	jw_str(w, p->as_of);
	jw_key(w, "base");
	jw_str(w, p->base);
	jw_key(w, "environment");
	jw_str(w, p->environment);
	if (with_id) {
		jw_key(w, "plan_id");
		jw_str(w, p->plan_id);
	}
	jw_key(w, "steps");
	jw_open(w, '[');
}

/* From the end of the steps array to the end. */
static void write_plan_tail(struct jw *w, const struct plan *p)
{
	jw_close(w, ']');
	write_summary(w, p);
	jw_key(w, "target");
	jw_str(w, p->target);
	jw_close(w, '}');
}

static void write_plan(struct jw *w, const struct plan *p, int with_id)
{
	size_t i;

	write_plan_head(w, p, with_id);
	for (i = 0; i < p->n_steps; i++) {
		jw_next(w);
		write_step(w, &p->steps[i], 1);
	}
	write_plan_tail(w, p);
}

int plan__set_step_id(struct plan_step *s, struct plan_buf *scratch)
{
	struct jw w;

	scratch->len = 0;
	jw_init(&w, scratch, 0);
	write_step(&w, s, 0);
	if (scratch->failed)
		return IL_ETOOBIG;
	crypto_sha256_hex(scratch->p, scratch->len, s->step_id);
	return 0;
}

/*
 * plan_id is the SHA-256 of the compact plan without plan_id, hashed as it
 * is made: the head when the plan starts, each step as its id is known
 * (the compact step just written for its id, with the id added as its
 * last key), the summary at the end. So the steps are not written a
 * second time for the plan's id.
 */
static int feed(struct plan_hasher *h)
{
	int rc = h->b.failed ? -1 : crypto_sha256_add(h->sha, h->b.p, h->b.len);

	h->b.len = 0;
	return rc;
}

int plan__hash_begin(struct plan_hasher *h, const struct plan *p)
{
	struct jw w;

	memset(h, 0, sizeof(*h));
	if ((h->sha = crypto_sha256_begin()) == NULL)
		return IL_ENOMEM;
	jw_init(&w, &h->b, 0);
	write_plan_head(&w, p, 0);
	return feed(h) < 0 ? IL_ENOMEM : 0;
}

int plan__hash_step(struct plan_hasher *h, const struct plan_buf *step,
		    const char *step_id)
{
	static const char key[] = ",\"step_id\":\"";
	int rc = 0;

	if (step->failed || step->len == 0)
		return IL_ETOOBIG;
	if (h->n_steps++ > 0)
		rc |= crypto_sha256_add(h->sha, ",", 1);
	rc |= crypto_sha256_add(h->sha, step->p, step->len - 1); /* no '}' */
	rc |= crypto_sha256_add(h->sha, key, sizeof(key) - 1);
	rc |= crypto_sha256_add(h->sha, step_id, IL_SHA256_HEX_LEN);
	rc |= crypto_sha256_add(h->sha, "\"}", 2);
	return rc ? IL_ENOMEM : 0;
}

int plan__hash_end(struct plan_hasher *h, struct plan *p)
{
	struct jw w;
	int rc;

	jw_init(&w, &h->b, 0);
	/* inside the plan object and its steps array */
	w.depth = 2;
	w.empty[1] = h->n_steps == 0;
	write_plan_tail(&w, p);
	rc = feed(h);
	if (crypto_sha256_end_hex(h->sha, p->plan_id) < 0)
		rc = -1;
	h->sha = NULL;
	plan__buf_free(&h->b);
	return rc < 0 ? IL_ENOMEM : 0;
}

void plan__hash_abort(struct plan_hasher *h)
{
	char unused[IL_SHA256_HEX_LEN + 1];

	if (h->sha)
		crypto_sha256_end_hex(h->sha, unused);
	h->sha = NULL;
	plan__buf_free(&h->b);
}

int plan_to_json(const char **out, size_t *len, struct arena *a,
		 const struct plan *p)
{
	struct plan_buf b;
	struct jw w;

	*out = NULL;
	*len = 0;
	memset(&b, 0, sizeof(b));
	jw_init(&w, &b, 1);
	write_plan(&w, p, 1);
	jw_putc(&w, '\n');
	if (b.failed) {
		plan__buf_free(&b);
		return IL_ETOOBIG;
	}
	b.p[b.len] = '\0';
	/* the text lives as long as the arena */
	if (arena_on_reset(a, free, b.p) < 0)
		return IL_ENOMEM;
	*out = b.p;
	*len = b.len;
	return 0;
}
