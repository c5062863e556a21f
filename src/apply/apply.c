/* apply.c: run an approved plan step by step (locks, transactions, runs, the result) */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply/apply_int.h"
#include "core/date.h"
#include "core/model.h"
#include "core/project.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/plans.h"
#include "db/runs.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/strbuf.h"

int apply_refuse(struct apply *ap, enum apply_verdict verdict, const char *code,
		 const char *fmt, ...)
{
	char msg[512];
	va_list va;

	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	ap->out->verdict = verdict;
	ap->out->code = code;
	ap->out->detail = arena_strdup(ap->c->arena, msg);
	return 1;
}

json_object *apply_json_parse(struct apply *ap, const char *text)
{
	json_object *o = text != NULL ? json_tokener_parse(text) : NULL;

	return o != NULL && json_arena_own(ap->c->arena, o) == 0 ? o : NULL;
}

static const char *apply_key(struct apply *ap)
{
	return db_apply_lock_key(ap->c->arena, ap->c->tenant_id, ap->plan_id);
}

static const char *model_key(struct apply *ap, const char *model)
{
	return arena_printf(ap->c->arena, "model:%s:%s:%s", ap->c->tenant_id, ap->env.name,
			    model);
}

/* The plan's step models as a PostgreSQL array literal. */
static const char *step_models(struct apply *ap)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, ap->c->arena, IL_MAX_RESPONSE_TEXT);
	strbuf_addc(&sb, '{');
	for (i = 0; i < json_object_array_length(steps); i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "",
			    json_str(json_object_array_get_idx(steps, i), "model"));
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

int apply_check_environment(struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	const char *env = ap->plan.environment;
	int rc = db_env_get(&ap->env, c->db, c->arena, c->tenant_id, env);

	if (rc == IL_ENOTFOUND)
		return apply_refuse(ap, APPLY_REFUSED, "stale_plan", "environment %s no longer "
				    "exists; generate the plan again", env);
	if (rc < 0)
		return rc;
	if (ap->env.version != ap->plan.env_version)
		return apply_refuse(ap, APPLY_REFUSED, "stale_plan", "environment %s changed since "
				    "the plan was made; generate it again", env);
	return 0;
}

/* The plan's state must be the one approved: same environment, same watermarks. */
static int check_fresh(struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	char digest[IL_SHA256_HEX_LEN + 1];
	int rc = apply_check_environment(ap);

	if (rc != 0)
		return rc;
	rc = db_state_digest(digest, c->db, c->arena, c->tenant_id, ap->plan.environment,
			     step_models(ap));
	if (rc < 0)
		return rc;
	if (strcmp(digest, ap->plan.state_digest) != 0)
		return apply_refuse(ap, APPLY_REFUSED, "stale_plan", "the watermarks of plan %s's "
				    "models moved since it was made; generate it again",
				    ap->plan_id);
	return 0;
}

/* Whether this status can be applied now; 1 after a refusal when not. */
static int check_status(struct apply *ap, const char *status)
{
	const struct apply_ctx *c = ap->c;
	int free_lock = 0, rc;

	if (strcmp(status, "pending") == 0)
		return apply_refuse(ap, APPLY_REFUSED, "not_approved", "plan %s is pending: it "
				    "needs approval first", ap->plan_id);
	if (strcmp(status, "rejected") == 0)
		return apply_refuse(ap, APPLY_REFUSED, "invalid_state", "plan %s was rejected and "
				    "can never be applied", ap->plan_id);
	if (strcmp(status, "applied") == 0)
		return apply_refuse(ap, APPLY_REFUSED, "invalid_state", "plan %s is already "
				    "applied", ap->plan_id);
	if ((rc = db_advisory_try_lock(&free_lock, c->db, c->arena, apply_key(ap))) < 0)
		return rc;
	if (!free_lock)
		return apply_refuse(ap, APPLY_REFUSED, "apply_in_progress", "plan %s is being "
				    "applied right now", ap->plan_id);
	ap->db_generation = c->db->generation;
	/* "applying" with the lock free: the worker applying it died; end its runs, resume */
	if (strcmp(status, "applying") == 0) {
		log_warn("plan %s: its apply lost its worker or its state connection; applying "
			 "it again", ap->plan_id);
		rc = db_apply_end_plan_runs(c->db, c->arena, c->tenant_id, ap->plan_id,
					    APPLY_LOST_WHY);
	}
	return rc;
}

/* Locks the plan, checks it may run, marks it applying. 1 after a refusal. */
static int begin_apply(struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	int rc = db_begin_tenant(c->db, c->arena, c->tenant_id);

	if (rc == 0)
		rc = db_plan_load(&ap->plan, c->db, c->arena, c->tenant_id, ap->plan_id, 1);
	if (rc == IL_ENOTFOUND) {
		db_rollback(c->db, c->arena);
		return apply_refuse(ap, APPLY_NOT_FOUND, "not_found", "plan %s not found",
				    ap->plan_id);
	}
	if (rc < 0 || (rc = check_status(ap, ap->plan.status)) != 0)
		return rc;
	/* from here on this worker holds the plan's apply lock */
	rc = apply_take_tenant_slot(ap);
	ap->doc = rc == 0 ? apply_json_parse(ap, ap->plan.plan_text) : NULL;
	if (rc == 0 && ap->doc == NULL)
		rc = IL_ERR;
	if (rc == 0)
		rc = check_fresh(ap);
	if (rc == 0)
		rc = apply_verify_content(ap);   /* before the plan is marked applying */
	if (rc == 0 && (rc = db_plan_set_status(c->db, c->arena, c->tenant_id, ap->plan_id,
						"applying")) == 0)
		rc = db_commit(c->db, c->arena);
	if (rc != 0) {
		/* an aborted transaction would refuse the unlock: end it first */
		db_rollback(c->db, c->arena);
		apply_release_tenant_slot(ap);
		db_advisory_unlock(c->db, c->arena, apply_key(ap));
	}
	return rc;
}

/* In its own short transaction, so a crash mid-apply leaves what happened. */
static int record_start(const char **run_id, struct apply *ap, const struct step *s,
			const char *status, const char *why)
{
	const struct apply_ctx *c = ap->c;
	struct db_run_new n = { ap->plan_id, s->id, s->model, ap->env.name, s->run_type,
				s->start, s->end, ap->env.executor, status, why };
	int rc = apply_begin(ap);

	if (rc == 0 && (rc = db_run_start(run_id, c->db, c->arena, c->tenant_id, &n)) == 0)
		rc = db_commit(c->db, c->arena);
	if (rc == 0)
		strbuf_addf(&ap->run_ids, "%s%s", ap->run_ids.len ? "," : "", *run_id);
	return rc;
}

/* This plan moved the watermark itself: that does not make it stale. */
static int advance_watermark(struct apply *ap, const struct step *s)
{
	const struct apply_ctx *c = ap->c;
	char digest[IL_SHA256_HEX_LEN + 1];
	int rc = db_watermark_advance(c->db, c->arena, c->tenant_id, ap->env.name, s->model,
				      s->start, s->end);

	if (rc == 0)
		rc = db_state_digest(digest, c->db, c->arena, c->tenant_id, ap->env.name,
				     step_models(ap));
	if (rc == 0)
		rc = db_plan_set_digest(c->db, c->arena, c->tenant_id, ap->plan_id, digest);
	return rc;
}

static int record_finish(struct apply *ap, const struct step *s, const char *run_id,
			 const struct exec_result *res)
{
	const struct apply_ctx *c = ap->c;
	struct db_run_done d = { res->ok ? RUN_SUCCESS : RUN_FAILED, res->ok ? NULL : res->error,
				 res->runtime_seconds, res->rows,
				 res->runtime_seconds * c->cfg->cost_per_compute_second,
				 res->statement_id };
	int rc = apply_begin(ap);

	if (rc == 0)
		rc = db_run_finish(c->db, c->arena, c->tenant_id, run_id, &d);
	if (rc == 0 && res->ok && s->end != NULL)
		rc = advance_watermark(ap, s);
	if (rc == 0)
		rc = db_commit(c->db, c->arena);
	return rc;
}

/* Fills the executor's view of a step; NULL on success, else why it cannot run. */
static const char *prepare(struct exec_step *e, struct apply *ap, const struct step *s)
{
	if (ap->ex == NULL || ap->project == NULL)
		return ap->ex_error ? ap->ex_error : "the warehouse is unavailable";
	return apply_step_prepare(e, ap, s);
}

/* Records a run that could not start (why) as failed at once. */
static int run_not_started(struct apply *ap, const struct step *s, const char *why)
{
	struct exec_result res;
	const char *run_id = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	res.rows = -1;
	res.error = why;
	ap->all_ok = 0;
	if ((rc = record_start(&run_id, ap, s, RUN_RUNNING, NULL)) < 0)
		return rc;
	return record_finish(ap, s, run_id, &res);
}

static int run_step(struct apply *ap, const struct step *s)
{
	const struct apply_ctx *c = ap->c;
	struct exec_result res;
	struct exec_step e;
	const char *run_id = NULL, *why, *model_lock = model_key(ap, s->model);
	int rc;

	memset(&res, 0, sizeof(res));
	res.rows = -1;
	if ((why = prepare(&e, ap, s)) != NULL)
		return run_not_started(ap, s, why);
	/* two plans never run one model of an environment at the same time:
	 * the run starts once the model is ours */
	if ((rc = apply_lock_model(ap, model_lock)) != 0)
		return rc < 0 ? rc : run_not_started(ap, s, arena_printf(c->arena,
			"timed out: the apply ran out of time (apply_timeout_seconds = %ld) waiting"
			" for another apply of this model", c->cfg->apply_timeout_seconds));
	rc = record_start(&run_id, ap, s, RUN_RUNNING, NULL);
	if (rc == 0) {
		e.run_id = run_id;
		apply_step_deadline(ap, &e);
		if (ap->ex->run(ap->ex, c->arena, &e, &res) < 0)
			res.error = "the executor failed";
		rc = record_finish(ap, s, run_id, &res);
	}
	db_rollback(c->db, c->arena);   /* a no-op unless recording failed */
	db_advisory_unlock(c->db, c->arena, model_lock);
	if (!res.ok)
		ap->all_ok = 0;
	return rc;
}

/* The latest status of step id in this plan's earlier applies, or NULL. */
static const char *earlier_status(const struct db_step_status *prior, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(prior[i].step_id, id) == 0)
			return prior[i].status;
	return NULL;
}

/* The latest run of each step of this plan so far (its earlier applies and this one). */
static int step_statuses(struct db_step_status **prior, size_t *n, struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	int rc = apply_begin(ap);

	if (rc == 0)
		rc = db_plan_step_statuses(prior, n, c->db, c->arena, c->tenant_id, ap->plan_id);
	db_rollback(c->db, c->arena);
	return rc;
}

/* A dependency that has no SUCCESS yet (in earlier applies or this one), or NULL. */
static const char *failed_dependency(const struct step *s, const struct db_step_status *prior,
				     size_t n)
{
	size_t i;

	for (i = 0; i < json_object_array_length(s->depends_on); i++) {
		const char *dep = json_str(json_object_array_get_idx(s->depends_on, i), NULL);
		const char *st = earlier_status(prior, n, dep);

		if (st == NULL || strcmp(st, RUN_SUCCESS) != 0)
			return dep;
	}
	return NULL;
}

/* Records step s as not run (cancelled), for why. */
static int skip_step(struct apply *ap, const struct step *s, const char *why)
{
	const char *run_id;

	ap->all_ok = 0;
	return record_start(&run_id, ap, s, RUN_CANCELLED, why);
}

static int run_steps(struct apply *ap)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	struct arena *a = ap->c->arena;
	size_t i;
	int rc = 0;

	for (i = 0; i < json_object_array_length(steps) && rc == 0; i++) {
		struct db_step_status *prior = NULL;
		const char *dep, *st;
		struct step s;
		size_t n = 0;

		apply_read_step(&s, json_object_array_get_idx(steps, i));
		if (step_statuses(&prior, &n, ap) < 0)
			return IL_EUNAVAIL;   /* our own state is out of reach */
		dep = failed_dependency(&s, prior, n);
		st = earlier_status(prior, n, s.id);
		if (st != NULL && strcmp(st, RUN_SUCCESS) == 0)
			continue;   /* done by an earlier apply of this plan */
		if (dep != NULL)
			rc = skip_step(ap, &s, arena_printf(a, "skipped: upstream step %.12s did "
							      "not succeed", dep));
		else if (exec_now_ms() >= ap->deadline_ms)
			rc = skip_step(ap, &s, arena_printf(a, "skipped: the apply ran out of time "
							      "(apply_timeout_seconds = %ld)",
							      ap->c->cfg->apply_timeout_seconds));
		else
			rc = run_step(ap, &s);
	}
	return rc;
}

/* This apply's runs as a JSON array, oldest first. */
static int runs_json(json_object **out, struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	const char *ids = arena_printf(c->arena, "{%s}", strbuf_cstr(&ap->run_ids));
	const char **texts = NULL;
	size_t i, n = 0;
	int rc = db_run_json_texts(&texts, &n, c->db, c->arena, c->tenant_id, ids);

	if (rc < 0)
		return rc;
	*out = json_object_new_array();
	if (*out == NULL || json_arena_own(c->arena, *out) < 0)
		return IL_ENOMEM;
	for (i = 0; i < n; i++)
		json_object_array_add(*out, texts[i] ? json_tokener_parse(texts[i]) : NULL);
	return 0;
}

/* Marks the plan applied or failed, audits it, and reads back this apply's runs. */
static int finish_apply(struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	const char *status = ap->all_ok ? "applied" : "failed";
	int rc = apply_begin(ap);

	if (rc == 0)
		rc = db_plan_set_status(c->db, c->arena, c->tenant_id, ap->plan_id, status);
	if (rc == 0)
		rc = db_audit_append(c->db, c->arena, c->tenant_id, c->actor,
				     ap->all_ok ? "plan_applied" : "plan_apply_failed", "plan",
				     ap->plan_id, NULL);
	if (rc == 0)
		rc = runs_json(&ap->out->runs, ap);
	if (rc == 0)
		rc = db_commit(c->db, c->arena);
	if (rc < 0)
		return rc;
	ap->out->verdict = APPLY_DONE;
	ap->out->status = status;
	return 0;
}

int apply_plan(struct apply_outcome *out, const struct apply_ctx *c, const char *plan_id)
{
	struct apply ap;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ap, 0, sizeof(ap));
	ap.c = c;
	ap.out = out;
	ap.plan_id = plan_id;
	ap.all_ok = 1;
	ap.deadline_ms = exec_now_ms() + (long long)c->cfg->apply_timeout_seconds * 1000;
	strbuf_init(&ap.run_ids, c->arena, 1 << 22);
	if ((rc = begin_apply(&ap)) != 0)
		return rc > 0 ? 0 : rc;
	rc = apply_open_executor(&ap);   /* ap.project was read and verified by begin_apply */
	if (rc == 0)
		rc = run_steps(&ap);
	if (ap.ex != NULL)
		ap.ex->close(ap.ex);
	db_rollback(c->db, c->arena);
	if (rc == 0)
		rc = finish_apply(&ap);
	else
		log_error("apply %s stopped early; it stays resumable", plan_id);
	db_rollback(c->db, c->arena);   /* the unlock must not meet an aborted transaction */
	apply_release_tenant_slot(&ap);
	db_advisory_unlock(c->db, c->arena, apply_key(&ap));
	return rc;
}
