/* apply.c: POST /api/v1/plans/:id/apply — run an approved plan step by step */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/apply.h"
#include "core/date.h"
#include "core/json_arena.h"
#include "core/model.h"
#include "core/project.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/plans.h"
#include "db/runs.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/strbuf.h"

static const char *apply_key(struct apply *ap)
{
	return db_apply_lock_key(ap->r->arena, ap->r->who.tenant_id, ap->plan_id);
}

static const char *model_key(struct apply *ap, const char *model)
{
	return arena_printf(ap->r->arena, "model:%s:%s:%s", ap->r->who.tenant_id, ap->env.name,
			    model);
}

/* The plan's step models as a PostgreSQL array literal. */
static const char *step_models(struct apply *ap)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, ap->r->arena, 1 << 24);
	strbuf_addc(&sb, '{');
	for (i = 0; i < json_object_array_length(steps); i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", json_object_get_string(json_object_object_get(
			json_object_array_get_idx(steps, i), "model")));
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

__attribute__((format(printf, 3, 4)))
static int refuse(struct req *r, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	req_error(r, 409, code, "%s", msg);
	return 1;
}

/* The plan's state must be the one approved: same environment, same watermarks. */
static int check_fresh(struct apply *ap)
{
	struct req *r = ap->r;
	char digest[IL_SHA256_HEX_LEN + 1];
	const char *env = db_val(ap->plan, 0, PLAN_ENV);
	int rc = db_env_get(&ap->env, r->db, r->arena, r->who.tenant_id, env);

	if (rc == IL_ENOTFOUND)
		return refuse(r, "stale_plan", "environment %s no longer exists; generate the plan "
			      "again", env);
	if (rc < 0)
		return rc;
	if (ap->env.version != (int)db_long(ap->plan, 0, PLAN_ENV_VERSION))
		return refuse(r, "stale_plan", "environment %s changed since the plan was made; "
			      "generate it again", env);
	rc = db_state_digest(digest, r->db, r->arena, r->who.tenant_id, env, step_models(ap));
	if (rc < 0)
		return rc;
	if (strcmp(digest, db_val(ap->plan, 0, PLAN_STATE_DIGEST)) != 0)
		return refuse(r, "stale_plan", "the watermarks of plan %s's models moved since it "
			      "was made; generate it again", ap->plan_id);
	return 0;
}

/* Whether this status can be applied now; 1 after a 409 when not. */
static int check_status(struct apply *ap, const char *status)
{
	int free_lock = 0, rc;

	if (strcmp(status, "pending") == 0)
		return refuse(ap->r, "not_approved", "plan %s is pending: it needs approval first",
			      ap->plan_id);
	if (strcmp(status, "rejected") == 0)
		return refuse(ap->r, "invalid_state", "plan %s was rejected and can never be applied",
			      ap->plan_id);
	if (strcmp(status, "applied") == 0)
		return refuse(ap->r, "invalid_state", "plan %s is already applied", ap->plan_id);
	if ((rc = db_advisory_try_lock(&free_lock, ap->r->db, ap->r->arena, apply_key(ap))) < 0)
		return rc;
	if (!free_lock)
		return refuse(ap->r, "apply_in_progress", "plan %s is being applied right now",
			      ap->plan_id);
	ap->db_generation = ap->r->db->generation;
	/* "applying" with the lock free: the worker applying it died; end its runs, resume */
	if (strcmp(status, "applying") == 0) {
		log_warn("plan %s: its apply lost its worker or its state connection; applying "
			 "it again", ap->plan_id);
		rc = db_apply_end_plan_runs(ap->r->db, ap->r->arena, ap->r->who.tenant_id,
					    ap->plan_id, APPLY_LOST_WHY);
	}
	return rc;
}

/* Locks the plan, checks it may run, marks it applying. 1 after a 409. */
static int begin_apply(struct apply *ap)
{
	struct req *r = ap->r;
	int rc = db_begin_tenant(r->db, r->arena, r->who.tenant_id);

	if (rc == 0)
		rc = db_plan_get(&ap->plan, r->db, r->arena, r->who.tenant_id, ap->plan_id, 1);
	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "plan %s not found", ap->plan_id);
		return 1;
	}
	if (rc < 0 || (rc = check_status(ap, db_val(ap->plan, 0, PLAN_STATUS))) != 0)
		return rc;
	/* from here on this worker holds the plan's apply lock */
	rc = apply_take_tenant_slot(ap);
	ap->doc = rc == 0 ? api_json_parse(db_val(ap->plan, 0, PLAN_TEXT)) : NULL;
	if (rc == 0 && (ap->doc == NULL || json_arena_own(r->arena, ap->doc) < 0))
		rc = IL_ERR;
	if (rc == 0)
		rc = check_fresh(ap);
	if (rc == 0)
		rc = apply_verify_content(ap);   /* before the plan is marked applying */
	if (rc == 0 &&
	    (rc = db_plan_set_status(r->db, r->arena, r->who.tenant_id, ap->plan_id, "applying")) == 0)
		rc = db_commit(r->db, r->arena);
	if (rc != 0) {
		/* an aborted transaction would refuse the unlock: end it first */
		db_rollback(r->db, r->arena);
		apply_release_tenant_slot(ap);
		db_advisory_unlock(r->db, r->arena, apply_key(ap));
	}
	return rc;
}

/* In its own short transaction, so a crash mid-apply leaves what happened. */
static int record_start(const char **run_id, struct apply *ap, const struct step *s,
			const char *status, const char *why)
{
	struct req *r = ap->r;
	struct db_run_new n = { ap->plan_id, s->id, s->model, ap->env.name, s->run_type,
				s->start, s->end, ap->env.executor, status, why };
	int rc = apply_begin(ap);

	if (rc == 0 && (rc = db_run_start(run_id, r->db, r->arena, r->who.tenant_id, &n)) == 0)
		rc = db_commit(r->db, r->arena);
	if (rc == 0)
		strbuf_addf(&ap->run_ids, "%s%s", ap->run_ids.len ? "," : "", *run_id);
	return rc;
}

static int record_finish(struct apply *ap, const struct step *s, const char *run_id,
			 const struct exec_result *res)
{
	struct req *r = ap->r;
	struct db_run_done d = { res->ok ? RUN_SUCCESS : RUN_FAILED, res->ok ? NULL : res->error,
				 res->runtime_seconds, res->rows,
				 res->runtime_seconds * r->cfg->cost_per_compute_second,
				 res->statement_id };
	char digest[IL_SHA256_HEX_LEN + 1];
	int rc = apply_begin(ap);

	if (rc == 0)
		rc = db_run_finish(r->db, r->arena, r->who.tenant_id, run_id, &d);
	if (rc == 0 && res->ok && s->end != NULL) {
		/* this plan moved the watermark itself: that does not make it stale */
		if ((rc = db_watermark_advance(r->db, r->arena, r->who.tenant_id, ap->env.name,
					       s->model, s->start, s->end)) == 0 &&
		    (rc = db_state_digest(digest, r->db, r->arena, r->who.tenant_id, ap->env.name,
					  step_models(ap))) == 0)
			rc = db_plan_set_digest(r->db, r->arena, r->who.tenant_id, ap->plan_id, digest);
	}
	if (rc == 0)
		rc = db_commit(r->db, r->arena);
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
		return rc < 0 ? rc : run_not_started(ap, s, arena_printf(ap->r->arena,
			"timed out: the apply ran out of time (apply_timeout_seconds = %ld) waiting"
			" for another apply of this model", ap->r->cfg->apply_timeout_seconds));
	rc = record_start(&run_id, ap, s, RUN_RUNNING, NULL);
	if (rc == 0) {
		e.run_id = run_id;
		apply_step_deadline(ap, &e);
		if (ap->ex->run(ap->ex, ap->r->arena, &e, &res) < 0)
			res.error = "the executor failed";
		rc = record_finish(ap, s, run_id, &res);
	}
	db_rollback(ap->r->db, ap->r->arena);   /* a no-op unless recording failed */
	db_advisory_unlock(ap->r->db, ap->r->arena, model_lock);
	if (!res.ok)
		ap->all_ok = 0;
	return rc;
}

/* The latest status of step id in this plan's earlier applies, or NULL. */
static const char *earlier_status(PGresult *prior, const char *id)
{
	int i;

	for (i = 0; i < db_rows(prior); i++)
		if (strcmp(db_val(prior, i, 0), id) == 0)
			return db_val(prior, i, 1);
	return NULL;
}

/* A dependency that has no SUCCESS yet (in earlier applies or this one), or NULL. */
static const char *failed_dependency(struct apply *ap, const struct step *s, PGresult **prior)
{
	size_t i;

	struct req *r = ap->r;
	int rc = apply_begin(ap);

	if (rc == 0)
		rc = db_run_plan_steps(prior, r->db, r->arena, r->who.tenant_id, ap->plan_id);
	db_rollback(r->db, r->arena);
	if (rc < 0)
		return "";
	for (i = 0; i < json_object_array_length(s->depends_on); i++) {
		const char *dep = json_object_get_string(json_object_array_get_idx(s->depends_on, i));
		const char *st = earlier_status(*prior, dep);

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
	size_t i;
	int rc = 0;

	for (i = 0; i < json_object_array_length(steps) && rc == 0; i++) {
		struct step s;
		PGresult *prior = NULL;
		const char *dep, *st;

		apply_read_step(&s, json_object_array_get_idx(steps, i));
		dep = failed_dependency(ap, &s, &prior);
		if (prior == NULL)
			return IL_EUNAVAIL;   /* our own state is out of reach */
		st = earlier_status(prior, s.id);
		if (st != NULL && strcmp(st, RUN_SUCCESS) == 0)
			continue;   /* done by an earlier apply of this plan */
		if (dep != NULL)
			rc = skip_step(ap, &s, arena_printf(ap->r->arena, "skipped: upstream step "
							      "%.12s did not succeed", dep));
		else if (exec_now_ms() >= ap->deadline_ms)
			rc = skip_step(ap, &s, arena_printf(ap->r->arena, "skipped: the apply ran out"
							      " of time (apply_timeout_seconds = %ld)",
							      ap->r->cfg->apply_timeout_seconds));
		else
			rc = run_step(ap, &s);
	}
	return rc;
}

/* Marks the plan applied or failed, audits it, and answers with this apply's runs. */
static int finish_apply(struct apply *ap)
{
	struct req *r = ap->r;
	const char *status = ap->all_ok ? "applied" : "failed";
	const char *ids = arena_printf(r->arena, "{%s}", strbuf_cstr(&ap->run_ids));
	PGresult *runs = NULL;
	json_object *o, *list;
	int rc = apply_begin(ap), i;

	if (rc == 0)
		rc = db_plan_set_status(r->db, r->arena, r->who.tenant_id, ap->plan_id, status);
	if (rc == 0)
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				     ap->all_ok ? "plan_applied" : "plan_apply_failed", "plan",
				     ap->plan_id, NULL);
	if (rc == 0)
		rc = db_run_json_list(&runs, r->db, r->arena, r->who.tenant_id, ids);
	if (rc == 0)
		rc = db_commit(r->db, r->arena);
	if (rc < 0)
		return rc;
	o = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < db_rows(runs); i++)
		json_object_array_add(list, api_json_parse(db_val(runs, i, 0)));
	json_object_object_add(o, "plan_id", json_object_new_string(ap->plan_id));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "runs", list);
	req_json(r, 200, o);
	return 0;
}

/*
 * POST /api/v1/plans/:id/apply (operator): runs an approved plan (or the
 * unfinished steps of a failed one) synchronously and answers 200 with
 * {plan_id, status, runs}. 409 when the plan is not approved, is being
 * applied, or is stale (its environment or its models' watermarks changed).
 */
int api_plans_apply(struct req *r)
{
	struct apply ap;
	const char *id = req_param(r, 0);
	int rc;

	memset(&ap, 0, sizeof(ap));
	ap.r = r;
	ap.all_ok = 1;
	ap.deadline_ms = exec_now_ms() + (long long)r->cfg->apply_timeout_seconds * 1000;
	strbuf_init(&ap.run_ids, r->arena, 1 << 22);
	if (id == NULL || !is_hex_string(id, 64, 64)) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return 0;
	}
	ap.plan_id = id;
	if ((rc = begin_apply(&ap)) != 0)
		return rc > 0 ? 0 : rc;
	rc = apply_open_executor(&ap);   /* ap.project was read and verified by begin_apply */
	if (rc == 0)
		rc = run_steps(&ap);
	if (ap.ex != NULL)
		ap.ex->close(ap.ex);
	db_rollback(r->db, r->arena);
	if (rc == 0)
		rc = finish_apply(&ap);
	else
		log_error("apply %s stopped early; it stays resumable", id);
	db_rollback(r->db, r->arena);   /* the unlock must not meet an aborted transaction */
	apply_release_tenant_slot(&ap);
	db_advisory_unlock(r->db, r->arena, apply_key(&ap));
	return rc;
}
