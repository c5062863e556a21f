/* limits.c: what bounds an apply: its tenant's share, its time, its state connection */
#include <errno.h>
#include <time.h>

#include "apply/apply_int.h"
#include "billing/quota.h"
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
	const struct apply_ctx *c = ap->c;
	const char *tier = NULL;
	long max = 0, i;
	int got = 0, rc = billing_apply_limit(&max, &tier, c->db, c->arena, c->cfg, c->tenant_id);

	if (rc < 0 || max < 0)
		return rc;       /* unlimited: the host's apply_workers still bound it */
	for (i = 0; i < max && !got; i++) {
		const char *key = arena_printf(c->arena, "apply-slot:%s:%ld", c->tenant_id, i);

		if (key == NULL)
			return IL_ENOMEM;
		if ((rc = db_advisory_try_lock(&got, c->db, c->arena, key)) < 0)
			return rc;
		if (got)
			ap->tenant_slot = key;
	}
	if (got)
		return 0;
	ap->out->retry_after = APPLY_TENANT_RETRY_AFTER;
	return apply_refuse(ap, APPLY_BUSY, "too_many_applies", "the %s tier runs at most %ld "
			    "apply%s of a tenant at a time and this tenant is at that limit; try "
			    "again when one is done", tier, max, max == 1 ? "" : "s");
}

void apply_release_tenant_slot(struct apply *ap)
{
	if (ap->tenant_slot != NULL)
		db_advisory_unlock(ap->c->db, ap->c->arena, ap->tenant_slot);
	ap->tenant_slot = NULL;
}

int apply_begin(struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	int rc = db_begin_tenant(c->db, c->arena, c->tenant_id);

	if (rc == 0 && c->db->generation != ap->db_generation) {
		db_rollback(c->db, c->arena);
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

	while ((rc = db_advisory_try_lock(&got, ap->c->db, ap->c->arena, key)) == 0 && !got) {
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
	long step = ap->c->cfg->step_timeout_seconds;
	long long now = exec_now_ms(), deadline;

	if (ap->env.step_timeout_seconds > 0 && ap->env.step_timeout_seconds < step)
		step = ap->env.step_timeout_seconds;
	deadline = now + (long long)step * 1000;
	if (ap->deadline_ms < deadline)
		deadline = ap->deadline_ms;
	e->deadline_ms = deadline;
	e->timeout_seconds = (long)((deadline - now + 999) / 1000);
}

int apply_end_lost(const struct apply_ctx *c)
{
	const char **ended = NULL;
	size_t i, n = 0;
	int rc = db_apply_end_lost_plans(&ended, &n, c->db, c->arena, c->tenant_id,
					 APPLY_LOST_WHY);

	for (i = 0; rc == 0 && i < n; i++) {
		log_warn("plan %s: its apply lost its worker or its state connection; it is now"
			 " failed", ended[i]);
		rc = db_audit_append(c->db, c->arena, c->tenant_id, "system", "plan_apply_lost",
				     "plan", ended[i], NULL);
	}
	return rc;
}
