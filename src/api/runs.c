/* runs.c: run records and their telemetry */
#include <string.h>

#include "api/api.h"
#include "db/db.h"
#include "db/runs.h"
#include "util/error.h"

static const char *const run_statuses[] = { "RUNNING", "SUCCESS", "FAILED", "SKIPPED",
					    "CANCELLED" };

static int valid_status(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
		if (strcmp(s, run_statuses[i]) == 0)
			return 1;
	return 0;
}

/* GET /api/v1/runs?plan_id=&model_name=&status=&limit=&offset= (viewer), newest first. */
int api_runs_list(struct req *r)
{
	const char *status = req_query(r, "status");
	struct api_page pg;
	PGresult *res;
	json_object *items;
	long long total = 0;
	int rc, i;

	if (status != NULL && !valid_status(status))
		req_invalid(r, "query", "status",
			    "must be one of RUNNING, SUCCESS, FAILED, SKIPPED, CANCELLED", "enum");
	if (api_page_read(&pg, r))
		return 0;
	rc = db_run_list(&res, &total, r->db, r->arena, r->who.tenant_id, req_query(r, "plan_id"),
			 req_query(r, "model_name"), status, pg.limit, pg.offset);
	if (rc < 0)
		return rc;
	items = json_object_new_array();
	for (i = 0; i < db_rows(res); i++)
		json_object_array_add(items, api_json_parse(db_val(res, i, 0)));
	api_page_respond(r, &pg, items, total);
	return 0;
}

static int respond_run(struct req *r, int telemetry)
{
	const char *id = req_param(r, 0), *json = NULL;
	int rc = db_run_get(&json, r->db, r->arena, r->who.tenant_id, id, telemetry);
	json_object *o;

	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "run %.80s not found", id);
		return 0;
	}
	if (rc < 0)
		return rc;
	o = api_json_parse(json);
	if (telemetry)
		api_number_field(o, "cost_usd");
	req_json(r, 200, o);
	return 0;
}

/* GET /api/v1/runs/:id (viewer): 200, or 404. */
int api_runs_get(struct req *r)
{
	return respond_run(r, 0);
}

/* GET /api/v1/runs/:id/telemetry (viewer): runtime, rows, cost, executor, statement. */
int api_runs_telemetry(struct req *r)
{
	return respond_run(r, 1);
}
