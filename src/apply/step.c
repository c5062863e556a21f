/* step.c: a plan step as the executor sees it (apply and its preview) */
#include <string.h>

#include "apply/apply_int.h"
#include "core/date.h"
#include "core/model.h"
#include "core/project.h"

void apply_read_step(struct step *s, json_object *o)
{
	json_object *range = json_object_object_get(o, "input_range");

	s->id = json_object_get_string(json_object_object_get(o, "step_id"));
	s->model = json_object_get_string(json_object_object_get(o, "model"));
	s->run_type = json_object_get_string(json_object_object_get(o, "run_type"));
	s->depends_on = json_object_object_get(o, "depends_on");
	s->start = range ? json_object_get_string(json_object_object_get(range, "start")) : NULL;
	s->end = range ? json_object_get_string(json_object_object_get(range, "end")) : NULL;
}

static const char *qualify_ref(void *payload, const char *name)
{
	struct apply *ap = payload;
	int i = project_resolve(ap->project, name, strlen(name));

	return i >= 0 ? apply_qualified(ap, ap->project->models[i]->name) : NULL;
}

const char *apply_step_prepare(struct exec_step *e, struct apply *ap, const struct step *s)
{
	const struct model *m;
	const char *err = NULL;
	long days;
	int i;

	if ((i = project_find(ap->project, s->model)) < 0)
		return "the model is missing at the plan's target commit";
	if ((s->start != NULL && date_parse(s->start, &days) < 0) ||
	    (s->end != NULL && date_parse(s->end, &days) < 0))
		return "the step's input range is not a pair of dates";
	m = ap->project->models[i];
	memset(e, 0, sizeof(*e));
	e->model = s->model;
	e->schema = apply_schema_of(ap, s->model);
	e->table = strchr(s->model, '.') + 1;
	if (e->schema == NULL || !exec_ident_ok(e->table))
		return "the model's warehouse name is not a valid identifier "
		       "(at most 63 characters)";
	e->catalog = ap->env.catalog;
	e->materialization = m->materialization;
	e->time_column = m->time_column;
	e->unique_key = m->unique_key;
	e->full_refresh = strcmp(s->run_type, "FULL_REFRESH") == 0;
	e->start = s->start;
	e->end = s->end;
	if (exec_render(&e->sql, &err, ap->c->arena, m->body, m->body_len, s->start, s->end,
			qualify_ref, ap) < 0)
		return err ? err : "the model's SQL cannot be rendered";
	return NULL;
}
