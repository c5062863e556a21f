/* runs.h (db): run records, telemetry and watermarks */
#ifndef IL_DB_RUNS_H
#define IL_DB_RUNS_H

#include <libpq-fe.h>

struct arena;
struct db;

/* The statuses of a run, as stored (the reference's names). */
#define RUN_RUNNING "RUNNING"
#define RUN_SUCCESS "SUCCESS"
#define RUN_FAILED "FAIL"
#define RUN_CANCELLED "CANCELLED"   /* not run: an upstream step failed, or time ran out */

/*
 * SQL for run r as JSON text: run_json plus the run-record fields the
 * reference's clients show (we never retry a step, keep no log URI or
 * cluster, and name the executor that ran it). One json value with its keys
 * in the order jsonb keeps them (by length, then bytes; run_json(r)::jsonb ||
 * jsonb_build_object(...) gave these bytes), so PostgreSQL does not parse
 * each row's text into jsonb, merge and write it again.
 */
#define DB_RUN_JSON \
	"json_build_object('run_id', r.run_id, 'status', r.status, 'plan_id', r.plan_id," \
	" 'step_id', r.step_id, 'executor', r.executor, 'logs_uri', NULL::text," \
	" 'run_type', r.run_type, 'model_name', r.model_name," \
	" 'started_at', iso8601(r.started_at), 'environment', r.environment," \
	" 'finished_at', iso8601(r.finished_at), 'input_range', CASE" \
	"  WHEN r.input_range_start IS NULL THEN NULL ELSE json_build_object(" \
	"  'end', r.input_range_end, 'start', r.input_range_start) END," \
	" 'retry_count', 0, 'cluster_used', NULL::text, 'error_message', r.error_message," \
	" 'external_run_id', r.external_run_id, 'input_range_end', r.input_range_end," \
	" 'executor_version', r.executor, 'input_range_start', r.input_range_start)::text"

struct db_run_new {
	const char *plan_id, *step_id, *model, *environment, *run_type;
	const char *start, *end;      /* NULL without a range */
	const char *executor;
	const char *status;           /* RUN_RUNNING, or RUN_CANCELLED (not run: ends at once) */
	const char *error;            /* why it was not run */
};

struct db_run_done {
	const char *status;           /* RUN_SUCCESS or RUN_FAILED */
	const char *error;
	double runtime_seconds;
	long long rows;               /* -1: unknown */
	double cost_usd;
	const char *statement_id;
};

int db_run_start(const char **run_id, struct db *db, struct arena *a, const char *tenant_id,
		 const struct db_run_new *n);
int db_run_finish(struct db *db, struct arena *a, const char *tenant_id, const char *run_id,
		  const struct db_run_done *d);
/* Rows (step_id, status) of the latest run of each step of a plan. */
int db_run_plan_steps(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		      const char *plan_id);
/* Rows (run JSON text) of the given runs (array literal of ids), oldest first. */
int db_run_json_list(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		     const char *ids);
/*
 * A page of runs, newest first, as the JSON array text the API sends (*json,
 * *len bytes); filters may be NULL; *total counts every match.
 */
int db_run_list(const char **json, size_t *len, long long *total, struct db *db,
		struct arena *a, const char *tenant_id, const char *plan_id, const char *model,
		const char *status, long long limit, long long offset);
/* One run (telemetry = 0) or its telemetry (1) as JSON text; IL_ENOTFOUND. */
int db_run_get(const char **json, struct db *db, struct arena *a, const char *tenant_id,
	       const char *run_id, int telemetry);

/*
 * Rows (model_name, status, runtime_seconds) of each of models' (an array
 * literal) last n finished runs (SUCCESS or FAIL) in env, newest first.
 */
int db_run_history(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		   const char *env, const char *models, int n);

/*
 * The key of the session advisory lock a worker holds while it applies a
 * plan (db_advisory_*): nobody holding it means nobody is applying the plan.
 */
const char *db_apply_lock_key(struct arena *a, const char *tenant_id, const char *plan_id);

/*
 * Ends the applies of the tenant whose worker is gone: each plan still
 * 'applying' whose apply lock nobody holds becomes 'failed', and its
 * RUN_RUNNING runs RUN_FAILED with error why. Call inside a tenant
 * transaction: the locks it takes to be sure last until its end, so no new
 * apply of those plans starts in between. *ended: rows (plan_id) of the
 * plans it ended.
 */
int db_apply_end_lost(PGresult **ended, struct db *db, struct arena *a, const char *tenant_id,
		      const char *why);
/* The same for one plan whose apply lock the caller holds itself. */
int db_apply_end_plan_runs(struct db *db, struct arena *a, const char *tenant_id,
			   const char *plan_id, const char *why);

/* The model's watermark now ends at end (and starts no later than start). */
int db_watermark_advance(struct db *db, struct arena *a, const char *tenant_id,
			 const char *env, const char *model, const char *start, const char *end);

#endif
