/* apply.c: POST /api/v1/plans/:id/apply — the HTTP side of apply/ */
#include <string.h>

#include "api/api.h"
#include "apply/apply.h"
#include "util/parse.h"

/* The request's state, bound to its tenant, as apply/ takes it. */
static void apply_ctx_of(struct apply_ctx *c, struct req *r)
{
	c->db = r->db;
	c->arena = r->arena;
	c->cfg = r->cfg;
	c->tenant_id = r->who.tenant_id;
	c->actor = r->who.email;
}

int api_apply_refusal(struct req *r, const struct apply_outcome *out)
{
	json_object *o;

	switch (out->verdict) {
	case APPLY_DONE:
		return 0;
	case APPLY_NOT_FOUND:
		req_error(r, 404, out->code, "%s", out->detail);
		return 1;
	case APPLY_BUSY:
		req_error(r, 429, out->code, "%s", out->detail);
		req_header_add(r, "Retry-After", out->retry_after);
		return 1;
	case APPLY_REFUSED:
		break;
	}
	if (strcmp(out->code, APPLY_CONTENT_CHANGED) != 0) {
		req_error(r, 409, out->code, "%s", out->detail);
		return 1;
	}
	/* the models that differ ride along with the detail */
	o = json_object_new_object();
	json_object_object_add(o, "detail", json_object_new_string(out->detail));
	json_object_object_add(o, "code", json_object_new_string(out->code));
	if (out->models != NULL)
		json_object_object_add(o, "models", json_object_get(out->models));
	r->error_code = APPLY_CONTENT_CHANGED;
	req_json(r, 409, o);
	return 1;
}

/* The tenant's applies whose worker died end as failed (the route table's settle hook). */
int api_end_lost_applies(struct req *r)
{
	struct apply_ctx c;

	apply_ctx_of(&c, r);
	return apply_end_lost(&c);
}

/*
 * POST /api/v1/plans/:id/apply (operator): runs an approved plan (or the
 * unfinished steps of a failed one) synchronously and answers 200 with
 * {plan_id, status, runs}. 409 when the plan is not approved, is being
 * applied, or is stale (its environment or its models' watermarks changed),
 * or its models are not what was approved; 429 when the tenant's tier runs
 * no more applies at once.
 */
int api_plans_apply(struct req *r)
{
	struct apply_outcome out;
	struct apply_ctx c;
	const char *id = req_param(r, 0);
	json_object *o;
	int rc;

	if (id == NULL || !is_hex_string(id, 64, 64)) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return 0;
	}
	apply_ctx_of(&c, r);
	if ((rc = apply_plan(&out, &c, id)) < 0 || api_apply_refusal(r, &out))
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "plan_id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string(out.status));
	json_object_object_add(o, "runs", json_object_get(out.runs));
	req_json(r, 200, o);
	return 0;
}
