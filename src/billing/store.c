/* store.c (billing): billing accounts, applied webhook events, usage counters */
#include "billing/store.h"

#include <string.h>

#include "db/db.h"
#include "util/error.h"
#include "util/parse.h"

#define ACCOUNT_COLUMNS \
	"tier, status, stripe_customer_id, stripe_subscription_id," \
	" iso8601(current_period_end), cancel_at_period_end"

static void account_defaults(struct billing_account *out)
{
	memset(out, 0, sizeof(*out));
	out->tier = "community";
	out->status = "none";
}

static void account_read(struct billing_account *out, const PGresult *res)
{
	out->tier = db_val(res, 0, 0);
	out->status = db_val(res, 0, 1);
	out->customer_id = db_val(res, 0, 2);
	out->subscription_id = db_val(res, 0, 3);
	out->current_period_end = db_val(res, 0, 4);
	out->cancel_at_period_end = strcmp(db_val(res, 0, 5), "t") == 0;
}

int billing_db_account_get(struct billing_account *out, struct db *db, struct arena *a,
			   const char *tenant_id)
{
	static const char sql[] =
		"SELECT " ACCOUNT_COLUMNS " FROM billing_accounts WHERE tenant_id = $1";
	const char *p[1] = { tenant_id };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 1, p);

	account_defaults(out);
	if (rc == 0 && db_rows(res) == 1)
		account_read(out, res);
	return rc;
}

static int account_ensure(struct db *db, struct arena *a, const char *tenant_id)
{
	static const char sql[] =
		"INSERT INTO billing_accounts (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING";
	const char *p[1] = { tenant_id };

	return db_exec(NULL, db, a, sql, 1, p);
}

int billing_db_account_lock(struct billing_account *out, struct db *db, struct arena *a,
			    const char *tenant_id)
{
	static const char sql[] =
		"SELECT " ACCOUNT_COLUMNS " FROM billing_accounts WHERE tenant_id = $1"
		" FOR UPDATE";
	const char *p[1] = { tenant_id };
	PGresult *res;
	int rc;

	account_defaults(out);
	if ((rc = account_ensure(db, a, tenant_id)) < 0 ||
	    (rc = db_exec(&res, db, a, sql, 1, p)) < 0)
		return rc;
	if (db_rows(res) != 1)
		return IL_ERR;
	account_read(out, res);
	return 0;
}

int billing_db_set_customer(struct db *db, struct arena *a, const char *tenant_id,
			    const char *customer_id)
{
	static const char sql[] =
		"UPDATE billing_accounts SET stripe_customer_id = $2, updated_at = now()"
		" WHERE tenant_id = $1";
	const char *p[2] = { tenant_id, customer_id };

	return db_exec(NULL, db, a, sql, 2, p);
}

int billing_db_account_update(int *applied, struct db *db, struct arena *a,
			      const char *tenant_id, const struct billing_update *u)
{
	static const char sql[] =
		"UPDATE billing_accounts SET"
		" tier = coalesce($2, tier), status = coalesce($3, status),"
		" stripe_customer_id = coalesce(stripe_customer_id, $4),"
		" stripe_subscription_id = CASE WHEN $8::boolean THEN NULL"
		"   ELSE coalesce($5, stripe_subscription_id) END,"
		" current_period_end = CASE WHEN $8::boolean THEN NULL"
		"   ELSE coalesce(to_timestamp($6::bigint), current_period_end) END,"
		" cancel_at_period_end = coalesce($7::boolean, cancel_at_period_end),"
		" last_event_at = greatest(last_event_at, to_timestamp($9::bigint)),"
		" updated_at = now()"
		" WHERE tenant_id = $1"
		"   AND (last_event_at IS NULL OR last_event_at <= to_timestamp($9::bigint))"
		"   AND ($10::text IS NULL OR stripe_subscription_id IS NULL"
		"        OR stripe_subscription_id = $10)";
	const char *cancel = u->cancel_at_period_end < 0 ? NULL :
			     u->cancel_at_period_end ? "true" : "false";
	const char *p[10] = { tenant_id, u->tier, u->status, u->customer_id, u->subscription_id,
			      u->period_end, cancel, u->clear_subscription ? "true" : "false",
			      u->event_created, u->only_subscription };
	PGresult *res;
	int rc;

	*applied = 0;
	if ((rc = account_ensure(db, a, tenant_id)) < 0 ||
	    (rc = db_exec(&res, db, a, sql, 10, p)) < 0)
		return rc;
	*applied = PQcmdTuples(res)[0] == '1';
	return 0;
}

int billing_db_event_record(struct db *db, struct arena *a, const char *tenant_id,
			    const char *event_id, const char *type)
{
	static const char sql[] =
		"INSERT INTO billing_events (event_id, tenant_id, type) VALUES ($1, $2, $3)";
	const char *p[3] = { event_id, tenant_id, type };

	return db_exec(NULL, db, a, sql, 3, p);
}

int billing_db_usage(long *plans_this_month, long *environments, struct db *db,
		     struct arena *a, const char *tenant_id)
{
	static const char sql[] =
		"SELECT coalesce((SELECT plans_generated FROM usage_counters"
		"   WHERE tenant_id = $1"
		"     AND period = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')), 0),"
		" (SELECT count(*) FROM environments WHERE tenant_id = $1)";
	const char *p[1] = { tenant_id };
	PGresult *res;
	int64_t plans, envs;
	int rc = db_exec(&res, db, a, sql, 1, p);

	if (rc < 0)
		return rc;
	if (parse_i64(db_val(res, 0, 0), 0, INT32_MAX, &plans) < 0 ||
	    parse_i64(db_val(res, 0, 1), 0, INT32_MAX, &envs) < 0)
		return IL_ERR;
	*plans_this_month = (long)plans;
	*environments = (long)envs;
	return 0;
}

int billing_db_count_plan(struct db *db, struct arena *a, const char *tenant_id)
{
	static const char sql[] =
		"INSERT INTO usage_counters (tenant_id, period, plans_generated)"
		" VALUES ($1, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), 1)"
		" ON CONFLICT (tenant_id, period)"
		" DO UPDATE SET plans_generated = usage_counters.plans_generated + 1";
	const char *p[1] = { tenant_id };

	return db_exec(NULL, db, a, sql, 1, p);
}

int billing_db_resolve_tenant(const char **tenant_id, struct db *db, struct arena *a,
			      const char *customer, const char *hint)
{
	static const char sql[] = "SELECT billing_resolve_tenant($1, $2)";
	const char *p[2] = { customer, hint };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 2, p);

	*tenant_id = NULL;
	if (rc < 0)
		return rc;
	*tenant_id = db_val(res, 0, 0);
	return *tenant_id == NULL ? IL_ENOTFOUND : 0;
}
