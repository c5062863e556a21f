/* runs.c (db): run records, telemetry and watermarks */
#include "db/runs.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "db/json_text.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

int db_run_start(const char **run_id, struct db *db, struct arena *a, const char *tenant_id,
		 const struct db_run_new *n)
{
	static const char sql[] =
		"INSERT INTO runs (tenant_id, plan_id, step_id, model_name, environment, status,"
		" run_type, input_range_start, input_range_end, executor, error_message,"
		" finished_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
		" CASE WHEN $6 = $12 THEN NULL ELSE now() END) RETURNING run_id";
	const char *p[12] = { tenant_id, n->plan_id, n->step_id, n->model, n->environment,
			      n->status, n->run_type, n->start, n->end, n->executor, n->error,
			      RUN_RUNNING };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 12, p);

	if (rc == 0)
		*run_id = db_val(res, 0, 0);
	return rc;
}

int db_run_finish(struct db *db, struct arena *a, const char *tenant_id, const char *run_id,
		  const struct db_run_done *d)
{
	static const char sql[] =
		"UPDATE runs SET status = $3, error_message = $4, finished_at = now(),"
		" runtime_seconds = $5, rows_processed = $6, cost_usd = $7, statement_id = $8,"
		" external_run_id = $8, collected_at = now()"
		" WHERE tenant_id = $1 AND run_id = $2";
	char secs[40], rows[24], cost[40];
	const char *p[8] = { tenant_id, run_id, d->status, d->error, secs,
			     d->rows >= 0 ? rows : NULL, cost, d->statement_id };

	snprintf(secs, sizeof(secs), "%.6f", d->runtime_seconds);
	snprintf(rows, sizeof(rows), "%lld", d->rows);
	snprintf(cost, sizeof(cost), "%.6f", d->cost_usd);
	return db_exec(NULL, db, a, sql, 8, p);
}

int db_run_plan_steps(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		      const char *plan_id)
{
	static const char sql[] =
		"SELECT DISTINCT ON (step_id) step_id, status FROM runs"
		" WHERE tenant_id = $1 AND plan_id = $2 ORDER BY step_id, started_at DESC, run_id";
	const char *p[2] = { tenant_id, plan_id };

	return db_exec(out, db, a, sql, 2, p);
}

int db_run_json_list(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		     const char *ids)
{
	static const char sql[] =
		"SELECT " DB_RUN_JSON " FROM runs r WHERE r.tenant_id = $1"
		" AND r.run_id = ANY ($2::uuid[]) ORDER BY r.started_at, r.run_id";
	const char *p[2] = { tenant_id, ids };

	return db_exec(out, db, a, sql, 2, p);
}

int db_run_list(const char **json, size_t *len, long long *total, struct db *db,
		struct arena *a, const char *tenant_id, const char *plan_id, const char *model,
		const char *status, long long limit, long long offset)
{
	static const char sql[] =
		"SELECT " DB_RUN_JSON ", count(*) OVER () FROM runs r WHERE r.tenant_id = $1"
		" AND ($2::text IS NULL OR r.plan_id = $2)"
		" AND ($3::text IS NULL OR r.model_name = $3)"
		" AND ($4::text IS NULL OR r.status = $4)"
		" ORDER BY r.started_at DESC, r.run_id LIMIT $5 OFFSET $6";
	static const char count_sql[] =
		"SELECT count(*) FROM runs r WHERE r.tenant_id = $1"
		" AND ($2::text IS NULL OR r.plan_id = $2)"
		" AND ($3::text IS NULL OR r.model_name = $3)"
		" AND ($4::text IS NULL OR r.status = $4)";
	char lim[24], off[24];
	const char *p[6] = { tenant_id, plan_id, model, status, lim, off };
	PGresult *res, *page;
	int rc;

	snprintf(lim, sizeof(lim), "%lld", limit);
	snprintf(off, sizeof(off), "%lld", offset);
	if ((rc = db_exec(&page, db, a, sql, 6, p)) < 0 ||
	    (rc = db_json_rows_array(json, len, a, page)) < 0)
		return rc;
	if (db_rows(page) > 0) {
		*total = db_long(page, 0, 1);
		return 0;
	}
	/* an empty first page means no rows at all: no count needed */
	if (offset == 0) {
		*total = 0;
		return 0;
	}
	/* a page past the end still reports the total */
	rc = db_exec(&res, db, a, count_sql, 4, p);
	if (rc == 0)
		*total = db_long(res, 0, 0);
	return rc;
}

int db_run_get(const char **json, struct db *db, struct arena *a, const char *tenant_id,
	       const char *run_id, int telemetry)
{
	static const char sql[] =
		"SELECT " DB_RUN_JSON " FROM runs r WHERE r.tenant_id = $1 AND r.run_id = $2";
	static const char tel_sql[] =
		"SELECT run_telemetry_json(r)::text FROM runs r"
		" WHERE r.tenant_id = $1 AND r.run_id = $2";
	const char *p[2] = { tenant_id, run_id };
	int rc = db_exec_value(json, db, a, telemetry ? tel_sql : sql, 2, p);

	return rc == IL_EINVALID ? IL_ENOTFOUND : rc;   /* not a uuid: no such run */
}

int db_run_history(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		   const char *env, const char *models, int n)
{
	static const char sql[] =
		"SELECT model_name, status, runtime_seconds FROM ("
		" SELECT model_name, status, runtime_seconds, row_number() OVER"
		"  (PARTITION BY model_name ORDER BY finished_at DESC, run_id) AS n"
		" FROM runs WHERE tenant_id = $1 AND environment = $2"
		"  AND model_name = ANY ($3::text[]) AND status IN ('SUCCESS', 'FAIL')"
		"  AND finished_at IS NOT NULL) h"
		" WHERE n <= $4 ORDER BY model_name, n";
	char limit[16];
	const char *p[4] = { tenant_id, env, models, limit };

	snprintf(limit, sizeof(limit), "%d", n);
	return db_exec(out, db, a, sql, 4, p);
}

int db_watermark_advance(struct db *db, struct arena *a, const char *tenant_id,
			 const char *env, const char *model, const char *start, const char *end)
{
	static const char sql[] =
		"INSERT INTO watermarks AS w (tenant_id, environment, model_name, range_start,"
		" range_end) VALUES ($1, $2, $3, $4, $5)"
		" ON CONFLICT (tenant_id, environment, model_name) DO UPDATE SET"
		" range_start = least(w.range_start, EXCLUDED.range_start),"
		" range_end = EXCLUDED.range_end, updated_at = now()";
	const char *p[5] = { tenant_id, env, model, start, end };

	return db_exec(NULL, db, a, sql, 5, p);
}

const char *db_apply_lock_key(struct arena *a, const char *tenant_id, const char *plan_id)
{
	return arena_printf(a, "apply:%s:%s", tenant_id, plan_id);
}

/* Ends the runs still running of the plans in ids (an array literal), and the plans. */
static int end_plans(struct db *db, struct arena *a, const char *tenant_id, const char *ids,
		     const char *why)
{
	static const char sql[] =
		"WITH lost AS (SELECT unnest($2::text[]) AS plan_id),"
		" ended_runs AS (UPDATE runs SET status = $3, error_message = $4,"
		"  finished_at = now() WHERE tenant_id = $1 AND status = $5"
		"  AND plan_id IN (SELECT plan_id FROM lost) RETURNING run_id)"
		" UPDATE plans SET status = 'failed' WHERE tenant_id = $1"
		" AND status = 'applying' AND plan_id IN (SELECT plan_id FROM lost)";
	const char *p[5] = { tenant_id, ids, RUN_FAILED, why, RUN_RUNNING };

	return db_exec(NULL, db, a, sql, 5, p);
}

int db_apply_end_lost(PGresult **ended, struct db *db, struct arena *a, const char *tenant_id,
		      const char *why)
{
	/* the fence keeps the lock function to the rows that are applying */
	static const char sql[] =
		"SELECT plan_id FROM (SELECT plan_id FROM plans WHERE tenant_id = $1"
		" AND status = 'applying' OFFSET 0) p"
		" WHERE pg_try_advisory_xact_lock(hashtextextended($2 || p.plan_id, 0))";
	const char *p[2] = { tenant_id, db_apply_lock_key(a, tenant_id, "") };
	struct strbuf ids;
	int rc, i;

	if (p[1] == NULL)
		return IL_ENOMEM;
	if ((rc = db_exec(ended, db, a, sql, 2, p)) < 0 || db_rows(*ended) == 0)
		return rc;
	strbuf_init(&ids, a, 1 << 20);
	strbuf_addc(&ids, '{');
	for (i = 0; i < db_rows(*ended); i++)
		strbuf_addf(&ids, "%s%s", i ? "," : "", db_val(*ended, i, 0));
	strbuf_addc(&ids, '}');
	if (strbuf_cstr(&ids) == NULL)
		return IL_ENOMEM;
	return end_plans(db, a, tenant_id, strbuf_cstr(&ids), why);
}

int db_apply_end_plan_runs(struct db *db, struct arena *a, const char *tenant_id,
			   const char *plan_id, const char *why)
{
	const char *ids = arena_printf(a, "{%s}", plan_id);

	return ids != NULL ? end_plans(db, a, tenant_id, ids, why) : IL_ENOMEM;
}
