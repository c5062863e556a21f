/* billing.c: tiers, subscription status, usage and the quota checks other resources call */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "billing/store.h"
#include "billing/tiers.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

/* What one limit allows a tenant and how much of it is used. */
struct quota {
	enum il_tier tier;
	long used;
	long max;          /* -1: unlimited */
};

static const char *const limit_names[] = { "plans_per_month", "environments", "ai_augment" };

/* A limit as JSON: null for unlimited. */
static json_object *limit_json(long v)
{
	return v < 0 ? NULL : json_object_new_int64(v);
}

static json_object *limits_json(const struct il_tier_config *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "plans_per_month", limit_json(t->plans_per_month));
	json_object_object_add(o, "environments", limit_json(t->environments));
	json_object_object_add(o, "ai_augment", json_object_new_boolean(t->ai_augment));
	json_object_object_add(o, "max_concurrent_applies", limit_json(t->max_concurrent_applies));
	return o;
}

/* The tier the stored account is on (an unknown name counts as community). */
static enum il_tier account_tier(const struct billing_account *acc)
{
	enum il_tier t = billing_tier_parse(acc->tier);

	return t == IL_TIER_COUNT ? IL_TIER_COMMUNITY : t;
}

static const char *const tier_labels[IL_TIER_COUNT] = { "Community", "Team", "Enterprise" };

/* "N things" or "Unlimited things" for a limit. */
static json_object *limit_feature(long v, const char *one, const char *many)
{
	char text[96];

	if (v < 0)
		snprintf(text, sizeof(text), "Unlimited %s", many);
	else
		snprintf(text, sizeof(text), "%ld %s", v, v == 1 ? one : many);
	return json_object_new_string(text);
}

/* What a tier includes, in words, from its configured limits. */
static json_object *features_json(const struct il_tier_config *t)
{
	json_object *list = json_object_new_array();

	json_object_array_add(list, limit_feature(t->plans_per_month, "plan per month",
						  "plans per month"));
	json_object_array_add(list, limit_feature(t->environments, "environment", "environments"));
	json_object_array_add(list, json_object_new_string(
		"Cost, risk and lint advisory on every plan"));
	json_object_array_add(list, json_object_new_string(
		t->ai_augment ? "AI advisory with your own LLM key" : "No AI advisory"));
	return list;
}

/*
 * GET /api/v1/billing/plans (public): 200 {"plans": [{tier, label,
 * price_label, features, price_id, limits}], "billing_enabled"}.
 */
int api_billing_plans(struct req *r)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	int i;

	for (i = 0; i < IL_TIER_COUNT; i++) {
		const struct il_tier_config *t = &r->cfg->tier[i];
		json_object *item = json_object_new_object();

		json_object_object_add(item, "tier",
				       json_object_new_string(billing_tier_name((enum il_tier)i)));
		json_object_object_add(item, "label", json_object_new_string(tier_labels[i]));
		json_object_object_add(item, "price_label", t->price_label[0] ?
				       json_object_new_string(t->price_label) : NULL);
		json_object_object_add(item, "features", features_json(t));
		json_object_object_add(item, "price_id", t->price_id[0] ?
				       json_object_new_string(t->price_id) : NULL);
		json_object_object_add(item, "limits", limits_json(t));
		json_object_array_add(list, item);
	}
	json_object_object_add(o, "plans", list);
	json_object_object_add(o, "billing_enabled",
			       json_object_new_boolean(billing_enabled(r->cfg)));
	req_json(r, 200, o);
	return 0;
}

static json_object *usage_json(long plans, long environments)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "plans_this_month", json_object_new_int64(plans));
	json_object_object_add(o, "environments", json_object_new_int64(environments));
	return o;
}

/*
 * GET /api/v1/billing/subscription (viewer): 200 with the tenant's tier
 * (plan_tier, and tier as before), subscription status, limits and usage;
 * answers (community, "none") even when billing is not configured.
 * period_start is null: Stripe's period start is not stored.
 */
int api_billing_subscription(struct req *r)
{
	struct billing_account acc;
	long plans, envs;
	json_object *o;
	int rc;

	if ((rc = billing_db_account_get(&acc, r->db, r->arena, r->who.tenant_id)) < 0 ||
	    (rc = billing_db_usage(&plans, &envs, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "plan_tier",
			       json_object_new_string(billing_tier_name(account_tier(&acc))));
	json_object_object_add(o, "tier",
			       json_object_new_string(billing_tier_name(account_tier(&acc))));
	json_object_object_add(o, "status", json_object_new_string(acc.status));
	json_object_object_add(o, "subscription_id", acc.subscription_id ?
			       json_object_new_string(acc.subscription_id) : NULL);
	json_object_object_add(o, "period_start", NULL);
	json_object_object_add(o, "period_end", acc.current_period_end ?
			       json_object_new_string(acc.current_period_end) : NULL);
	json_object_object_add(o, "current_period_end", acc.current_period_end ?
			       json_object_new_string(acc.current_period_end) : NULL);
	json_object_object_add(o, "cancel_at_period_end",
			       json_object_new_boolean(acc.cancel_at_period_end));
	json_object_object_add(o, "limits", limits_json(&r->cfg->tier[account_tier(&acc)]));
	json_object_object_add(o, "usage", usage_json(plans, envs));
	json_object_object_add(o, "billing_enabled",
			       json_object_new_boolean(billing_enabled(r->cfg)));
	req_json(r, 200, o);
	return 0;
}

static int quota_read(struct quota *q, struct req *r, enum billing_limit what)
{
	struct billing_account acc;
	const struct il_tier_config *t;
	long plans, envs;
	int rc;

	if ((rc = billing_db_account_get(&acc, r->db, r->arena, r->who.tenant_id)) < 0 ||
	    (rc = billing_db_usage(&plans, &envs, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	q->tier = account_tier(&acc);
	t = &r->cfg->tier[q->tier];
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
static const char *remedy(struct req *r, const char *tier, const char *key)
{
	if (billing_enabled(r->cfg))
		return "upgrade to get more";
	return arena_printf(r->arena, "billing is not configured on this server: its operator "
			    "can raise tier_%s_%s in the configuration", tier, key);
}

/* 1 after recording the refusal when q leaves no room for one more, else 0. */
static int quota_refuse(struct req *r, enum billing_limit what, const struct quota *q)
{
	const char *tier = billing_tier_name(q->tier);
	char retry[24];

	if (q->max < 0 || q->used < q->max)
		return 0;
	switch (what) {
	case BILLING_LIMIT_PLANS_PER_MONTH:
		req_error(r, 429, "quota_exceeded",
			  "the %s tier allows %ld plan generations per month and %ld were used"
			  " this month; %s", tier, q->max, q->used,
			  remedy(r, tier, "plans_per_month"));
		snprintf(retry, sizeof(retry), "%ld", seconds_to_next_month(time(NULL)));
		req_header_add(r, "Retry-After", retry);
		break;
	case BILLING_LIMIT_ENVIRONMENTS:
		req_error(r, 402, "tier_limit_reached",
			  "the %s tier allows %ld environments and this tenant has %ld; %s", tier,
			  q->max, q->used, remedy(r, tier, "environments"));
		break;
	case BILLING_LIMIT_AI_AUGMENT:
		req_error(r, 402, "tier_limit_reached",
			  "the %s tier does not include AI augment; %s", tier,
			  remedy(r, tier, "ai_augment"));
		break;
	}
	return 1;
}

int billing_check_quota(struct req *r, enum billing_limit what)
{
	struct quota q;
	int rc = quota_read(&q, r, what);

	if (rc < 0)
		return rc;
	return quota_refuse(r, what, &q);
}

int billing_apply_limit(long *max, const char **tier, struct req *r)
{
	struct billing_account acc;
	int rc = billing_db_account_get(&acc, r->db, r->arena, r->who.tenant_id);

	if (rc < 0)
		return rc;
	*max = r->cfg->tier[account_tier(&acc)].max_concurrent_applies;
	*tier = billing_tier_name(account_tier(&acc));
	return 0;
}

int billing_count_plan_generation(struct req *r)
{
	return billing_db_count_plan(r->db, r->arena, r->who.tenant_id);
}

/*
 * GET /api/v1/billing/quota/:limit (viewer): may the tenant use one more of
 * limit (plans_per_month, environments, ai_augment)? 200 {"limit", "tier",
 * "used", "max", "allowed": true}; otherwise the very 402 or 429 the guarded
 * endpoint answers; 404 for an unknown limit.
 */
int api_billing_quota(struct req *r)
{
	const char *name = req_param(r, 0);
	struct quota q;
	json_object *o;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(limit_names) / sizeof(limit_names[0]); i++)
		if (strcmp(name, limit_names[i]) == 0)
			break;
	if (i == sizeof(limit_names) / sizeof(limit_names[0])) {
		req_error(r, 404, "not_found", "no such limit: %.64s", name);
		return 0;
	}
	if ((rc = quota_read(&q, r, (enum billing_limit)i)) < 0)
		return rc;
	if (quota_refuse(r, (enum billing_limit)i, &q))
		return 0;
	o = json_object_new_object();
	json_object_object_add(o, "limit", json_object_new_string(limit_names[i]));
	json_object_object_add(o, "tier", json_object_new_string(billing_tier_name(q.tier)));
	json_object_object_add(o, "used", json_object_new_int64(q.used));
	json_object_object_add(o, "max", limit_json(q.max));
	json_object_object_add(o, "allowed", json_object_new_boolean(1));
	req_json(r, 200, o);
	return 0;
}
