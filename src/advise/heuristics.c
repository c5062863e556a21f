/* heuristics.c: deterministic per-step cost, risk and suggestions, and the summary */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advise/advise.h"
#include "core/dag.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* Risk levels: a score up to LOW_MAX is low, up to MEDIUM_MAX medium. */
#define LOW_MAX 3
#define MEDIUM_MAX 6
/* Without history the estimate is the planner's, within these factors. */
#define DEFAULT_LOWER 0.25
#define DEFAULT_UPPER 3.0

/* A number printed with a fixed number of decimals: the same bytes everywhere. */
static json_object *num(double v, int decimals)
{
	char text[64];

	if (!isfinite(v))
		v = 0;
	snprintf(text, sizeof(text), "%.*f", decimals, v);
	return json_object_new_double_s(parse_double_or(text, v), text);
}

static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* The p-quantile (0..1) of sorted v by linear interpolation. */
static double quantile(const double *v, size_t n, double p)
{
	double pos = p * (double)(n - 1), frac;
	size_t lo = (size_t)pos;

	if (lo + 1 >= n)
		return v[n - 1];
	frac = pos - (double)lo;
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

static json_object *cost_json(struct arena *a, const struct advise_step *s, double per_sec)
{
	json_object *o = json_object_new_object();
	const struct advise_history *h = &s->history;
	double est, lo, hi, *v = NULL;

	if (h->n_runtimes > 0)
		v = arena_calloc(a, h->n_runtimes, sizeof(*v));
	if (v != NULL) {
		memcpy(v, h->runtimes, h->n_runtimes * sizeof(*v));
		qsort(v, h->n_runtimes, sizeof(*v), by_value);
		est = quantile(v, h->n_runtimes, 0.5);
		lo = h->n_runtimes > 1 ? quantile(v, h->n_runtimes, 0.1) : est * 0.5;
		hi = h->n_runtimes > 1 ? quantile(v, h->n_runtimes, 0.9) : est * 1.5;
	} else {
		est = s->planned_seconds > 0 ? s->planned_seconds : PLAN_DEFAULT_RUNTIME_SECONDS;
		lo = est * DEFAULT_LOWER;
		hi = est * DEFAULT_UPPER;
	}
	json_object_object_add(o, "estimated_runtime_seconds", num(est, 2));
	json_object_object_add(o, "estimated_cost_usd", num(est * per_sec, 6));
	json_object_object_add(o, "lower_usd", num(lo * per_sec, 6));
	json_object_object_add(o, "upper_usd", num(hi * per_sec, 6));
	json_object_object_add(o, "basis", json_object_new_string(v ? "history" : "default"));
	json_object_object_add(o, "sample_size", json_object_new_int64((int64_t)h->n_runtimes));
	return o;
}

/* The models a step's risk is judged on: the model at both commits. */
struct step_models {
	const struct model *target, *base;
	int target_idx, base_idx;
};

static void find_models(struct step_models *m, const struct advise_input *in,
			const char *name)
{
	memset(m, 0, sizeof(*m));
	m->target_idx = in->target ? project_find(in->target, name) : -1;
	m->base_idx = in->base ? project_find(in->base, name) : -1;
	if (m->target_idx >= 0)
		m->target = in->target->models[m->target_idx];
	if (m->base_idx >= 0)
		m->base = in->base->models[m->base_idx];
}

static void factor(json_object *list, int *score, const char *name, int points,
		   const char *detail)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "factor", json_object_new_string(name));
	json_object_object_add(f, "points", json_object_new_int(points));
	json_object_object_add(f, "detail", json_object_new_string(detail ? detail : ""));
	json_object_array_add(list, f);
	*score += points;
}

static void risk_downstream(json_object *l, int *score, struct arena *a,
			    const struct advise_input *in, const struct step_models *m)
{
	struct lineage_entry *down;
	size_t n = 0;

	if (m->target == NULL ||
	    dag_lineage(&down, &n, a, &in->target->dag, m->target_idx, 1, 0) < 0 || n == 0)
		return;
	factor(l, score, "downstream_models", n >= 10 ? 3 : n >= 3 ? 2 : 1,
	       arena_printf(a, "%zu model%s downstream", n, n == 1 ? "" : "s"));
}

static void risk_history(json_object *l, int *score, struct arena *a,
			 const struct advise_step *s)
{
	const struct advise_history *h = &s->history;
	double rate;

	if (h->recent_runs <= 0 || h->recent_failures <= 0)
		return;
	rate = (double)h->recent_failures / (double)h->recent_runs;
	factor(l, score, "recent_failures", rate >= 0.5 ? 3 : rate >= 0.2 ? 2 : 1,
	       arena_printf(a, "%ld of the last %ld runs failed", h->recent_failures,
			    h->recent_runs));
}

static int has_tag(const struct model *m, const char *tag)
{
	size_t i;

	for (i = 0; i < m->tags.n; i++)
		if (strcmp(m->tags.items[i], tag) == 0)
			return 1;
	return 0;
}

static void risk_model(json_object *l, int *score, struct arena *a,
		       const struct advise_step *s, const struct step_models *m)
{
	size_t lines;

	if (m->target == NULL)
		return;
	if (model_kind_incremental(m->target->kind) && s->full_refresh)
		factor(l, score, "full_refresh_of_incremental", 2,
		       "an incremental model is rebuilt from scratch");
	if (has_tag(m->target, "sla") || has_tag(m->target, "critical"))
		factor(l, score, "critical_tag", 2, has_tag(m->target, "sla") ?
		       "tagged sla" : "tagged critical");
	if (m->base == NULL) {
		factor(l, score, "new_model", 1, "the model is new in this plan");
		return;
	}
	lines = advise_line_diff(NULL, a,
				 arena_strndup(a, m->base->body, m->base->body_len),
				 arena_strndup(a, m->target->body, m->target->body_len), 0);
	if (lines >= 10)
		factor(l, score, "sql_change_size", lines >= 50 ? 2 : 1,
		       arena_printf(a, "%zu SQL lines changed", lines));
}

/* Appends "upstream.col" for base columns of upstream u the target lost. */
static int removed_columns(struct strbuf *sb, struct arena *a, const struct model *bu,
			   const struct model *tu)
{
	const char **bc, **tc;
	size_t nb, nt, i, j;
	int found = 0, rc;

	if ((rc = advise_output_columns(&bc, &nb, a, bu)) < 0 ||
	    (rc = advise_output_columns(&tc, &nt, a, tu)) < 0)
		return rc;
	if (nb == (size_t)-1 || nt == (size_t)-1)
		return 0;
	for (i = 0; i < nb; i++) {
		for (j = 0; j < nt && strcmp(bc[i], tc[j]) != 0; j++)
			;
		if (j == nt) {
			strbuf_addf(sb, "%s%s.%s", sb->len ? ", " : "", tu->name, bc[i]);
			found = 1;
		}
	}
	return found;
}

/* Upstream models gone since the base, and columns upstreams no longer produce. */
static int risk_removed(json_object *l, int *score, struct arena *a,
			const struct advise_input *in, const struct step_models *m)
{
	const struct dag *bd, *td;
	struct strbuf sb;
	size_t k;
	int rc;

	if (m->target == NULL || m->base == NULL)
		return 0;
	bd = &in->base->dag;
	td = &in->target->dag;
	strbuf_init(&sb, a, 4096);
	for (k = bd->parent_off[m->base_idx]; k < bd->parent_off[m->base_idx + 1]; k++) {
		const struct model *bu = in->base->models[bd->parent_idx[k]];

		if (project_find(in->target, bu->name) < 0)
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", bu->name);
	}
	for (k = td->parent_off[m->target_idx]; k < td->parent_off[m->target_idx + 1]; k++) {
		const struct model *tu = in->target->models[td->parent_idx[k]];
		int bi = project_find(in->base, tu->name);

		if (bi >= 0 && (rc = removed_columns(&sb, a, in->base->models[bi], tu)) < 0)
			return rc;
	}
	if (sb.len > 0)
		factor(l, score, "removed_upstream", 3,
		       arena_printf(a, "removed upstream: %s",
				    strbuf_cstr(&sb) ? strbuf_cstr(&sb) : "many"));
	return 0;
}

static const char *level_of(int score)
{
	return score <= LOW_MAX ? "low" : score <= MEDIUM_MAX ? "medium" : "high";
}

static int risk_json(json_object **out, int *score_out, struct arena *a,
		     const struct advise_input *in, const struct advise_step *s,
		     const struct step_models *m)
{
	json_object *o, *factors = json_object_new_array();
	int score = 0, rc;

	risk_downstream(factors, &score, a, in, m);
	risk_model(factors, &score, a, s, m);
	risk_history(factors, &score, a, s);
	if ((rc = risk_removed(factors, &score, a, in, m)) < 0) {
		json_object_put(factors);
		return rc;
	}
	if (score > 10)
		score = 10;
	o = json_object_new_object();
	json_object_object_add(o, "score", json_object_new_int(score));
	json_object_object_add(o, "level", json_object_new_string(level_of(score)));
	json_object_object_add(o, "factors", factors);
	*out = o;
	*score_out = score;
	return 0;
}

static int suggestions_json(json_object **out, size_t *count, struct arena *a,
			    const struct step_models *m)
{
	struct advise_finding *f = NULL;
	size_t n = 0, i;
	int rc = m->target ? advise_lint(&f, &n, a, m->target) : 0;

	if (rc < 0)
		return rc;
	*out = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "rule", json_object_new_string(f[i].rule));
		json_object_object_add(o, "message", json_object_new_string(f[i].message));
		json_object_object_add(o, "line", json_object_new_int((int)f[i].line));
		json_object_array_add(*out, o);
	}
	*count += n;
	return 0;
}

/* Running totals for the summary. */
struct totals {
	double cost, lower, upper;
	int top_score;
	const char *top_model;
	long levels[3];
	size_t suggestions, with_history;
};

static double field_double(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static int step_json(json_object **out, struct totals *t, struct arena *a,
		     const struct advise_input *in, const struct advise_step *s)
{
	struct step_models m;
	json_object *o, *cost, *risk = NULL, *sugg = NULL, *change = NULL;
	int score = 0, rc;

	find_models(&m, in, s->model);
	cost = cost_json(a, s, in->cost_per_second);
	if ((rc = risk_json(&risk, &score, a, in, s, &m)) < 0 ||
	    (rc = suggestions_json(&sugg, &t->suggestions, a, &m)) < 0 ||
	    (rc = advise_classify_change(&change, a, in, s)) < 0) {
		json_object_put(cost);
		json_object_put(risk);
		json_object_put(sugg);
		return rc;
	}
	t->cost += field_double(cost, "estimated_cost_usd");
	t->lower += field_double(cost, "lower_usd");
	t->upper += field_double(cost, "upper_usd");
	t->with_history += s->history.n_runtimes > 0;
	t->levels[score <= LOW_MAX ? 0 : score <= MEDIUM_MAX ? 1 : 2]++;
	if (t->top_model == NULL || score > t->top_score) {
		t->top_score = score;
		t->top_model = s->model;
	}
	o = json_object_new_object();
	json_object_object_add(o, "step_id", json_object_new_string(s->step_id));
	json_object_object_add(o, "model", json_object_new_string(s->model));
	json_object_object_add(o, "cost", cost);
	json_object_object_add(o, "risk", risk);
	json_object_object_add(o, "suggestions", sugg);
	json_object_object_add(o, "change", change);
	*out = o;
	return 0;
}

static json_object *summary_json(const struct totals *t, size_t n_steps)
{
	json_object *o = json_object_new_object(), *top = NULL, *counts;

	json_object_object_add(o, "total_steps", json_object_new_int64((int64_t)n_steps));
	json_object_object_add(o, "estimated_cost_usd", num(t->cost, 6));
	json_object_object_add(o, "lower_usd", num(t->lower, 6));
	json_object_object_add(o, "upper_usd", num(t->upper, 6));
	if (t->top_model != NULL) {
		top = json_object_new_object();
		json_object_object_add(top, "score", json_object_new_int(t->top_score));
		json_object_object_add(top, "level",
				       json_object_new_string(level_of(t->top_score)));
		json_object_object_add(top, "model", json_object_new_string(t->top_model));
	}
	json_object_object_add(o, "highest_risk", top);
	counts = json_object_new_object();
	json_object_object_add(counts, "low", json_object_new_int64(t->levels[0]));
	json_object_object_add(counts, "medium", json_object_new_int64(t->levels[1]));
	json_object_object_add(counts, "high", json_object_new_int64(t->levels[2]));
	json_object_object_add(o, "risk_counts", counts);
	json_object_object_add(o, "suggestions", json_object_new_int64((int64_t)t->suggestions));
	json_object_object_add(o, "steps_with_history",
			       json_object_new_int64((int64_t)t->with_history));
	return o;
}

int advise_heuristics(json_object **out, struct arena *a, const struct advise_input *in)
{
	struct totals t;
	json_object *o = json_object_new_object(), *steps = json_object_new_array(), *s;
	size_t i;
	int rc = 0;

	memset(&t, 0, sizeof(t));
	*out = NULL;
	for (i = 0; i < in->n_steps; i++) {
		if ((rc = step_json(&s, &t, a, in, &in->steps[i])) < 0)
			goto out;
		json_object_array_add(steps, s);
	}
	json_object_object_add(o, "summary", summary_json(&t, in->n_steps));
	json_object_object_add(o, "steps", steps);
	steps = NULL; /* owned by o now */
	*out = o;
	o = NULL;
out:
	json_object_put(steps);
	json_object_put(o);
	return rc;
}
