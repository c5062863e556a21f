/* apply_limits.c: what bounds an apply: its tenant's share, its time, its state connection */
#include <errno.h>
#include <time.h>

#include "api/api.h"
#include "api/apply.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/runs.h"
#include "exec/exec.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

/* Seconds a tenant at its limit of applies at once is told to wait. */
#define APPLY_TENANT_RETRY_AFTER "10"
/* Longest pause between two tries of a model's lock. */
#define APPLY_LOCK_POLL_MAX_MS 500

int apply_take_tenant_slot(struct apply *ap)
{
	struct req *r = ap->r;
	const char *tier = NULL;
	long max = 0, i;
	int got = 0, rc = billing_apply_limit(&max, &tier, r);

	if (rc < 0 || max < 0)
		return rc;       /* unlimited: the host's apply_workers still bound it */
	for (i = 0; i < max && !got; i++) {
		const char *key = arena_printf(r->arena, "apply-slot:%s:%ld", r->who.tenant_id, i);

		if (key == NULL)
			return IL_ENOMEM;
		if ((rc = db_advisory_try_lock(&got, r->db, r->arena, key)) < 0)
			return rc;
		if (got)
			ap->tenant_slot = key;
	}
	if (got)
		return 0;
	req_error(r, 429, "too_many_applies", "the %s tier runs at most %ld apply%s of a tenant "
		  "at a time and this tenant is at that limit; try again when one is done", tier,
		  max, max == 1 ? "" : "s");
	req_header_add(r, "Retry-After", APPLY_TENANT_RETRY_AFTER);
	return 1;
}

void apply_release_tenant_slot(struct apply *ap)
{
	if (ap->tenant_slot != NULL)
		db_advisory_unlock(ap->r->db, ap->r->arena, ap->tenant_slot);
	ap->tenant_slot = NULL;
}

int apply_begin(struct apply *ap)
{
	struct req *r = ap->r;
	int rc = db_begin_tenant(r->db, r->arena, r->who.tenant_id);

	if (rc == 0 && r->db->generation != ap->db_generation) {
		db_rollback(r->db, r->arena);
		log_error("apply %s: the state database connection was lost and with it the"
			  " apply's locks: the apply stops; the next look at the plan ends it",
			  ap->plan_id);
		return IL_EUNAVAIL;
	}
	return rc;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int apply_lock_model(struct apply *ap, const char *key)
{
	long wait = 20;
	int got = 0, rc;

	while ((rc = db_advisory_try_lock(&got, ap->r->db, ap->r->arena, key)) == 0 && !got) {
		if (exec_now_ms() + wait >= ap->deadline_ms)
			return 1;
		pause_ms(wait);
		if (wait < APPLY_LOCK_POLL_MAX_MS)
			wait *= 2;
	}
	return rc;
}

void apply_step_deadline(const struct apply *ap, struct exec_step *e)
{
	long step = ap->r->cfg->step_timeout_seconds;
	long long now = exec_now_ms(), deadline;

	if (ap->env.step_timeout_seconds > 0 && ap->env.step_timeout_seconds < step)
		step = ap->env.step_timeout_seconds;
	deadline = now + (long long)step * 1000;
	if (ap->deadline_ms < deadline)
		deadline = ap->deadline_ms;
	e->deadline_ms = deadline;
	e->timeout_seconds = (long)((deadline - now + 999) / 1000);
}

/*
 * The route table's settle hook: before a read of plans, runs or models,
 * the tenant's applies whose worker died (SIGKILL, a lost state connection)
 * end as failed, their RUNNING runs FAIL "worker lost". The sign is the
 * apply lock: a worker holds it on its session for as long as it applies,
 * and PostgreSQL drops it with the session.
 */
int api_end_lost_applies(struct req *r)
{
	PGresult *ended = NULL;
	int rc = db_apply_end_lost(&ended, r->db, r->arena, r->who.tenant_id, APPLY_LOST_WHY), i;

	for (i = 0; rc == 0 && i < db_rows(ended); i++) {
		log_warn("plan %s: its apply lost its worker or its state connection; it is now"
			 " failed", db_val(ended, i, 0));
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, "system", "plan_apply_lost",
				     "plan", db_val(ended, i, 0), NULL);
	}
	return rc;
}
