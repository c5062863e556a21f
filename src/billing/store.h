/* store.h (billing): billing accounts, applied webhook events, usage counters */
#ifndef IL_BILLING_STORE_H
#define IL_BILLING_STORE_H

struct arena;
struct db;

/* A tenant's billing state; a tenant without a row reads as the defaults. */
struct billing_account {
	const char *tier;                /* "community" by default */
	const char *status;              /* "none" by default */
	const char *customer_id;         /* NULL until the first checkout */
	const char *subscription_id;     /* NULL when none */
	const char *current_period_end;  /* ISO 8601, or NULL */
	int cancel_at_period_end;
};

/* A change a webhook event makes; NULL (or -1) members leave the column as is. */
struct billing_update {
	const char *tier;
	const char *status;
	const char *customer_id;         /* stored only when the tenant has none */
	const char *subscription_id;
	const char *period_end;          /* unix seconds as text */
	int cancel_at_period_end;        /* 0, 1, or -1 */
	int clear_subscription;          /* forget subscription id and period end */
	const char *event_created;       /* the event's unix time as text */
	/* when set, apply only if the stored subscription is this one (or none) */
	const char *only_subscription;
};

/* All of these run inside a transaction bound to tenant_id. */
int billing_db_account_get(struct billing_account *out, struct db *db, struct arena *a,
			   const char *tenant_id);
/* Creates the tenant's row if missing and locks it until the transaction ends. */
int billing_db_account_lock(struct billing_account *out, struct db *db, struct arena *a,
			    const char *tenant_id);
int billing_db_set_customer(struct db *db, struct arena *a, const char *tenant_id,
			    const char *customer_id);
/*
 * Applies u unless an event newer than u->event_created was applied already
 * or u->only_subscription does not match; *applied says which.
 */
int billing_db_account_update(int *applied, struct db *db, struct arena *a,
			      const char *tenant_id, const struct billing_update *u);
/* Records a webhook event as applied; IL_ECONFLICT when it was already. */
int billing_db_event_record(struct db *db, struct arena *a, const char *tenant_id,
			    const char *event_id, const char *type);
/* Plan generations this UTC month and environments the tenant has. */
int billing_db_usage(long *plans_this_month, long *environments, struct db *db,
		     struct arena *a, const char *tenant_id);
/* Counts one plan generation in the current UTC month. */
int billing_db_count_plan(struct db *db, struct arena *a, const char *tenant_id);

/*
 * Outside any tenant: the tenant owning Stripe customer (or else the existing
 * tenant named by hint); IL_ENOTFOUND when neither.
 */
int billing_db_resolve_tenant(const char **tenant_id, struct db *db, struct arena *a,
			      const char *customer, const char *hint);

#endif
