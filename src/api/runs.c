/* runs.c: run records and their telemetry */
#include <string.h>

#include "api/api.h"
#include "core/date.h"
#include "db/db.h"
#include "db/runs.h"
#include "util/error.h"
#include "util/json.h"

/* The reference's run statuses (its clients colour and count by them). */
static const char *const run_statuses[] = { "PENDING", "RUNNING", "SUCCESS", "FAIL",
					    "CANCELLED" };
/* What earlier versions called them, still accepted as filters. */
static const char *const legacy_statuses[][2] = { { "FAILED", "FAIL" },
						  { "SKIPPED", "CANCELLED" } };

/* The status a ?status= filter means, or NULL when it names none. */
static const char *status_filter(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
		if (strcmp(s, run_statuses[i]) == 0)
			return run_statuses[i];
	for (i = 0; i < sizeof(legacy_statuses) / sizeof(legacy_statuses[0]); i++)
		if (strcmp(s, legacy_statuses[i][0]) == 0)
			return legacy_statuses[i][1];
	return NULL;
}

/* GET /api/v1/runs?plan_id=&model_name=&status=&limit=&offset= (viewer), newest first. */
int api_runs_list(struct req *r)
{
	const char *status = req_query(r, "status");
	struct api_page pg;
	const char *json;
	size_t len;
	long long total = 0;
	int rc;

	if (status != NULL && (status = status_filter(status)) == NULL)
		req_invalid(r, "query", "status",
			    "must be one of PENDING, RUNNING, SUCCESS, FAIL, CANCELLED", "enum");
	if (api_page_read(&pg, r))
		return 0;
	rc = db_run_list(&json, &len, &total, r->db, r->arena, r->who.tenant_id,
			 req_query(r, "plan_id"), req_query(r, "model_name"), status, pg.limit,
			 pg.offset);
	if (rc < 0)
		return rc;
	api_page_respond_text(r, &pg, json, len, total);
	return 0;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Days in the run's [start, end) range (one partition per day), else 1: the whole table. */
static int64_t partition_count(json_object *run)
{
	json_object *range = member(run, "input_range");
	long start, end;

	if (range == NULL ||
	    date_parse(json_object_get_string(member(range, "start")), &start) < 0 ||
	    date_parse(json_object_get_string(member(range, "end")), &end) < 0 || end <= start)
		return 1;
	return end - start;
}

/*
 * The reference's telemetry fields beside ours. What no executor measures
 * (rows read, shuffled bytes) is 0 and named in "unmeasured", so a client
 * that needs numbers gets numbers and a reader knows which are real.
 */
static void add_reference_telemetry(json_object *t, json_object *run)
{
	json_object *rows = member(t, "rows_processed"), *unmeasured = json_object_new_array();
	int have_rows = rows != NULL && json_object_is_type(rows, json_type_int);

	json_object_object_add(t, "input_rows", json_object_new_int64(0));
	json_object_object_add(t, "output_rows",
			       json_object_new_int64(have_rows ? json_object_get_int64(rows) : 0));
	json_object_object_add(t, "shuffle_bytes", json_object_new_int64(0));
	json_object_object_add(t, "partition_count", json_object_new_int64(partition_count(run)));
	json_object_object_add(t, "cluster_id", NULL);
	json_object_array_add(unmeasured, json_object_new_string("input_rows"));
	if (!have_rows)
		json_object_array_add(unmeasured, json_object_new_string("output_rows"));
	json_object_array_add(unmeasured, json_object_new_string("shuffle_bytes"));
	json_object_object_add(t, "unmeasured", unmeasured);
}

/* A run's JSON (telemetry = 0) or its telemetry's; 1 after a 404. */
static int run_json(json_object **out, struct req *r, const char *id, int telemetry)
{
	const char *json = NULL;
	int rc = db_run_get(&json, r->db, r->arena, r->who.tenant_id, id, telemetry);

	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "run %.80s not found", id);
		return 1;
	}
	if (rc < 0)
		return rc;
	if ((*out = api_json_parse(json)) == NULL || json_arena_own(r->arena, *out) < 0)
		return IL_ERR;
	return 0;
}

/* GET /api/v1/runs/:id (viewer): 200, or 404. */
int api_runs_get(struct req *r)
{
	json_object *run;
	int rc = run_json(&run, r, req_param(r, 0), 0);

	if (rc == 0)
		req_json(r, 200, json_object_get(run));
	return rc > 0 ? 0 : rc;
}

/*
 * GET /api/v1/runs/:id/telemetry (viewer): runtime, rows, cost, executor,
 * statement, and the reference's fields; 404 for an unknown run and for one
 * that has not finished (its telemetry is collected when it ends).
 */
int api_runs_telemetry(struct req *r)
{
	const char *id = req_param(r, 0);
	json_object *run, *t;
	int rc;

	if ((rc = run_json(&run, r, id, 0)) != 0 || (rc = run_json(&t, r, id, 1)) != 0)
		return rc > 0 ? 0 : rc;
	if (member(t, "collected_at") == NULL) {
		req_error(r, 404, "not_found", "telemetry for run %s not found", id);
		return 0;
	}
	add_reference_telemetry(t, run);
	api_number_field(t, "cost_usd");
	req_json(r, 200, json_object_get(t));
	return 0;
}
