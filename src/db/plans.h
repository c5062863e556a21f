/* plans.h (db): plans, approvals, planner state */
#ifndef IL_DB_PLANS_H
#define IL_DB_PLANS_H

#include <stddef.h>

struct arena;
struct db;
struct plan_inputs;

/* The planner's inputs from the environment's state: its watermarks (by
 * model name) and the last 10 successful runtimes of each model. */
int db_plan_state(struct plan_inputs *in, struct db *db, struct arena *a,
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

/* A plan as its reviewers, apply, its preview and augment read it; strings live until the
 * arena resets, NULL for SQL NULL. */
struct db_plan {
	const char *plan_id;
	const char *environment;
	const char *status;           /* pending, approved, applying, applied, failed, rejected */
	const char *base_sha, *target_sha;
	const char *plan_text;        /* the plan JSON */
	const char *state_digest;     /* of the watermarks when it was made */
	const char *repo_path;        /* as generate resolved it */
	int env_version;              /* of the environment when it was made */
	const char *created_at, *created_by;   /* ISO 8601; the author's email */
	const char *applied_at;
	const char *advisory;         /* JSON object text, NULL before any augment */
	int required_approvals;       /* the environment's (1 without one) */
	int allow_self_approval;      /* the environment's (1 without one) */
};

/* One plan (optionally locked FOR UPDATE); IL_ENOTFOUND. */
int db_plan_load(struct db_plan *out, struct db *db, struct arena *a, const char *tenant_id,
		 const char *plan_id, int for_update);
/*
 * A page of plans, newest first, filtered by environment/status when not
 * NULL, as the JSON array text the API sends; *total counts every match.
 */
int db_plan_list(const char **json, size_t *len, long long *total, struct db *db,
		 struct arena *a, const char *tenant_id, const char *env, const char *status,
		 long long limit, long long offset);
/* One approval or rejection of a plan. */
struct db_approval {
	const char *user_id, *email, *comment;
	const char *at;               /* ISO 8601 */
	const char *action;           /* approved, rejected */
};
/* The plan's approvals and rejections in order, *n of them. */
int db_plan_approvals(struct db_approval **out, size_t *n, struct db *db, struct arena *a,
		      const char *tenant_id, const char *plan_id);
/* IL_ECONFLICT when this user already approved. */
int db_plan_add_approval(struct db *db, struct arena *a, const char *tenant_id,
			 const char *plan_id, const char *user_id, const char *action,
			 const char *comment);
/* Distinct approvers, leaving out the author unless self-approval counts. */
int db_plan_count_approvals(int *count, struct db *db, struct arena *a, const char *tenant_id,
			    const char *plan_id, int count_author);
int db_plan_set_status(struct db *db, struct arena *a, const char *tenant_id,
		       const char *plan_id, const char *status);

/* Records the plan's state digest after its own runs moved the watermarks. */
int db_plan_set_digest(struct db *db, struct arena *a, const char *tenant_id,
		       const char *plan_id, const char *digest);

/* Stores the plan's advisory (a JSON object text) beside the plan, never in it. */
int db_plan_set_advisory(struct db *db, struct arena *a, const char *tenant_id,
			 const char *plan_id, const char *advisory_json);

#endif
