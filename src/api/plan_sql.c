/* plan_sql.c: GET /api/v1/plans/:id/sql — the statements apply would send, sending none */
#include <string.h>

#include "api/api.h"
#include "api/apply.h"
#include "core/model.h"
#include "db/db.h"
#include "db/plans.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/json.h"
#include "util/parse.h"

static json_object *range_json(const struct step *s)
{
	json_object *o;

	if (s->start == NULL && s->end == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "start", api_str(s->start));
	json_object_object_add(o, "end", api_str(s->end));
	return o;
}

/*
 * The statements of one step through the same functions apply uses
 * (apply_step_prepare, then exec_step_statements), or why it cannot run.
 */
static int step_statements(json_object *o, struct apply *ap, const struct step *s)
{
	json_object *list = json_object_new_array();
	struct exec_step e;
	struct step_sql p;
	const char *why = ap->project == NULL ?
		"cannot read the models at the plan's target commit" :
		apply_step_prepare(&e, ap, s);
	int i, rc = 0;

	if (why == NULL) {
		const char *mat = materialization_name(e.materialization);

		json_object_object_add(o, "materialization", json_object_new_string(mat));
		json_object_object_add(o, "target", api_str(apply_qualified(ap, s->model)));
		rc = exec_step_statements(&p, &why, ap->r->arena, ap->env.executor, &e);
	}
	for (i = 0; rc == 0 && why == NULL && i < p.n; i++)
		json_object_array_add(list, json_object_new_string(p.sql[i]));
	json_object_object_add(o, "statements", list);
	json_object_object_add(o, "error", api_str(why));
	return rc == IL_ENOMEM ? rc : 0;
}

static json_object *step_json(struct apply *ap, json_object *step, int *rc)
{
	json_object *o = json_object_new_object();
	struct step s;

	apply_read_step(&s, step);
	json_object_object_add(o, "step_id", api_str(s.id));
	json_object_object_add(o, "model", api_str(s.model));
	json_object_object_add(o, "run_type", api_str(s.run_type));
	json_object_object_add(o, "input_range", range_json(&s));
	*rc = step_statements(o, ap, &s);
	return o;
}

/* The plan's environment, as apply would find it; 1 after a 409 when it would refuse. */
static int load_environment(struct apply *ap)
{
	struct req *r = ap->r;
	const char *env = db_val(ap->plan, 0, PLAN_ENV);
	int rc = db_env_get(&ap->env, r->db, r->arena, r->who.tenant_id, env);

	if (rc == IL_ENOTFOUND) {
		req_error(r, 409, "stale_plan",
			  "environment %s no longer exists; generate the plan again", env);
		return 1;
	}
	if (rc == 0 && ap->env.version != (int)db_long(ap->plan, 0, PLAN_ENV_VERSION)) {
		req_error(r, 409, "stale_plan", "environment %s changed since the plan was made; "
			  "generate it again", env);
		return 1;
	}
	return rc;
}

static int respond_statements(struct apply *ap)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	size_t i;
	int rc = 0;

	json_object_object_add(o, "plan_id", json_object_new_string(ap->plan_id));
	json_object_object_add(o, "environment", api_str(ap->env.name));
	json_object_object_add(o, "executor", api_str(ap->env.executor));
	json_object_object_add(o, "steps", list);
	for (i = 0; i < json_object_array_length(steps) && rc == 0; i++)
		json_object_array_add(list,
				      step_json(ap, json_object_array_get_idx(steps, i), &rc));
	if (rc < 0) {
		json_object_put(o);
		return rc;
	}
	req_json(ap->r, 200, o);
	return 0;
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
	struct apply ap;
	const char *id = req_param(r, 0);
	int rc;

	memset(&ap, 0, sizeof(ap));
	ap.r = r;
	if (id == NULL || !is_hex_string(id, 64, 64)) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return 0;
	}
	ap.plan_id = id;
	rc = db_plan_get(&ap.plan, r->db, r->arena, r->who.tenant_id, id, 0);
	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "plan %s not found", id);
		return 0;
	}
	if (rc < 0 || (rc = load_environment(&ap)) != 0)
		return rc > 0 ? 0 : rc;
	ap.doc = api_json_parse(db_val(ap.plan, 0, PLAN_TEXT));
	if (ap.doc == NULL || json_arena_own(r->arena, ap.doc) < 0)
		return IL_ERR;
	/* the models apply would run: the approved content, read back and checked */
	if ((rc = apply_verify_content(&ap)) != 0)
		return rc > 0 ? 0 : rc;
	return respond_statements(&ap);
}
