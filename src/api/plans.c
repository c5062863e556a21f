/* plans.c: list, get, approve and reject plans (generate is in plan_generate.c) */
#include <stdlib.h>
#include <string.h>

#include "advise/advise.h"
#include "api/api.h"
#include "core/plan.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/plans.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"

static const char *const plan_statuses[] = {
	"pending", "approved", "rejected", "applying", "applied", "failed"
};

static json_object *approvals_json(const struct db_approval *ap, size_t n)
{
	json_object *list = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "user", api_str(ap[i].user_id));
		json_object_object_add(a, "user_email", api_str(ap[i].email));
		json_object_object_add(a, "comment", api_str(ap[i].comment));
		json_object_object_add(a, "at", api_str(ap[i].at));
		json_object_object_add(a, "timestamp", api_str(ap[i].at));
		json_object_object_add(a, "action", api_str(ap[i].action));
		json_object_array_add(list, a);
	}
	return list;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/*
 * summary.contract_violations_count and breaking_contract_violations, which
 * the reference's clients read, for plans stored before the plan document
 * carried them: counted from the steps.
 */
static void add_contract_counts(json_object *plan)
{
	json_object *summary = member(plan, "summary"), *steps = member(plan, "steps");
	size_t i, k;
	int64_t all = 0, breaking = 0;

	if (summary == NULL || member(summary, "contract_violations_count") != NULL ||
	    steps == NULL || !json_object_is_type(steps, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(steps); i++) {
		json_object *v = member(json_object_array_get_idx(steps, i), "contract_violations");

		for (k = 0; v != NULL && json_object_is_type(v, json_type_array) &&
			    k < json_object_array_length(v); k++) {
			json_object *sev = member(json_object_array_get_idx(v, k), "severity");

			all++;
			breaking += sev != NULL &&
				    strcmp(json_object_get_string(sev), "BREAKING") == 0;
		}
	}
	json_object_object_add(summary, "breaking_contract_violations",
			       json_object_new_int64(breaking));
	json_object_object_add(summary, "contract_violations_count", json_object_new_int64(all));
}

/*
 * advisory: the reference's per-model map (or null before any augment);
 * advisory_detail: the whole advisory as stored (summary, steps, llm).
 */
static void add_advisory(json_object *plan, const char *stored_text)
{
	json_object *stored = api_json_parse(stored_text);

	json_object_object_add(plan, "advisory", stored ? advise_by_model(stored) : NULL);
	json_object_object_add(plan, "advisory_detail", stored);
}

int api_plan_respond(struct req *r, const char *plan_id, int status)
{
	struct db_plan p;
	struct db_approval *ap = NULL;
	size_t n_ap = 0;
	json_object *o;
	int rc = db_plan_load(&p, r->db, r->arena, r->who.tenant_id, plan_id, 0);

	if (rc == 0)
		rc = db_plan_approvals(&ap, &n_ap, r->db, r->arena, r->who.tenant_id, plan_id);
	if (rc < 0)
		return rc;
	o = api_json_parse(p.plan_text);
	if (o == NULL)
		return IL_ERR;
	add_contract_counts(o);
	json_object_object_add(o, "status", api_str(p.status));
	/* every plan waits for its environment's approvals: none is auto-approved */
	json_object_object_add(o, "auto_approved", json_object_new_boolean(0));
	json_object_object_add(o, "created_at", api_str(p.created_at));
	json_object_object_add(o, "created_by", api_str(p.created_by));
	json_object_object_add(o, "approvals", approvals_json(ap, n_ap));
	json_object_object_add(o, "required_approvals",
			       json_object_new_int(p.required_approvals));
	add_advisory(o, p.advisory);
	json_object_object_add(o, "applied_at", api_str(p.applied_at));
	req_json(r, status, o);
	return 0;
}

/* A plan id from the path: anything but 64 hex digits cannot exist. */
static const char *plan_param(struct req *r)
{
	const char *id = req_param(r, 0);

	if (id == NULL || !is_hex_string(id, 64, 64)) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return NULL;
	}
	return id;
}

/* GET /api/v1/plans/:id (viewer): 200, or 404 (also for another tenant's plan). */
int api_plans_get(struct req *r)
{
	const char *id = plan_param(r);
	int rc;

	if (id == NULL)
		return 0;
	rc = api_plan_respond(r, id, 200);
	if (rc == IL_ENOTFOUND)
		req_error(r, 404, "not_found", "plan %s not found", id);
	return rc == IL_ENOTFOUND ? 0 : rc;
}

static int valid_status(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(plan_statuses) / sizeof(plan_statuses[0]); i++)
		if (strcmp(s, plan_statuses[i]) == 0)
			return 1;
	return 0;
}

/* GET /api/v1/plans?limit=&offset=&environment=&status= (viewer), newest first. */
int api_plans_list(struct req *r)
{
	const char *env = req_query(r, "environment"), *status = req_query(r, "status");
	struct api_page pg;
	const char *json;
	size_t len;
	long long total = 0;
	int rc;

	if (env != NULL && api_check_env_name(env) != NULL)
		req_invalid(r, "query", "environment", api_check_env_name(env), "value_error");
	if (status != NULL && !valid_status(status))
		req_invalid(r, "query", "status", "must be one of pending, approved, rejected, "
			    "applying, applied, failed", "enum");
	if (api_page_read(&pg, r))
		return 0;
	rc = db_plan_list(&json, &len, &total, r->db, r->arena, r->who.tenant_id, env, status,
			  pg.limit, pg.offset);
	if (rc < 0)
		return rc;
	api_page_respond_text(r, &pg, json, len, total);
	return 0;
}

/* Locks the plan and checks it may still be approved or rejected. */
static int lock_for_review(struct db_plan *p, struct req *r, const char *id, const char *verb)
{
	const char *status;
	int rc = db_plan_load(p, r->db, r->arena, r->who.tenant_id, id, 1);

	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "plan %s not found", id);
		return 1;
	}
	if (rc < 0)
		return rc;
	status = p->status;
	if (strcmp(status, "pending") != 0 && strcmp(status, "approved") != 0) {
		req_error(r, 409, "invalid_state", "plan %s is %s and can no longer be %s", id,
			  status, verb);
		return 1;
	}
	return 0;
}

enum { APPROVE_COMMENT, APPROVE__MAX };
static const struct field approve_fields[APPROVE__MAX] = {
	[APPROVE_COMMENT] = { "comment", FIELD_STRING, 0, 2000, 0, 0, NULL },
};

/*
 * POST /api/v1/plans/:id/approve (operator) {comment?}: records the caller's
 * approval; the plan becomes approved with the environment's required number
 * of distinct approvals. 409 for a second approval by the same user or a plan
 * that is rejected, applying, applied or failed.
 */
int api_plans_approve(struct req *r)
{
	struct field_value v[APPROVE__MAX];
	const char *id = plan_param(r);
	struct db_plan p;
	int rc, n = 0;

	if (id == NULL || body_read(r, approve_fields, APPROVE__MAX, v))
		return 0;
	if ((rc = lock_for_review(&p, r, id, "approved")) != 0)
		return rc > 0 ? 0 : rc;
	rc = db_plan_add_approval(r->db, r->arena, r->who.tenant_id, id, r->who.user_id,
				  "approved", v[APPROVE_COMMENT].str);
	if (rc == IL_ECONFLICT) {
		req_error(r, 409, "already_approved", "you have already approved plan %s", id);
		return 0;
	}
	if (rc == 0)
		rc = db_plan_count_approvals(&n, r->db, r->arena, r->who.tenant_id, id,
					     p.allow_self_approval);
	if (rc == 0 && n >= p.required_approvals)
		rc = db_plan_set_status(r->db, r->arena, r->who.tenant_id, id, "approved");
	if (rc == 0)
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				     "plan_approved", "plan", id, NULL);
	return rc < 0 ? rc : api_plan_respond(r, id, 200);
}

enum { REJECT_REASON, REJECT__MAX };
static const struct field reject_fields[REJECT__MAX] = {
	[REJECT_REASON] = { "reason", FIELD_STRING, 1, 2000, 0, 0, NULL },
};

/*
 * POST /api/v1/plans/:id/reject (operator) {reason}: the plan becomes
 * rejected and can never be applied. 409 once it is applying or done.
 */
int api_plans_reject(struct req *r)
{
	struct field_value v[REJECT__MAX];
	const char *id = plan_param(r);
	struct db_plan p;
	int rc;

	if (id == NULL || body_read(r, reject_fields, REJECT__MAX, v))
		return 0;
	if ((rc = lock_for_review(&p, r, id, "rejected")) != 0)
		return rc > 0 ? 0 : rc;
	if ((rc = db_plan_add_approval(r->db, r->arena, r->who.tenant_id, id, r->who.user_id,
				       "rejected", v[REJECT_REASON].str)) == 0 &&
	    (rc = db_plan_set_status(r->db, r->arena, r->who.tenant_id, id, "rejected")) == 0)
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				     "plan_rejected", "plan", id, NULL);
	return rc < 0 ? rc : api_plan_respond(r, id, 200);
}
