/* apply.h: running an approved plan against its warehouse, below the handlers */
#ifndef IL_APPLY_APPLY_H
#define IL_APPLY_APPLY_H

#include <json-c/json.h>

struct arena;
struct db;
struct il_config;

/* Who applies, and with what: the request's state, bound to its tenant. */
struct apply_ctx {
	struct db *db;
	struct arena *arena;          /* everything apply allocates */
	const struct il_config *cfg;
	const char *tenant_id;
	const char *actor;            /* the caller's email, for the audit log */
};

/* How an apply (or its preview) ended. */
enum apply_verdict {
	APPLY_DONE,                   /* it ran (or for a preview: it would run) */
	APPLY_NOT_FOUND,              /* no such plan (404) */
	APPLY_REFUSED,                /* the plan cannot run now (409): code, detail, models */
	APPLY_BUSY                    /* the tenant is at its limit of applies at once (429) */
};

struct apply_outcome {
	enum apply_verdict verdict;
	const char *code;             /* a refusal's error code */
	const char *detail;           /* a refusal's message */
	json_object *models;          /* plan_content_changed: the models that differ, or NULL */
	const char *retry_after;      /* APPLY_BUSY: seconds, as text */
	/* APPLY_DONE of an apply */
	const char *status;           /* the plan's status now: "applied" or "failed" */
	json_object *runs;            /* this apply's run records, oldest first */
};

/* The error code of a plan whose models differ from what was approved. */
#define APPLY_CONTENT_CHANGED "plan_content_changed"

/*
 * Runs an approved plan (or the unfinished steps of a failed one)
 * synchronously: locks it, checks it is fresh and its models are what was
 * approved, runs each step in order in the environment's warehouse, records
 * a run per step and ends with the plan applied or failed. out says how it
 * ended; returns 0, or a negative code when our own state failed (the plan
 * then stays resumable).
 */
int apply_plan(struct apply_outcome *out, const struct apply_ctx *c, const char *plan_id);

/* One step of a preview: what apply would send for it. */
struct apply_preview_step {
	const char *step_id, *model, *run_type;
	const char *start, *end;      /* the input range, or NULL */
	int prepared;                 /* materialization and target are known */
	const char *materialization;
	const char *target;           /* the quoted warehouse name, or NULL */
	const char *const *sql;       /* the statements, n of them */
	int n;
	const char *error;            /* why the step cannot run, or NULL */
};

struct apply_preview {
	const char *environment, *executor;
	struct apply_preview_step *steps;
	size_t n;
};

/*
 * The statements apply would send for each step of a plan, through the
 * functions apply uses, connecting to and running nothing. The verdict is
 * APPLY_DONE, or the refusal apply would make (not found; stale; content
 * changed). Returns 0 or a negative code.
 */
int apply_preview(struct apply_outcome *out, struct apply_preview *pv,
		  const struct apply_ctx *c, const char *plan_id);

/*
 * Ends the tenant's applies whose worker died (SIGKILL, a lost state
 * connection): they end as failed, their RUNNING runs FAIL "worker lost".
 * Inside the caller's tenant transaction.
 */
int apply_end_lost(const struct apply_ctx *c);

#endif
