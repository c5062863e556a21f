/* quota.h (billing): the tier limits other resources enforce */
#ifndef IL_BILLING_QUOTA_H
#define IL_BILLING_QUOTA_H

#include "util/config.h"

struct arena;
struct billing_account;
struct db;

/* The limits a tier sets on what a tenant may do. */
enum billing_limit {
	BILLING_LIMIT_PLANS_PER_MONTH, /* before generating a plan: 429 when used up */
	BILLING_LIMIT_ENVIRONMENTS,    /* before creating an environment: 402 at the limit */
	BILLING_LIMIT_AI_AUGMENT,      /* before augmenting a plan: 402 when not included */
	BILLING_LIMIT__MAX
};

/* The name of a limit ("plans_per_month" …); billing_limit_parse's inverse. */
const char *billing_limit_name(enum billing_limit what);
/* BILLING_LIMIT__MAX when name is not a limit. */
enum billing_limit billing_limit_parse(const char *name);

/* What one limit allows a tenant and how much of it is used. */
struct billing_quota {
	enum il_tier tier;
	long used;
	long max;                     /* -1: unlimited */
};

/* Why one more is refused: what the guarded endpoint answers. */
struct billing_refusal {
	int status;                   /* 402 or 429 */
	const char *code;
	const char *detail;           /* names the tier, the limit and the way past it */
	const char *retry_after;      /* seconds as text, or NULL */
};

/* The tier the stored account is on (an unknown name counts as community). */
enum il_tier billing_account_tier(const struct billing_account *acc);

/* Reads the tenant's quota of what, in a tenant transaction. */
int billing_quota_read(struct billing_quota *q, struct db *db, struct arena *a,
		       const struct il_config *cfg, const char *tenant_id,
		       enum billing_limit what);
/*
 * 1 (and *why filled) when q leaves no room for one more of what, else 0;
 * IL_ENOMEM.
 */
int billing_quota_refusal(struct billing_refusal *why, struct arena *a,
			  const struct il_config *cfg, enum billing_limit what,
			  const struct billing_quota *q);
/*
 * billing_quota_read then billing_quota_refusal: 0 when one more is allowed,
 * 1 with *why when not, or a negative code. In a tenant transaction.
 */
int billing_quota_check(struct billing_refusal *why, struct db *db, struct arena *a,
			const struct il_config *cfg, const char *tenant_id,
			enum billing_limit what);

/*
 * How many applies of the tenant may run at once (its tier's
 * max_concurrent_applies, -1: no limit) and the tier's name. In a tenant
 * transaction.
 */
int billing_apply_limit(long *max, const char **tier, struct db *db, struct arena *a,
			const struct il_config *cfg, const char *tenant_id);

#endif
