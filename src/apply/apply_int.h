/* apply_int.h: what the files of the apply layer share */
#ifndef IL_APPLY_INT_H
#define IL_APPLY_INT_H

#include <json-c/json.h>

#include "apply/apply.h"
#include "db/environments.h"
#include "db/rows.h"
#include "db/plans.h"
#include "exec/exec.h"
#include "util/strbuf.h"

struct project;

struct apply {
	const struct apply_ctx *c;
	struct apply_outcome *out;    /* how it ended, for the handler */
	const char *plan_id;
	struct db_plan plan;
	struct db_env env;
	json_object *doc;             /* the parsed plan */
	struct project *project;      /* the models at the plan's target commit */
	struct executor *ex;          /* NULL when the warehouse could not be reached */
	const char *ex_error;         /* why, for the runs that could not start */
	struct strbuf run_ids;        /* PostgreSQL array literal body of this apply's runs */
	int all_ok;
	long long deadline_ms;        /* when the whole apply must be over (exec_now_ms clock) */
	unsigned long db_generation;  /* of the state connection that holds the apply lock */
	const char *tenant_slot;      /* the key of the tenant's apply slot held, or NULL */
};

/* One step of the plan JSON; strings are borrowed from it. */
struct step {
	const char *id, *model, *run_type, *start, *end;
	json_object *depends_on;
};

/*
 * Records a refusal (verdict, code, printf-style detail) in ap->out;
 * returns 1, the "answered" of the functions below.
 */
int apply_refuse(struct apply *ap, enum apply_verdict verdict, const char *code,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The JSON text of the database as an object the arena owns, or NULL. */
json_object *apply_json_parse(struct apply *ap, const char *text);

/* step.c: what apply and its preview share */
void apply_read_step(struct step *s, json_object *o);
/*
 * Fills the executor's view of step s (ap->project loaded and verified by
 * apply_verify_content): its target, materialization, range and rendered
 * SQL. NULL on success, else why the step cannot run.
 */
const char *apply_step_prepare(struct exec_step *e, struct apply *ap, const struct step *s);

/* The error of the runs an apply left RUNNING when its worker went away. */
#define APPLY_LOST_WHY "worker lost: the apply stopped during this step (its worker or its" \
	" state database connection went away); apply the plan again"

/*
 * warehouse.c: opens the environment's executor: its own sealed connection,
 * or for a postgres environment without one the server's shared warehouse,
 * logged in as the tenant's own role (created on first use) with the plan's
 * schemas created for it. On failure sets ap->ex_error and leaves ap->ex
 * NULL. Returns a negative code only for failures of our own state.
 */
int apply_open_executor(struct apply *ap);

/*
 * The environment must be the one the plan was made for (it still exists,
 * same version): 0, 1 after a stale_plan refusal, or a negative code.
 */
int apply_check_environment(struct apply *ap);

/*
 * verify.c: what was approved is what runs, checked before any run row
 * exists: the plan's repo_path still resolves, inside the tenant's roots, to
 * the path generate resolved; the models at the target commit read back with
 * every object hash-checked; and each step's model content hash equals the
 * one stored at generate. Sets ap->project (what the steps then run).
 * Returns 0, 1 after a plan_content_changed refusal, or a negative code.
 */
int apply_verify_content(struct apply *ap);

/* limits.c */
/*
 * Takes one of the tenant's apply slots (its tier's max_concurrent_applies,
 * session advisory locks of the state connection); 1 after an APPLY_BUSY
 * refusal when they are all taken, 0, or a negative code.
 */
int apply_take_tenant_slot(struct apply *ap);
void apply_release_tenant_slot(struct apply *ap);
/*
 * BEGIN a tenant transaction on the connection that holds the apply's
 * locks: IL_EUNAVAIL when it is a new connection (the database restarted,
 * the locks are gone), and the apply must stop writing.
 */
int apply_begin(struct apply *ap);
/*
 * Waits for a model's lock (held while another plan runs that model) until
 * the apply's deadline: 0 once held, 1 when the time ran out, or a negative code.
 */
int apply_lock_model(struct apply *ap, const char *key);
/*
 * The step's deadline: its time (step_timeout_seconds, lowered by the
 * environment), within the apply's.
 */
void apply_step_deadline(const struct apply *ap, struct exec_step *e);

/* The warehouse schema of a model name (prefix_schemapart), or NULL. */
const char *apply_schema_of(struct apply *ap, const char *model);
/* The fully qualified, quoted warehouse name of a model for this executor. */
const char *apply_qualified(struct apply *ap, const char *model);

#endif
