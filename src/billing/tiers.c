/* tiers.c (billing): tier names, Stripe prices and subscription statuses */
#include "billing/tiers.h"

#include <string.h>

static const char *const tier_names[IL_TIER_COUNT] = { "community", "team", "enterprise" };

const char *billing_tier_name(enum il_tier tier)
{
	return tier < IL_TIER_COUNT ? tier_names[tier] : "community";
}

enum il_tier billing_tier_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < IL_TIER_COUNT; i++)
		if (strcmp(name, tier_names[i]) == 0)
			return (enum il_tier)i;
	return IL_TIER_COUNT;
}

enum il_tier billing_tier_by_price(const struct il_config *cfg, const char *price_id)
{
	int i;

	for (i = 0; price_id != NULL && *price_id != '\0' && i < IL_TIER_COUNT; i++)
		if (strcmp(cfg->tier[i].price_id, price_id) == 0)
			return (enum il_tier)i;
	return IL_TIER_COUNT;
}

int billing_enabled(const struct il_config *cfg)
{
	return cfg->stripe_secret_key != NULL && cfg->stripe_secret_key[0] != '\0';
}

const char *billing_status_from_stripe(const char *s)
{
	static const char *const map[][2] = {
		{ "trialing", "trialing" }, { "active", "active" },
		{ "past_due", "past_due" }, { "unpaid", "past_due" },
		{ "paused", "past_due" }, { "canceled", "canceled" },
		{ "incomplete", "incomplete" }, { "incomplete_expired", "canceled" },
	};
	size_t i;

	for (i = 0; s != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

int billing_status_keeps_tier(const char *status)
{
	return strcmp(status, "active") == 0 || strcmp(status, "trialing") == 0 ||
	       strcmp(status, "past_due") == 0;
}
