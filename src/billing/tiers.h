/* tiers.h (billing): tier names, Stripe prices and subscription statuses */
#ifndef IL_BILLING_TIERS_H
#define IL_BILLING_TIERS_H

#include "util/config.h"

/* "community", "team" or "enterprise". */
const char *billing_tier_name(enum il_tier tier);
/* IL_TIER_COUNT when name is not a tier. */
enum il_tier billing_tier_parse(const char *name);
/* The tier whose configured price id is price_id, or IL_TIER_COUNT. */
enum il_tier billing_tier_by_price(const struct il_config *cfg, const char *price_id);
/* 1 when Stripe calls can be made (a secret key is configured). */
int billing_enabled(const struct il_config *cfg);

/*
 * Maps a Stripe subscription status to the one we store: none, trialing,
 * active, past_due, canceled or incomplete (unpaid and paused count as
 * past_due, incomplete_expired as canceled). NULL for anything else.
 */
const char *billing_status_from_stripe(const char *stripe_status);
/* 1 when a subscription in this (stored) status keeps its paid tier. */
int billing_status_keeps_tier(const char *status);

#endif
