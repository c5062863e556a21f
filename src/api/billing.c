/* billing.c: tiers, subscription status, usage, and the quota answers of billing/quota.c */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "billing/quota.h"
#include "billing/store.h"
#include "billing/tiers.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

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
	const char *tier;
	long plans, envs;
	json_object *o;
	int rc;

	if ((rc = billing_db_account_get(&acc, r->db, r->arena, r->who.tenant_id)) < 0 ||
	    (rc = billing_db_usage(&plans, &envs, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	tier = billing_tier_name(billing_account_tier(&acc));
	o = json_object_new_object();
	json_object_object_add(o, "plan_tier", json_object_new_string(tier));
	json_object_object_add(o, "tier", json_object_new_string(tier));
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
	json_object_object_add(o, "limits", limits_json(&r->cfg->tier[billing_account_tier(&acc)]));
	json_object_object_add(o, "usage", usage_json(plans, envs));
	json_object_object_add(o, "billing_enabled",
			       json_object_new_boolean(billing_enabled(r->cfg)));
	req_json(r, 200, o);
	return 0;
}

/* Records what the guarded endpoint answers when one more is refused. */
static void respond_refusal(struct req *r, const struct billing_refusal *why)
{
	req_error(r, why->status, why->code, "%s", why->detail);
	if (why->retry_after != NULL)
		req_header_add(r, "Retry-After", why->retry_after);
}

int api_check_quota(struct req *r, enum billing_limit what)
{
	struct billing_refusal why;
	int rc = billing_quota_check(&why, r->db, r->arena, r->cfg, r->who.tenant_id, what);

	if (rc > 0)
		respond_refusal(r, &why);
	return rc;
}

int api_count_plan_generation(struct req *r)
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
	enum billing_limit what = billing_limit_parse(name);
	struct billing_refusal why;
	struct billing_quota q;
	json_object *o;
	int rc;

	if (what == BILLING_LIMIT__MAX) {
		req_error(r, 404, "not_found", "no such limit: %.64s", name ? name : "");
		return 0;
	}
	if ((rc = billing_quota_read(&q, r->db, r->arena, r->cfg, r->who.tenant_id, what)) < 0 ||
	    (rc = billing_quota_refusal(&why, r->arena, r->cfg, what, &q)) < 0)
		return rc;
	if (rc > 0) {
		respond_refusal(r, &why);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "limit", json_object_new_string(billing_limit_name(what)));
	json_object_object_add(o, "tier", json_object_new_string(billing_tier_name(q.tier)));
	json_object_object_add(o, "used", json_object_new_int64(q.used));
	json_object_object_add(o, "max", limit_json(q.max));
	json_object_object_add(o, "allowed", json_object_new_boolean(1));
	req_json(r, 200, o);
	return 0;
}
