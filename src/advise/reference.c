/* reference.c: the advisory in the shapes the reference's clients read, per model */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advise/advise.h"
#include "core/dag.h"
#include "core/model.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* How sure each kind of evidence makes us (documented in docs/compatibility.md). */
#define SURE_COLUMNS 0.9     /* both column lists are known */
#define SURE_HEADER 0.8      /* the header says it (time column, kind) */
#define SURE_GUESS 0.3       /* the SQL's columns cannot be named */
#define SURE_LINT 0.9        /* a lint rule matched */
#define SURE_LLM 0.5         /* an LLM's suggestion, not verified */

/* A number with a fixed number of decimals: the same bytes for the same input. */
static json_object *fixed(double v, int decimals)
{
	char text[64];

	snprintf(text, sizeof(text), "%.*f", decimals, v);
	return json_object_new_double_s(parse_double_or(text, v), text);
}

/* 1 when every name of sub is in set (both lists of n_sub and n_set names). */
static int all_in(const char **sub, size_t n_sub, const char **set, size_t n_set)
{
	size_t i, j;

	for (i = 0; i < n_sub; i++) {
		for (j = 0; j < n_set && strcmp(sub[i], set[j]) != 0; j++)
			;
		if (j == n_set)
			return 0;
	}
	return 1;
}

/* The base columns the target no longer produces, as "a, b". */
static const char *lost_columns(struct arena *a, const char **bc, size_t nb, const char **tc,
				size_t nt)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, a, 4096);
	for (i = 0; i < nb; i++)
		if (!all_in(&bc[i], 1, tc, nt))
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", bc[i]);
	return strbuf_cstr(&sb) ? strbuf_cstr(&sb) : "many columns";
}

struct change {
	const char *type;
	double confidence;
	const char *scope;
};

/* Compares the model's header and output columns at both commits. */
static int compare(struct change *c, struct arena *a, const struct model *b,
		   const struct model *t, size_t downstream)
{
	const char **bc, **tc;
	size_t nb, nt;
	int rc;

	c->scope = arena_printf(a, "%zu downstream model%s", downstream,
				downstream == 1 ? "" : "s");
	if ((rc = advise_output_columns(&bc, &nb, a, b)) < 0 ||
	    (rc = advise_output_columns(&tc, &nt, a, t)) < 0)
		return rc;
	if (nb != (size_t)-1 && nt != (size_t)-1 && !all_in(bc, nb, tc, nt)) {
		c->type = "breaking";
		c->confidence = SURE_COLUMNS;
		c->scope = arena_printf(a, "columns removed: %s; %s",
					lost_columns(a, bc, nb, tc, nt), c->scope);
	} else if (model_kind_incremental(b->kind) != model_kind_incremental(t->kind) ||
		   (b->time_column && t->time_column && strcmp(b->time_column, t->time_column)) ||
		   (b->time_column == NULL) != (t->time_column == NULL)) {
		c->type = "partition_shift";
		c->confidence = SURE_HEADER;
	} else if (nb == (size_t)-1 || nt == (size_t)-1) {
		c->type = "non_breaking";
		c->confidence = SURE_GUESS;
	} else {
		/* the same columns computed differently change values; new ones add */
		c->type = nt > nb ? "non_breaking" : "metric_semantic";
		c->confidence = SURE_COLUMNS;
	}
	return c->scope ? 0 : IL_ENOMEM;
}

int advise_classify_change(json_object **out, struct arena *a, const struct advise_input *in,
			   const struct advise_step *s)
{
	struct lineage_entry *down;
	const struct model *b = NULL, *t;
	struct change c;
	size_t n = 0;
	int bi, ti, rc;

	*out = NULL;
	if (in->target == NULL || in->base == NULL)
		return 0;   /* the repository cannot be read: no classification */
	ti = project_find(in->target, s->model);
	bi = project_find(in->base, s->model);
	if (ti < 0)
		return 0;
	t = in->target->models[ti];
	if (bi >= 0)
		b = in->base->models[bi];
	if (b != NULL && strcmp(b->content_hash, t->content_hash) == 0)
		return 0;   /* rebuilt for an upstream change: nothing of its own */
	if (dag_lineage(&down, &n, a, &in->target->dag, ti, 1, 0) < 0)
		return IL_ENOMEM;
	if (b == NULL) {
		c.type = "non_breaking";
		c.confidence = SURE_COLUMNS;
		c.scope = arena_printf(a, "new model; %zu downstream model%s", n,
				       n == 1 ? "" : "s");
		if (c.scope == NULL)
			return IL_ENOMEM;
	} else if ((rc = compare(&c, a, b, t, n)) < 0) {
		return rc;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "change_type", json_object_new_string(c.type));
	json_object_object_add(*out, "confidence", fixed(c.confidence, 2));
	/* history stays valid only when an incremental model gains columns */
	json_object_object_add(*out, "requires_full_rebuild", json_object_new_boolean(
		b == NULL || !model_kind_incremental(t->kind) || strcmp(c.type, "non_breaking")));
	json_object_object_add(*out, "impact_scope", json_object_new_string(c.scope));
	return 0;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static double get_double(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v != NULL ? json_object_get_double(v) : 0;
}

/* confidence and its label from the basis of the estimate */
static void cost_confidence(json_object *cost, double *conf, const char **label)
{
	json_object *basis = get(cost, "basis");
	long n = (long)get_double(cost, "sample_size");

	if (basis == NULL || strcmp(json_object_get_string(basis), "history") != 0 || n < 3) {
		*conf = n > 0 ? 0.4 : 0.3;
		*label = "low";
	} else {
		*conf = n >= 10 ? 0.8 : 0.6;
		*label = n >= 10 ? "high" : "medium";
	}
}

static json_object *cost_prediction(json_object *cost)
{
	json_object *o = json_object_new_object();
	const char *label;
	double conf;

	cost_confidence(cost, &conf, &label);
	json_object_object_add(o, "estimated_runtime_minutes",
			       fixed(get_double(cost, "estimated_runtime_seconds") / 60.0, 4));
	json_object_object_add(o, "estimated_cost_usd",
			       fixed(get_double(cost, "estimated_cost_usd"), 6));
	json_object_object_add(o, "confidence", fixed(conf, 2));
	json_object_object_add(o, "cost_lower_bound_usd", fixed(get_double(cost, "lower_usd"), 6));
	json_object_object_add(o, "cost_upper_bound_usd", fixed(get_double(cost, "upper_usd"), 6));
	json_object_object_add(o, "confidence_label", json_object_new_string(label));
	return o;
}

/* The LLM's entries ({model, <text_key>}) about model, appended as strings or suggestions. */
static void llm_items(json_object *list, json_object *llm, const char *array, const char *model,
		      const char *text_key, int as_suggestion)
{
	json_object *items = get(llm, array);
	size_t i;

	for (i = 0; items != NULL && json_object_is_type(items, json_type_array) &&
		    i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i), *m = get(it, "model"),
			    *text = get(it, text_key), *sg;

		if (m == NULL || text == NULL || strcmp(json_object_get_string(m), model) != 0)
			continue;
		if (!as_suggestion) {
			json_object_array_add(list,
					      json_object_new_string(json_object_get_string(text)));
			continue;
		}
		sg = json_object_new_object();
		json_object_object_add(sg, "suggestion_type", json_object_new_string("llm"));
		json_object_object_add(sg, "description",
				       json_object_new_string(json_object_get_string(text)));
		json_object_object_add(sg, "rewritten_sql", NULL);
		json_object_object_add(sg, "confidence", fixed(SURE_LLM, 2));
		json_object_array_add(list, sg);
	}
}

static json_object *risk_score(json_object *risk, json_object *llm, const char *model)
{
	json_object *o = json_object_new_object(), *factors = json_object_new_array(),
		    *list = get(risk, "factors"), *level = get(risk, "level");
	const char *lv = level ? json_object_get_string(level) : "low";
	size_t i;

	for (i = 0; list != NULL && i < json_object_array_length(list); i++) {
		json_object *f = json_object_array_get_idx(list, i), *d = get(f, "detail");

		json_object_array_add(factors, json_object_new_string(
			d && json_object_get_string_len(d) ? json_object_get_string(d) :
			json_object_get_string(get(f, "factor"))));
	}
	llm_items(factors, llm, "risk_notes", model, "note", 0);
	json_object_object_add(o, "risk_score", fixed(get_double(risk, "score"), 1));
	json_object_object_add(o, "business_critical",
			       json_object_new_boolean(!strcmp(lv, "high")));
	json_object_object_add(o, "approval_required", json_object_new_boolean(strcmp(lv, "low")));
	json_object_object_add(o, "risk_factors", factors);
	return o;
}

static json_object *suggestions(json_object *lint, json_object *llm, const char *model)
{
	json_object *list = json_object_new_array();
	size_t i;

	for (i = 0; lint != NULL && i < json_object_array_length(lint); i++) {
		json_object *f = json_object_array_get_idx(lint, i), *sg = json_object_new_object();
		const char *rule = json_object_get_string(get(f, "rule"));

		json_object_object_add(sg, "suggestion_type", json_object_new_string(rule));
		json_object_object_add(sg, "description", json_object_new_string(
			json_object_get_string(get(f, "message"))));
		json_object_object_add(sg, "rewritten_sql", NULL);
		json_object_object_add(sg, "confidence", fixed(SURE_LINT, 2));
		json_object_array_add(list, sg);
	}
	llm_items(list, llm, "optimizations", model, "suggestion", 1);
	return list;
}

json_object *advise_by_model(json_object *advisory)
{
	json_object *steps = get(advisory, "steps"), *llm = get(advisory, "llm"), *map;
	size_t i, n = 0;

	if (steps == NULL || !json_object_is_type(steps, json_type_array))
		return NULL;
	map = json_object_new_object();
	for (i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i), *e, *v;
		json_object *model = get(s, "model");

		if (model == NULL || !json_object_is_type(model, json_type_string))
			continue;
		e = json_object_new_object();
		if ((v = get(s, "change")) != NULL && json_object_is_type(v, json_type_object))
			json_object_object_add(e, "semantic_classification", json_object_get(v));
		if ((v = get(s, "cost")) != NULL)
			json_object_object_add(e, "cost_prediction", cost_prediction(v));
		if ((v = get(s, "risk")) != NULL)
			json_object_object_add(e, "risk_score",
					       risk_score(v, llm, json_object_get_string(model)));
		json_object_object_add(e, "suggestions",
				       suggestions(get(s, "suggestions"), llm,
						   json_object_get_string(model)));
		json_object_object_add(map, json_object_get_string(model), e);
		n++;
	}
	if (n == 0) {
		json_object_put(map);
		return NULL;
	}
	return map;
}
