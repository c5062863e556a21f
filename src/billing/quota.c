/* quota.c (billing): what a tier allows a tenant, how much is used, and the refusals */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "billing/quota.h"
#include "billing/store.h"
#include "billing/tiers.h"
#include "util/arena.h"
#include "util/error.h"

static const char *const limit_names[BILLING_LIMIT__MAX] = {
	[BILLING_LIMIT_PLANS_PER_MONTH] = "plans_per_month",
	[BILLING_LIMIT_ENVIRONMENTS] = "environments",
	[BILLING_LIMIT_AI_AUGMENT] = "ai_augment",
};

const char *billing_limit_name(enum billing_limit what)
{
	return what < BILLING_LIMIT__MAX ? limit_names[what] : NULL;
}

enum billing_limit billing_limit_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < BILLING_LIMIT__MAX; i++)
		if (strcmp(name, limit_names[i]) == 0)
			return (enum billing_limit)i;
	return BILLING_LIMIT__MAX;
}

enum il_tier billing_account_tier(const struct billing_account *acc)
{
	enum il_tier t = billing_tier_parse(acc->tier);

	return t == IL_TIER_COUNT ? IL_TIER_COMMUNITY : t;
}

int billing_quota_read(struct billing_quota *q, struct db *db, struct arena *a,
		       const struct il_config *cfg, const char *tenant_id,
		       enum billing_limit what)
{
	struct billing_account acc;
	const struct il_tier_config *t;
	long plans, envs;
	int rc;

	if ((rc = billing_db_account_get(&acc, db, a, tenant_id)) < 0 ||
	    (rc = billing_db_usage(&plans, &envs, db, a, tenant_id)) < 0)
		return rc;
	q->tier = billing_account_tier(&acc);
	t = &cfg->tier[q->tier];
	switch (what) {
	case BILLING_LIMIT_PLANS_PER_MONTH:
		q->used = plans;
		q->max = t->plans_per_month;
		return 0;
	case BILLING_LIMIT_ENVIRONMENTS:
		q->used = envs;
		q->max = t->environments;
		return 0;
	case BILLING_LIMIT_AI_AUGMENT:
		q->used = 0;
		q->max = t->ai_augment ? -1 : 0;
		return 0;
	case BILLING_LIMIT__MAX:
		break;
	}
	return IL_EINVALID;
}

/* Seconds until the next UTC month begins, when the monthly quota resets. */
static long seconds_to_next_month(time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon += 1; /* timegm normalises December + 1 */
	return (long)(timegm(&tm) - now);
}

/*
 * How to get past a limit: upgrading where billing runs; on a self-hosted
 * server without billing, the configuration key that sets the limit.
 */
static const char *remedy(struct arena *a, const struct il_config *cfg, const char *tier,
			  const char *key)
{
	if (billing_enabled(cfg))
		return "upgrade to get more";
	return arena_printf(a, "billing is not configured on this server: its operator "
			    "can raise tier_%s_%s in the configuration", tier, key);
}

int billing_quota_refusal(struct billing_refusal *why, struct arena *a,
			  const struct il_config *cfg, enum billing_limit what,
			  const struct billing_quota *q)
{
	const char *tier = billing_tier_name(q->tier), *how;

	memset(why, 0, sizeof(*why));
	if (q->max < 0 || q->used < q->max)
		return 0;
	how = remedy(a, cfg, tier, billing_limit_name(what));
	why->status = 402;
	why->code = "tier_limit_reached";
	switch (what) {
	case BILLING_LIMIT_PLANS_PER_MONTH:
		why->status = 429;
		why->code = "quota_exceeded";
		why->detail = arena_printf(a, "the %s tier allows %ld plan generations per month "
					   "and %ld were used this month; %s", tier, q->max,
					   q->used, how);
		why->retry_after = arena_printf(a, "%ld", seconds_to_next_month(time(NULL)));
		break;
	case BILLING_LIMIT_ENVIRONMENTS:
		why->detail = arena_printf(a, "the %s tier allows %ld environments and this "
					   "tenant has %ld; %s", tier, q->max, q->used, how);
		break;
	case BILLING_LIMIT_AI_AUGMENT:
	case BILLING_LIMIT__MAX:
		why->detail = arena_printf(a, "the %s tier does not include AI augment; %s", tier,
					   how);
		break;
	}
	return why->detail != NULL ? 1 : IL_ENOMEM;
}

int billing_quota_check(struct billing_refusal *why, struct db *db, struct arena *a,
			const struct il_config *cfg, const char *tenant_id,
			enum billing_limit what)
{
	struct billing_quota q;
	int rc = billing_quota_read(&q, db, a, cfg, tenant_id, what);

	return rc < 0 ? rc : billing_quota_refusal(why, a, cfg, what, &q);
}

int billing_apply_limit(long *max, const char **tier, struct db *db, struct arena *a,
			const struct il_config *cfg, const char *tenant_id)
{
	struct billing_account acc;
	int rc = billing_db_account_get(&acc, db, a, tenant_id);

	if (rc < 0)
		return rc;
	*max = cfg->tier[billing_account_tier(&acc)].max_concurrent_applies;
	*tier = billing_tier_name(billing_account_tier(&acc));
	return 0;
}
