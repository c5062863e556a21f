/* rows.h (db): typed rows of runs for the workflows below the handlers (plans: db/plans.h) */
#ifndef IL_DB_ROWS_H
#define IL_DB_ROWS_H

#include <stddef.h>

#include "db/plans.h"

struct arena;
struct db;

/* The latest run of one step of a plan. */
struct db_step_status {
	const char *step_id;
	const char *status;           /* RUN_SUCCESS … (db/runs.h) */
};

/* The latest run of each step of a plan, *n of them. */
int db_plan_step_statuses(struct db_step_status **out, size_t *n, struct db *db,
			  struct arena *a, const char *tenant_id, const char *plan_id);

/* The given runs (an array literal of ids) as JSON texts, oldest first, *n of them. */
int db_run_json_texts(const char ***out, size_t *n, struct db *db, struct arena *a,
		      const char *tenant_id, const char *ids);

/*
 * db_apply_end_lost (db/runs.h) with the ids of the plans it ended, *n of
 * them. Inside a tenant transaction.
 */
int db_apply_end_lost_plans(const char ***plan_ids, size_t *n, struct db *db, struct arena *a,
			    const char *tenant_id, const char *why);

/* One finished run in a model's history. */
struct db_run_outcome {
	const char *model;
	int failed;                   /* RUN_FAILED, else RUN_SUCCESS */
	int has_runtime;
	double runtime_seconds;
};

/*
 * Each of models' (an array literal) last per_model finished runs in env,
 * newest first, *n of them (db_run_history).
 */
int db_run_outcomes(struct db_run_outcome **out, size_t *n, struct db *db, struct arena *a,
		    const char *tenant_id, const char *env, const char *models, int per_model);

#endif
