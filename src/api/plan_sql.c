/* plan_sql.c: GET /api/v1/plans/:id/sql — the statements apply would send, sending none */
#include <string.h>

#include "api/api.h"
#include "apply/apply.h"
#include "util/parse.h"

static json_object *range_json(const struct apply_preview_step *s)
{
	json_object *o;

	if (s->start == NULL && s->end == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "start", api_str(s->start));
	json_object_object_add(o, "end", api_str(s->end));
	return o;
}

static json_object *step_json(const struct apply_preview_step *s)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	int i;

	json_object_object_add(o, "step_id", api_str(s->step_id));
	json_object_object_add(o, "model", api_str(s->model));
	json_object_object_add(o, "run_type", api_str(s->run_type));
	json_object_object_add(o, "input_range", range_json(s));
	if (s->prepared) {
		json_object_object_add(o, "materialization",
				       json_object_new_string(s->materialization));
		json_object_object_add(o, "target", api_str(s->target));
	}
	for (i = 0; i < s->n; i++)
		json_object_array_add(list, json_object_new_string(s->sql[i]));
	json_object_object_add(o, "statements", list);
	json_object_object_add(o, "error", api_str(s->error));
	return o;
}

/*
 * GET /api/v1/plans/:id/sql (viewer): for each step, the exact statements
 * apply would send to the plan's environment (refs, dates and the
 * materialization's wrapper rendered), or why the step cannot run. Nothing
 * is connected to or run. 404 for an unknown plan; 409 when apply would
 * refuse it: stale (its environment is gone or changed), or its content is no
 * longer what was approved (plan_content_changed).
 */
int api_plans_sql(struct req *r)
{
	struct apply_outcome out;
	struct apply_preview pv;
	struct apply_ctx c = { r->db, r->arena, r->cfg, r->who.tenant_id, r->who.email };
	const char *id = req_param(r, 0);
	json_object *o, *list;
	size_t i;
	int rc;

	if (id == NULL || !is_hex_string(id, 64, 64)) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return 0;
	}
	if ((rc = apply_preview(&out, &pv, &c, id)) < 0 || api_apply_refusal(r, &out))
		return rc;
	o = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(o, "plan_id", json_object_new_string(id));
	json_object_object_add(o, "environment", api_str(pv.environment));
	json_object_object_add(o, "executor", api_str(pv.executor));
	json_object_object_add(o, "steps", list);
	for (i = 0; i < pv.n; i++)
		json_object_array_add(list, step_json(&pv.steps[i]));
	req_json(r, 200, o);
	return 0;
}
