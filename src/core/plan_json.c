/* plan_json.c: the canonical plan JSON and the ids hashed from it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/plan_int.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/strbuf.h"

#define JW_MAX_DEPTH 8

/*
 * A minimal writer that emits members in the order it is given them
 * (callers give keys sorted). pretty: 2-space indent, "key": value;
 * compact: no whitespace at all (the form ids are hashed over).
 */
struct jw {
	struct strbuf *sb;
	int pretty;
	int depth;
	int empty[JW_MAX_DEPTH];
};

static void jw_indent(struct jw *w)
{
	int i;

	strbuf_addc(w->sb, '\n');
	for (i = 0; i < w->depth; i++)
		strbuf_add(w->sb, "  ", 2);
}

/* Separator before a member or element. */
static void jw_next(struct jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->empty[w->depth - 1])
		strbuf_addc(w->sb, ',');
	w->empty[w->depth - 1] = 0;
	if (w->pretty)
		jw_indent(w);
}

static void jw_open(struct jw *w, char c)
{
	strbuf_addc(w->sb, c);
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
	strbuf_addc(w->sb, c);
}

static void jw_key(struct jw *w, const char *k)
{
	jw_next(w);
	strbuf_add_json_string(w->sb, k, strlen(k));
	strbuf_add(w->sb, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
}

static void jw_str(struct jw *w, const char *s)
{
	strbuf_add_json_string(w->sb, s, strlen(s));
}

static void jw_int(struct jw *w, long v)
{
	strbuf_addf(w->sb, "%ld", v);
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
	char buf[PLAN_NUMBER_LEN];
	int n = plan_format_number(buf, v);

	if (n < 0) {
		w->sb->failed = 1;
		return;
	}
	strbuf_add(w->sb, buf, (size_t)n);
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

double plan__round6(double x)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.6f", x);
	return strtod(buf, NULL);
}

static const char *run_type_name(enum run_type t)
{
	return t == RUN_INCREMENTAL ? "INCREMENTAL" : "FULL_REFRESH";
}

static void write_violation(struct jw *w, const struct plan_violation *v)
{
	jw_open(w, '{');
	jw_key(w, "actual");
	strbuf_adds(w->sb, "null");
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
		strbuf_adds(w->sb, "null");
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
	jw_str_list(w, "models_removed", p->models_removed.items,
		    p->models_removed.n);
	jw_key(w, "total_steps");
	jw_int(w, (long)p->n_steps);
	jw_str_list(w, "up_to_date", p->up_to_date.items, p->up_to_date.n);
	jw_close(w, '}');
}

static void write_plan(struct jw *w, const struct plan *p, int with_id)
{
	size_t i;

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
	for (i = 0; i < p->n_steps; i++) {
		jw_next(w);
		write_step(w, &p->steps[i], 1);
	}
	jw_close(w, ']');
	write_summary(w, p);
	jw_key(w, "target");
	jw_str(w, p->target);
	jw_close(w, '}');
}

int plan__set_step_id(struct plan_step *s, struct arena *a)
{
	struct strbuf sb;
	struct jw w = { &sb, 0, 0, { 0 } };

	strbuf_init(&sb, a, IL_MAX_PLAN_JSON);
	write_step(&w, s, 0);
	if (strbuf_cstr(&sb) == NULL)
		return IL_ETOOBIG;
	crypto_sha256_hex(sb.buf, sb.len, s->step_id);
	return 0;
}

int plan__set_plan_id(struct plan *p, struct arena *a)
{
	struct strbuf sb;
	struct jw w = { &sb, 0, 0, { 0 } };

	strbuf_init(&sb, a, IL_MAX_PLAN_JSON);
	write_plan(&w, p, 0);
	if (strbuf_cstr(&sb) == NULL)
		return IL_ETOOBIG;
	crypto_sha256_hex(sb.buf, sb.len, p->plan_id);
	return 0;
}

int plan_to_json(const char **out, size_t *len, struct arena *a,
		 const struct plan *p)
{
	struct strbuf sb;
	struct jw w = { &sb, 1, 0, { 0 } };

	*out = NULL;
	*len = 0;
	strbuf_init(&sb, a, IL_MAX_PLAN_JSON);
	write_plan(&w, p, 1);
	strbuf_addc(&sb, '\n');
	if (strbuf_cstr(&sb) == NULL)
		return IL_ETOOBIG;
	*out = sb.buf;
	*len = sb.len;
	return 0;
}
