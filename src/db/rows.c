/* rows.c (db): the rows of runs the workflows read, copied out of their PGresults */
#include <string.h>

#include "db/rows.h"
#include "db/db.h"
#include "db/plans.h"
#include "db/runs.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"

int db_plan_step_statuses(struct db_step_status **out, size_t *n, struct db *db,
			  struct arena *a, const char *tenant_id, const char *plan_id)
{
	PGresult *res = NULL;
	int rc = db_run_plan_steps(&res, db, a, tenant_id, plan_id), i;

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	if ((*out = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(**out))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < db_rows(res); i++) {
		(*out)[i].step_id = db_val(res, i, 0);
		(*out)[i].status = db_val(res, i, 1);
	}
	*n = (size_t)db_rows(res);
	return 0;
}

/* The first column of every row of res, *n of them. */
static int first_column(const char ***out, size_t *n, struct arena *a, const PGresult *res)
{
	int i;

	*n = 0;
	if ((*out = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(**out))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < db_rows(res); i++)
		(*out)[i] = db_val(res, i, 0);
	*n = (size_t)db_rows(res);
	return 0;
}

int db_run_json_texts(const char ***out, size_t *n, struct db *db, struct arena *a,
		      const char *tenant_id, const char *ids)
{
	PGresult *res = NULL;
	int rc = db_run_json_list(&res, db, a, tenant_id, ids);

	*out = NULL;
	*n = 0;
	return rc < 0 ? rc : first_column(out, n, a, res);
}

int db_apply_end_lost_plans(const char ***plan_ids, size_t *n, struct db *db, struct arena *a,
			    const char *tenant_id, const char *why)
{
	PGresult *res = NULL;
	int rc = db_apply_end_lost(&res, db, a, tenant_id, why);

	*plan_ids = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	return res == NULL ? 0 : first_column(plan_ids, n, a, res);
}

int db_run_outcomes(struct db_run_outcome **out, size_t *n, struct db *db, struct arena *a,
		    const char *tenant_id, const char *env, const char *models, int per_model)
{
	PGresult *res = NULL;
	int rc = db_run_history(&res, db, a, tenant_id, env, models, per_model), i;

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	if ((*out = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(**out))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < db_rows(res); i++) {
		struct db_run_outcome *o = &(*out)[i];

		o->model = db_val(res, i, 0);
		o->failed = strcmp(db_val(res, i, 1), RUN_FAILED) == 0;
		o->has_runtime = db_val(res, i, 2) != NULL;
		o->runtime_seconds = o->has_runtime ? parse_double_or(db_val(res, i, 2), 0) : 0;
	}
	*n = (size_t)db_rows(res);
	return 0;
}
