/* plan.c: the interval planner: affected set, order, ranges, costs */
#include "core/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/diff.h"
#include "core/plan_int.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"

struct wm {
	const char *model;
	long end;
};

struct planner {
	struct arena *a;
	const struct project *t;
	const struct plan_inputs *in;
	struct plan *plan;
	struct diff diff;
	long as_of;
	struct wm *wms;
	const struct plan_runtimes **rts;
	unsigned char *affected;
	unsigned char *emitted;
	int **eff;            /* nearest emitted affected ancestors */
	size_t *n_eff;
	int *group;
	int *step_of;         /* node -> step index, or -1 */
	int *near;            /* nearest directly changed ancestor (or self) */
	int *near_dist;       /* its distance in edges */
	const char **reasons; /* "downstream of <model>", made once per model */
	int *queue;
	struct plan_buf step_json;   /* scratch for step ids */
	struct plan_hasher id;       /* the plan_id, hashed as steps come */
	double round_in[2], round_out[2];   /* plan__round6 of recent values */
};

void plan_inputs_init(struct plan_inputs *in)
{
	memset(in, 0, sizeof(*in));
	in->environment = PLAN_DEFAULT_ENVIRONMENT;
	in->default_lookback_days = PLAN_DEFAULT_LOOKBACK_DAYS;
	in->cost_per_compute_second = PLAN_DEFAULT_COST_PER_SECOND;
}

static int wm_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct wm *)pa)->model,
		      ((const struct wm *)pb)->model);
}

static int rt_cmp(const void *pa, const void *pb)
{
	return strcmp((*(const struct plan_runtimes *const *)pa)->model,
		      (*(const struct plan_runtimes *const *)pb)->model);
}

static int check_watermarks(struct planner *pl, const char **err)
{
	const struct plan_inputs *in = pl->in;
	size_t i;

	pl->wms = arena_calloc(pl->a, in->n_watermarks + 1, sizeof(*pl->wms));
	if (pl->wms == NULL)
		return IL_ENOMEM;
	for (i = 0; i < in->n_watermarks; i++) {
		pl->wms[i].model = in->watermarks[i].model;
		if (pl->wms[i].model == NULL ||
		    date_parse(in->watermarks[i].end, &pl->wms[i].end) < 0) {
			*err = "invalid watermark: expected a model name and a "
			       "YYYY-MM-DD end date";
			return IL_EINVALID;
		}
	}
	if (in->n_watermarks > 1)
		qsort(pl->wms, in->n_watermarks, sizeof(*pl->wms), wm_cmp);
	for (i = 1; i < in->n_watermarks; i++)
		if (strcmp(pl->wms[i - 1].model, pl->wms[i].model) == 0) {
			*err = arena_printf(pl->a, "two watermarks for model "
					    "'%s'", pl->wms[i].model);
			return IL_EINVALID;
		}
	return 0;
}

static int runtimes_valid(const struct plan_runtimes *r)
{
	size_t k;

	if (r->model == NULL || r->n > IL_MAX_RUNTIMES ||
	    (r->n && r->seconds == NULL))
		return 0;
	for (k = 0; k < r->n; k++)
		if (!isfinite(r->seconds[k]) || r->seconds[k] < 0 ||
		    r->seconds[k] > 1e9)
			return 0;
	return 1;
}

static int check_runtimes(struct planner *pl, const char **err)
{
	const struct plan_inputs *in = pl->in;
	size_t i;

	pl->rts = arena_calloc(pl->a, in->n_runtimes + 1, sizeof(*pl->rts));
	if (pl->rts == NULL)
		return IL_ENOMEM;
	for (i = 0; i < in->n_runtimes; i++) {
		if (!runtimes_valid(&in->runtimes[i])) {
			*err = "invalid run history: expected up to 1000 "
			       "runtimes in seconds, each from 0 to 1e9";
			return IL_EINVALID;
		}
		pl->rts[i] = &in->runtimes[i];
	}
	if (in->n_runtimes > 1)
		qsort(pl->rts, in->n_runtimes, sizeof(*pl->rts), rt_cmp);
	for (i = 1; i < in->n_runtimes; i++)
		if (strcmp(pl->rts[i - 1]->model, pl->rts[i]->model) == 0) {
			*err = arena_printf(pl->a, "two run histories for "
					    "model '%s'", pl->rts[i]->model);
			return IL_EINVALID;
		}
	return 0;
}

static int env_valid(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
		      || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

static int check_inputs(struct planner *pl, const char **err)
{
	const struct plan_inputs *in = pl->in;
	int rc;

	*err = NULL;
	if (!in->base || !in->target || !is_hex_string(in->base, 40, 40) ||
	    !is_hex_string(in->target, 40, 40))
		*err = "base and target must be 40-hex commit ids";
	else if (!env_valid(in->environment))
		*err = "environment must be 1-64 of [A-Za-z0-9_.-]";
	else if (date_parse(in->as_of, &pl->as_of) < 0)
		*err = "as_of must be a date written YYYY-MM-DD";
	else if (in->default_lookback_days < 1 ||
		 in->default_lookback_days > IL_MAX_LOOKBACK_DAYS)
		*err = "default lookback must be from 1 to 3650 days";
	else if (!isfinite(in->cost_per_compute_second) ||
		 in->cost_per_compute_second < 0 ||
		 in->cost_per_compute_second > 1e6)
		*err = "cost per compute second must be from 0 to 1e6";
	if (*err)
		return IL_EINVALID;
	if ((rc = check_watermarks(pl, err)) < 0)
		return rc;
	return check_runtimes(pl, err);
}

static const struct wm *find_wm(const struct planner *pl, const char *model)
{
	struct wm key = { model, 0 };

	return bsearch(&key, pl->wms, pl->in->n_watermarks, sizeof(key),
		       wm_cmp);
}

static int dbl_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

/* Median of the model's runtimes, or the default estimate. */
static double estimate_seconds(struct planner *pl, const char *model)
{
	struct plan_runtimes key = { model, NULL, 0 }, *kp = &key;
	const struct plan_runtimes **r;
	double *v;
	size_t n;

	r = bsearch(&kp, pl->rts, pl->in->n_runtimes, sizeof(kp), rt_cmp);
	if (r == NULL || (*r)->n == 0)
		return PLAN_DEFAULT_RUNTIME_SECONDS;
	n = (*r)->n;
	v = arena_calloc(pl->a, n, sizeof(*v));
	if (v == NULL)
		return PLAN_DEFAULT_RUNTIME_SECONDS;
	memcpy(v, (*r)->seconds, n * sizeof(*v));
	qsort(v, n, sizeof(*v), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Run type and range of an affected model; returns 0 when its range is
 * empty (nothing to do), else 1.
 */
static int decide_range(struct planner *pl, int v, struct plan_step *s)
{
	const struct model *m = pl->t->models[v];
	int added = pl->diff.target_kind[v] == CHANGE_ADDED;
	long lookback = m->lookback_days ? m->lookback_days :
		pl->in->default_lookback_days;
	long start = pl->as_of - lookback;
	const struct wm *w = added ? NULL : find_wm(pl, m->name);

	s->run_type = RUN_FULL_REFRESH;
	if (!model_kind_incremental(m->kind))
		return 1;
	if (m->kind == KIND_APPEND_ONLY && w)
		start = w->end;
	else if (w && w->end < start)
		start = w->end;      /* a gap is filled, never skipped */
	if (start >= pl->as_of)
		return 0;
	s->has_range = 1;
	date_format(start, s->start);
	date_format(pl->as_of, s->end);
	if (!added)
		s->run_type = RUN_INCREMENTAL;
	return 1;
}

/* ADDED and MODIFIED models plus every descendant. */
static int mark_affected(struct planner *pl)
{
	const struct dag *d = &pl->t->dag;
	size_t head = 0, tail = 0, k, v;

	for (v = 0; v < d->n; v++) {
		enum change_kind c = pl->diff.target_kind[v];

		if (c == CHANGE_ADDED || c == CHANGE_MODIFIED) {
			pl->affected[v] = 1;
			pl->queue[tail++] = (int)v;
		}
	}
	while (head < tail) {
		int u = pl->queue[head++];

		for (k = d->child_off[u]; k < d->child_off[u + 1]; k++) {
			int c = d->child_idx[k];

			if (!pl->affected[c]) {
				pl->affected[c] = 1;
				pl->queue[tail++] = c;
			}
		}
	}
	return 0;
}

static int int_cmp(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;

	return a < b ? -1 : a > b;
}

/*
 * The emitted steps v waits for: affected parents that have a step, and
 * through parents left out as up to date, their own such ancestors.
 */
static int effective_parents(struct planner *pl, int v)
{
	const struct dag *d = &pl->t->dag;
	size_t k, j, n = 0, cap = 0;
	int *res;

	for (k = d->parent_off[v]; k < d->parent_off[v + 1]; k++) {
		int p = d->parent_idx[k];

		if (pl->affected[p])
			cap += pl->emitted[p] ? 1 : pl->n_eff[p];
	}
	res = arena_calloc(pl->a, cap + 1, sizeof(int));
	if (res == NULL)
		return IL_ENOMEM;
	for (k = d->parent_off[v]; k < d->parent_off[v + 1]; k++) {
		int p = d->parent_idx[k];

		if (!pl->affected[p])
			continue;
		if (pl->emitted[p])
			res[n++] = p;
		else
			for (j = 0; j < pl->n_eff[p]; j++)
				res[n++] = pl->eff[p][j];
	}
	if (n > 1)
		qsort(res, n, sizeof(int), int_cmp);
	for (k = 0, j = 0; k < n; k++)
		if (j == 0 || res[j - 1] != res[k])
			res[j++] = res[k];
	pl->eff[v] = res;
	pl->n_eff[v] = j;
	return 0;
}

static int directly_changed(const struct planner *pl, int v)
{
	enum change_kind c = pl->diff.target_kind[v];

	return c == CHANGE_ADDED || c == CHANGE_MODIFIED;
}

/*
 * The nearest directly changed ancestor of v (fewest edges, then name),
 * from its affected parents, which the topological order has already
 * seen: a directly changed model is its own nearest at distance 0, any
 * other takes the best (distance + 1, nearest) of its parents. One pass
 * over the edges, where a search per model was quadratic on a chain.
 */
static void set_nearest(struct planner *pl, int v)
{
	const struct dag *d = &pl->t->dag;
	int best = -1, dist = 0;
	size_t k;

	if (directly_changed(pl, v)) {
		pl->near[v] = v;
		pl->near_dist[v] = 0;
		return;
	}
	for (k = d->parent_off[v]; k < d->parent_off[v + 1]; k++) {
		int p = d->parent_idx[k];

		if (!pl->affected[p] || pl->near[p] < 0)
			continue;
		if (best < 0 || pl->near_dist[p] + 1 < dist ||
		    (pl->near_dist[p] + 1 == dist && pl->near[p] < best)) {
			best = pl->near[p];
			dist = pl->near_dist[p] + 1;
		}
	}
	pl->near[v] = best;
	pl->near_dist[v] = dist;
}

static const char *reason_for(struct planner *pl, int v)
{
	static const char prefix[] = "downstream of ";
	const char *name;
	size_t n;
	char *r;

	if (pl->diff.target_kind[v] == CHANGE_ADDED)
		return "new model added";
	if (pl->diff.target_kind[v] == CHANGE_MODIFIED)
		return "SQL logic changed";
	if (pl->near[v] < 0)
		return "downstream of ?";
	if (pl->reasons[pl->near[v]])
		return pl->reasons[pl->near[v]];
	name = pl->t->models[pl->near[v]]->name;
	n = strlen(name);
	if ((r = arena_alloc(pl->a, sizeof(prefix) + n)) == NULL)
		return NULL;
	memcpy(r, prefix, sizeof(prefix) - 1);
	memcpy(r + sizeof(prefix) - 1, name, n + 1);
	return pl->reasons[pl->near[v]] = r;
}

/* plan__round6 (a decimal round trip) once per distinct value: a plan
 * repeats the same few estimates. */
static double round6(struct planner *pl, double x)
{
	int i;

	for (i = 0; i < 2; i++)
		if (pl->round_in[i] == x)
			return pl->round_out[i];
	pl->round_in[1] = pl->round_in[0];
	pl->round_out[1] = pl->round_out[0];
	pl->round_in[0] = x;
	pl->round_out[0] = plan__round6(x);
	return pl->round_out[0];
}

/* Fills the step for v after its range is known; sets its step_id. */
static int finish_step(struct planner *pl, int v, struct plan_step *s)
{
	size_t k;
	int g = 0;

	s->model = pl->t->models[v]->name;
	s->n_depends_on = pl->n_eff[v];
	s->depends_on = arena_calloc(pl->a, s->n_depends_on + 1,
				     sizeof(*s->depends_on));
	if (s->depends_on == NULL)
		return IL_ENOMEM;
	for (k = 0; k < pl->n_eff[v]; k++) {
		int p = pl->eff[v][k];

		s->depends_on[k] = pl->plan->steps[pl->step_of[p]].step_id;
		if (pl->group[p] + 1 > g)
			g = pl->group[p] + 1;
	}
	pl->group[v] = g;
	s->parallel_group = g;
	s->reason = reason_for(pl, v);
	if (s->reason == NULL)
		return IL_ENOMEM;
	s->compute_seconds = round6(pl, estimate_seconds(pl, s->model));
	s->cost_usd = round6(pl, s->compute_seconds *
			     pl->in->cost_per_compute_second);
	if ((g = plan__contract_check(s, pl->a, pl->t->models[v])) < 0 ||
	    (g = plan__set_step_id(s, &pl->step_json)) < 0)
		return g;
	return plan__hash_step(&pl->id, &pl->step_json, s->step_id);
}

static int alloc_work(struct planner *pl)
{
	size_t n = pl->t->n_models + 1;

	pl->affected = arena_calloc(pl->a, n, 1);
	pl->emitted = arena_calloc(pl->a, n, 1);
	pl->eff = arena_calloc(pl->a, n, sizeof(*pl->eff));
	pl->n_eff = arena_calloc(pl->a, n, sizeof(*pl->n_eff));
	pl->group = arena_calloc(pl->a, n, sizeof(int));
	pl->step_of = arena_calloc(pl->a, n, sizeof(int));
	pl->near = arena_alloc(pl->a, n * sizeof(int));
	pl->near_dist = arena_calloc(pl->a, n, sizeof(int));
	pl->reasons = arena_calloc(pl->a, n, sizeof(*pl->reasons));
	pl->queue = arena_calloc(pl->a, n, sizeof(int));
	if (!pl->affected || !pl->emitted || !pl->eff || !pl->n_eff ||
	    !pl->group || !pl->step_of || !pl->near || !pl->near_dist ||
	    !pl->reasons || !pl->queue)
		return IL_ENOMEM;
	memset(pl->near, 0xff, n * sizeof(int));
	return 0;
}

/* Appends name to l (room for it was allocated by summary_lists). */
static void list_add(struct str_list *l, const char *name)
{
	l->items[l->n++] = name;
}

static int build_steps(struct planner *pl)
{
	struct plan *p = pl->plan;
	int *order;
	size_t n, i;
	int rc;

	if ((rc = dag_topo_order(&order, &n, pl->a, &pl->t->dag,
				 pl->affected)) < 0)
		return rc;
	/* a step per affected model at most (each cleared as it is made) */
	if ((p->steps = arena_alloc(pl->a, (n + 1) * sizeof(*p->steps))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n; i++) {
		int v = order[i];
		struct plan_step *s = &p->steps[p->n_steps];

		memset(s, 0, sizeof(*s));
		set_nearest(pl, v);
		pl->emitted[v] = (unsigned char)decide_range(pl, v, s);
		if ((rc = effective_parents(pl, v)) < 0)
			return rc;
		if (!pl->emitted[v]) {
			list_add(&p->up_to_date, pl->t->models[v]->name);
			continue;
		}
		pl->step_of[v] = (int)p->n_steps;
		if ((rc = finish_step(pl, v, s)) < 0)
			return rc;
		p->n_steps++;
	}
	return 0;
}

static int alloc_list(struct str_list *l, struct arena *a, size_t n)
{
	l->n = 0;
	l->items = arena_calloc(a, n + 1, sizeof(*l->items));
	return l->items ? 0 : IL_ENOMEM;
}

static int summary_lists(struct planner *pl)
{
	struct plan *p = pl->plan;
	size_t i, n = pl->diff.n_changes;

	if (alloc_list(&p->models_modified, pl->a, n) < 0 ||
	    alloc_list(&p->models_added, pl->a, n) < 0 ||
	    alloc_list(&p->models_removed, pl->a, n) < 0 ||
	    alloc_list(&p->cosmetic_changes_skipped, pl->a, n) < 0 ||
	    alloc_list(&p->metadata_changes, pl->a, n) < 0 ||
	    alloc_list(&p->up_to_date, pl->a, pl->t->n_models) < 0)
		return IL_ENOMEM;
	for (i = 0; i < n; i++) {
		const struct model_change *c = &pl->diff.changes[i];
		struct str_list *l = NULL;

		switch (c->kind) {
		case CHANGE_MODIFIED: l = &p->models_modified; break;
		case CHANGE_ADDED: l = &p->models_added; break;
		case CHANGE_REMOVED: l = &p->models_removed; break;
		case CHANGE_COSMETIC: l = &p->cosmetic_changes_skipped; break;
		case CHANGE_METADATA: l = &p->metadata_changes; break;
		case CHANGE_NONE: break;
		}
		if (l)
			list_add(l, c->name);
	}
	return 0;
}

/* Every affected model, by name (indices are in name order). */
static int changed_list(struct planner *pl)
{
	struct str_list *l = &pl->plan->models_changed;
	size_t v, n = pl->t->n_models;

	if (alloc_list(l, pl->a, n) < 0)
		return IL_ENOMEM;
	for (v = 0; v < n; v++)
		if (pl->affected[v])
			list_add(l, pl->t->models[v]->name);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int start_plan(struct planner *pl, const char **err)
{
	struct plan *p = pl->plan;
	int rc;

	if ((rc = check_inputs(pl, err)) < 0)
		return rc;
	if (!pl->t->finished || pl->t->diags.n_errors > 0) {
		*err = "the target commit has problems; run ironlayer check";
		return IL_EINVALID;
	}
	p->base = arena_strdup(pl->a, pl->in->base);
	p->target = arena_strdup(pl->a, pl->in->target);
	p->environment = arena_strdup(pl->a, pl->in->environment);
	if (!p->base || !p->target || !p->environment)
		return IL_ENOMEM;
	date_format(pl->as_of, p->as_of);
	if ((rc = alloc_work(pl)) < 0)
		return rc;
	return plan__hash_begin(&pl->id, p);
}

int plan_build(struct plan **out, struct arena *a, const struct project *base,
	       const struct project *target, const struct plan_inputs *in,
	       const char **err)
{
	static const struct project empty;
	struct planner pl;
	double total = 0;
	size_t i;
	int rc;

	*out = NULL;
	*err = NULL;
	memset(&pl, 0, sizeof(pl));
	pl.a = a;
	pl.t = target;
	pl.in = in;
	pl.plan = arena_calloc(a, 1, sizeof(*pl.plan));
	if (pl.plan == NULL)
		return IL_ENOMEM;
	if ((rc = start_plan(&pl, err)) < 0)
		goto out;
	if (base == NULL)
		base = &empty;
	if ((rc = diff_projects(&pl.diff, a, base, target)) < 0 ||
	    (rc = summary_lists(&pl)) < 0 || (rc = mark_affected(&pl)) < 0 ||
	    (rc = changed_list(&pl)) < 0 || (rc = build_steps(&pl)) < 0)
		goto out;
	qsort(pl.plan->up_to_date.items, pl.plan->up_to_date.n,
	      sizeof(const char *), name_cmp);
	for (i = 0; i < pl.plan->n_steps; i++)
		total += pl.plan->steps[i].cost_usd;
	pl.plan->estimated_cost_usd = plan__round6(total);
	if ((rc = plan__hash_end(&pl.id, pl.plan)) < 0)
		goto out;
	*out = pl.plan;
out:
	plan__hash_abort(&pl.id);
	plan__buf_free(&pl.step_json);
	if (rc == IL_ENOMEM && *err == NULL)
		*err = "out of memory";
	return rc;
}
