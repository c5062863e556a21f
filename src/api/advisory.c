/* advisory.c: POST /api/v1/plans/:id/augment — the HTTP side of advise/augment.c */
#include "advise/augment.h"
#include "api/api.h"
#include "util/error.h"
#include "util/parse.h"

/*
 * POST /api/v1/plans/:id/augment (operator): computes the advisory (cost,
 * risk and lint per step; with a key and AI advisory on, one LLM call) and
 * stores it beside the plan, replacing an earlier one. The plan's steps, ids
 * and bytes never change. 200 with the plan; 404 for an unknown plan or one
 * of another tenant. Provider failures are reported in advisory.llm. The
 * plan row is not locked while the provider thinks: a concurrent augment
 * simply writes the last advisory.
 */
int api_plans_augment(struct req *r)
{
	struct advise_ctx c = { r->db, r->arena, r->cfg, r->who.tenant_id, r->who.email };
	const char *id = req_param(r, 0);
	int rc = IL_ENOTFOUND;

	if (id != NULL && is_hex_string(id, 64, 64))
		rc = advise_augment(&c, id);
	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return 0;
	}
	return rc < 0 ? rc : api_plan_respond(r, id, 200);
}
