/* plans.h (db): environments as plans see them, plans, approvals, planner state */
#ifndef IL_DB_PLANS_H
#define IL_DB_PLANS_H

#include <libpq-fe.h>

struct arena;
struct db;

struct db_env {
	const char *id;
	const char *name;
	const char *executor;
	const char *catalog;
	const char *schema_prefix;
	int required_approvals;
	int allow_self_approval;
	int version;
	long step_timeout_seconds;    /* 0: the server's step_timeout_seconds */
};

/* The tenant's environment by name; IL_ENOTFOUND. */
int db_env_get(struct db_env *out, struct db *db, struct arena *a, const char *tenant_id,
	       const char *name);

/* Rows (model_name, range_end) of the environment's watermarks, by name. */
int db_state_watermarks(PGresult **out, struct db *db, struct arena *a,
			const char *tenant_id, const char *env);
/* Rows (model_name, runtime_seconds) of the last 10 successful runs per model. */
int db_state_runtimes(PGresult **out, struct db *db, struct arena *a,
		      const char *tenant_id, const char *env);

/*
 * SHA-256 (hex) over the environment's watermarks of the given models (a
 * PostgreSQL array literal): a plan records it, apply compares it.
 */
int db_state_digest(char out[65], struct db *db, struct arena *a, const char *tenant_id,
		    const char *env, const char *models);

struct db_plan_row {
	const char *plan_id, *environment, *state_digest, *repo_path, *base_sha, *target_sha;
	const char *as_of, *plan_text;
	const char *model_hashes;   /* JSON object: step model -> content hash */
	int env_version, total_steps, models_changed;
	double cost;
	const char *created_by;
};

/* Stores a new plan; *created is 0 when the tenant already had this plan id. */
int db_plan_insert(int *created, struct db *db, struct arena *a, const char *tenant_id,
		   const struct db_plan_row *p);

/*
 * The plan's step model content hashes as stored at generate (a JSON object
 * text); *out is NULL for a plan made before they were recorded. IL_ENOTFOUND.
 */
int db_plan_model_hashes(const char **out, struct db *db, struct arena *a,
			 const char *tenant_id, const char *plan_id);

/*
 * Columns of db_plan_get and db_plan_list rows, in order. Strings borrowed
 * from the result.
 */
enum db_plan_col {
	PLAN_ID, PLAN_ENV, PLAN_STATUS, PLAN_BASE, PLAN_TARGET, PLAN_STEPS,
	PLAN_COST, PLAN_CHANGED, PLAN_CREATED_AT, PLAN_CREATED_BY, PLAN_APPLIED_AT,
	PLAN_TEXT, PLAN_ADVISORY, PLAN_REQUIRED, PLAN_SELF_OK, PLAN_CREATED_BY_ID,
	PLAN_ENV_VERSION, PLAN_STATE_DIGEST, PLAN_AS_OF, PLAN_REPO_PATH, PLAN_NCOLS
};
/* One plan (optionally locked FOR UPDATE); IL_ENOTFOUND. */
int db_plan_get(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		const char *plan_id, int for_update);
/*
 * Columns of the list query: what a list item shows, the plan's
 * summary.models_changed (a JSON array text) and its length (NULL when it is
 * not an array), and the total.
 */
enum db_plan_list_col {
	PLAN_LIST_ID, PLAN_LIST_ENV, PLAN_LIST_STATUS, PLAN_LIST_BASE, PLAN_LIST_TARGET,
	PLAN_LIST_STEPS, PLAN_LIST_COST, PLAN_LIST_CREATED_AT, PLAN_LIST_CREATED_BY,
	PLAN_LIST_MODELS_CHANGED, PLAN_LIST_MODELS_CHANGED_COUNT, PLAN_LIST_TOTAL
};
/*
 * A page of plans, newest first, filtered by environment/status when not
 * NULL, as the JSON array text the API sends; *total counts every match.
 */
int db_plan_list(const char **json, size_t *len, long long *total, struct db *db,
		 struct arena *a, const char *tenant_id, const char *env, const char *status,
		 long long limit, long long offset);
/* Rows (user_id, email, comment, at, action) in order. */
int db_plan_approvals(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
		      const char *plan_id);
/* IL_ECONFLICT when this user already approved. */
int db_plan_add_approval(struct db *db, struct arena *a, const char *tenant_id,
			 const char *plan_id, const char *user_id, const char *action,
			 const char *comment);
/* Distinct approvers, leaving out the author unless self-approval counts. */
int db_plan_count_approvals(int *count, struct db *db, struct arena *a, const char *tenant_id,
			    const char *plan_id, int count_author);
int db_plan_set_status(struct db *db, struct arena *a, const char *tenant_id,
		       const char *plan_id, const char *status);

/* Stores the plan's advisory (a JSON object text) beside the plan, never in it. */
int db_plan_set_advisory(struct db *db, struct arena *a, const char *tenant_id,
			 const char *plan_id, const char *advisory_json);

#endif
