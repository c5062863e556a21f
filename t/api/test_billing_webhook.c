/* test_billing_webhook.c: signed webhooks, tier limits, billing not configured */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "billing_util.h"


/* ---- webhooks ---------------------------------------------------------- */

START_TEST(test_webhook__signed_events_update_tier_and_status)
{
	struct account acc = new_account();
	char customer[64], obj[512];
	struct resp *r;

	with_customer(customer, sizeof(customer), &acc);
	snprintf(obj, sizeof(obj), "{\"id\":\"cs_test_1\",\"object\":\"checkout.session\","
		 "\"mode\":\"subscription\",\"customer\":\"%s\",\"subscription\":\"sub_%s\","
		 "\"payment_status\":\"paid\",\"status\":\"complete\",\"metadata\":"
		 "{\"ironlayer_tenant_id\":\"%s\",\"ironlayer_tier\":\"team\"}}",
		 customer, customer + 4, acc.tenant);
	deliver(unique("evt_co"), "checkout.session.completed", obj, "processed");
	assert_subscription(&acc, "team", "active");
	r = checkout(&acc, "enterprise"); /* a second subscription would bill twice */
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "subscription_exists");
	resp_free(r);
	deliver(unique("evt_su"), "customer.subscription.updated",
		subscription(customer, "price_enterprise_test", "active", 1), "processed");
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_str_eq(resp_str(r, "tier"), "enterprise");
	ck_assert_str_eq(resp_str(r, "current_period_end"), "2027-01-15T08:00:00.000Z");
	ck_assert_ptr_nonnull(strstr(r->body, "\"cancel_at_period_end\":true"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"plans_per_month\":null"));
	resp_free(r);
	snprintf(obj, sizeof(obj), "{\"id\":\"in_1\",\"object\":\"invoice\",\"customer\":\"%s\","
		 "\"subscription\":\"sub_%s\"}", customer, customer + 4);
	deliver(unique("evt_in"), "invoice.payment_failed", obj, "processed");
	assert_subscription(&acc, "enterprise", "past_due");
	/* the end of some other subscription of the customer changes nothing */
	snprintf(obj, sizeof(obj), "{\"id\":\"sub_other\",\"object\":\"subscription\","
		 "\"customer\":\"%s\",\"status\":\"canceled\"}", customer);
	deliver(unique("evt_so"), "customer.subscription.deleted", obj, "processed");
	assert_subscription(&acc, "enterprise", "past_due");
	deliver(unique("evt_sd"), "customer.subscription.deleted",
		subscription(customer, "price_enterprise_test", "canceled", 0), "processed");
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_str_eq(resp_str(r, "tier"), "community");
	ck_assert_str_eq(resp_str(r, "status"), "canceled");
	ck_assert_ptr_nonnull(strstr(r->body, "\"current_period_end\":null"));
	resp_free(r);
	assert_sql("5\n", "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'"
		   " AND action = 'billing_webhook' AND actor = 'stripe'", acc.tenant);
	ck_assert_int_eq(run_cli("audit verify", NULL, NULL), 0);
}
END_TEST

START_TEST(test_webhook__bad_signatures_and_stale_timestamps_are_400)
{
	struct account acc = new_account();
	char customer[64], e[4096], header[256];
	long now = (long)time(NULL);
	struct resp *r;

	with_customer(customer, sizeof(customer), &acc);
	snprintf(e, sizeof(e), "%s", event(unique("evt_bad"), "customer.subscription.created",
					   subscription(customer, "price_team_test", "active", 0)));
	r = send_signed(e, "whsec_wrong", now);
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_signature");
	resp_free(r);
	r = send_signed(e, WEBHOOK_SECRET, now - 301);
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_signature");
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "tolerance"));
	resp_free(r);
	sign(header, sizeof(header), WEBHOOK_SECRET, now, e);
	e[strlen(e) - 3] = ' '; /* signed for one body, sent with another */
	r = api("POST", "/api/v1/billing/webhook", NULL, "application/json", e, header);
	ck_assert_status(r, 400);
	resp_free(r);
	r = api("POST", "/api/v1/billing/webhook", NULL, "application/json", e, NULL);
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "detail"), "missing Stripe-Signature header");
	resp_free(r);
	r = api("POST", "/api/v1/billing/webhook", NULL, "application/json", e,
		"Stripe-Signature: t=abc,v1=zz");
	ck_assert_status(r, 400);
	resp_free(r);
	assert_subscription(&acc, "community", "none");
	r = send_signed("{\"hello\":", WEBHOOK_SECRET, now); /* signed, but not an event */
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_payload");
	resp_free(r);
}
END_TEST

START_TEST(test_webhook__replayed_event_changes_nothing)
{
	struct account acc = new_account();
	char customer[64], id[64];

	with_customer(customer, sizeof(customer), &acc);
	snprintf(id, sizeof(id), "%s", unique("evt_replay"));
	deliver(id, "customer.subscription.created",
		subscription(customer, "price_team_test", "active", 0), "processed");
	assert_subscription(&acc, "team", "active");
	deliver(unique("evt_del"), "customer.subscription.deleted",
		subscription(customer, "price_team_test", "canceled", 0), "processed");
	assert_subscription(&acc, "community", "canceled");
	/* the first event again, freshly signed: answered 200, never applied twice */
	deliver(id, "customer.subscription.created",
		subscription(customer, "price_team_test", "active", 0), "duplicate");
	assert_subscription(&acc, "community", "canceled");
	assert_sql("1\n", "SELECT count(*) FROM billing_events WHERE event_id = '%s'", id);
}
END_TEST

START_TEST(test_webhook__unknown_types_and_tenants_are_ignored)
{
	struct account acc = new_account();
	char customer[64], obj[256], e[4096], header[256];
	struct resp *r;

	with_customer(customer, sizeof(customer), &acc);
	snprintf(obj, sizeof(obj), "{\"id\":\"%s\",\"object\":\"customer\"}", customer);
	deliver(unique("evt_unk"), "customer.updated", obj, "ignored");
	/* the earlier implementation's path answers the same */
	snprintf(e, sizeof(e), "%s", event(unique("evt_alias"), "customer.updated", obj));
	sign(header, sizeof(header), WEBHOOK_SECRET, (long)time(NULL), e);
	r = api("POST", "/api/v1/billing/webhooks", NULL, "application/json", e, header);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "ignored");
	resp_free(r);
	deliver(unique("evt_nobody"), "customer.subscription.created",
		subscription("cus_nobodyknows", "price_team_test", "active", 0), "ignored");
	assert_subscription(&acc, "community", "none");
}
END_TEST

/* ---- tier limits ------------------------------------------------------- */

static void assert_quota(const struct account *acc, const char *limit, int status,
			 const char *needle)
{
	char path[128];
	struct resp *r;

	snprintf(path, sizeof(path), "/api/v1/billing/quota/%s", limit);
	r = get(acc, path);
	ck_assert_status(r, status);
	if (status == 200)
		ck_assert_str_eq(resp_str(r, "limit"), limit);
	else
		ck_assert_str_eq(resp_str(r, "code"),
				 status == 429 ? "quota_exceeded" : "tier_limit_reached");
	if (needle != NULL)
		ck_assert_msg(strstr(r->body, needle) != NULL, "%s not in %s", needle, r->body);
	if (status == 429) /* the quota resets when the next UTC month begins */
		ck_assert(strtol(resp_header(r, "Retry-After"), NULL, 10) > 0 &&
			  strtol(resp_header(r, "Retry-After"), NULL, 10) <= 31 * 86400);
	resp_free(r);
}

START_TEST(test_limits__enforced_then_lifted_by_an_upgrade)
{
	struct account acc = new_account();
	char customer[64];
	struct resp *r;

	assert_quota(&acc, "plans_per_month", 200, "\"used\":0,\"max\":25,\"allowed\":true");
	assert_quota(&acc, "environments", 200, "\"used\":1,\"max\":2,\"allowed\":true");
	assert_quota(&acc, "ai_augment", 402, "the community tier does not include AI augment");
	assert_sql("", "INSERT INTO usage_counters VALUES ('%s',"
		   " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), 25);"
		   "INSERT INTO environments (tenant_id, name, schema_prefix)"
		   " VALUES ('%s', 'staging', 'tstaging');", acc.tenant, acc.tenant);
	assert_quota(&acc, "plans_per_month", 429,
		     "the community tier allows 25 plan generations per month and 25 were used");
	assert_quota(&acc, "environments", 402, "the community tier allows 2 environments");
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_ptr_nonnull(strstr(r->body, "\"usage\":{\"plans_this_month\":25,"
				     "\"environments\":2}"));
	resp_free(r);
	r = get(&acc, "/api/v1/billing/quota/seats");
	ck_assert_status(r, 404);
	resp_free(r);

	with_customer(customer, sizeof(customer), &acc);
	deliver(unique("evt_up"), "customer.subscription.created",
		subscription(customer, "price_team_test", "active", 0), "processed");
	assert_quota(&acc, "plans_per_month", 200, "\"tier\":\"team\",\"used\":25,\"max\":1000");
	assert_quota(&acc, "environments", 200, "\"used\":2,\"max\":10");
	assert_quota(&acc, "ai_augment", 200, "\"max\":null,\"allowed\":true");
}
END_TEST

/* ---- billing not configured -------------------------------------------- */

/* Restarts the workers with the environment as it is now; 0 on success. */
static int stack_restart(void)
{
	char args[512];

	snprintf(args, sizeof(args), "up --port %s --builddir %s", getenv("IL_TEST_PORT"),
		 getenv("IL_TEST_BUILDDIR"));
	return stack(args);
}

static void restore_billing(void)
{
	setenv("IRONLAYER_STRIPE_SECRET_KEY", SECRET_KEY, 1);
	setenv("IRONLAYER_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET, 1);
	if (stack_restart() != 0)
		fprintf(stderr, "billing: the stack did not come back up\n");
}

START_TEST(test_not_configured__checkout_and_portal_503_subscription_answers)
{
	struct account acc = new_account();
	struct resp *r;

	setenv("IRONLAYER_STRIPE_SECRET_KEY", "", 1);
	setenv("IRONLAYER_STRIPE_WEBHOOK_SECRET", "", 1);
	ck_assert_int_eq(stack_restart(), 0);
	r = checkout(&acc, "team");
	ck_assert_status(r, 503);
	ck_assert_str_eq(resp_str(r, "code"), "billing_not_configured");
	resp_free(r);
	r = api_json("POST", "/api/v1/billing/portal", acc.token,
		     "{\"return_url\":\"https://app.example.com/\"}");
	ck_assert_status(r, 503);
	ck_assert_str_eq(resp_str(r, "code"), "billing_not_configured");
	resp_free(r);
	r = send_signed(event(unique("evt_off"), "customer.updated", "{}"), WEBHOOK_SECRET,
			(long)time(NULL));
	ck_assert_status(r, 503);
	resp_free(r);
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tier"), "community");
	ck_assert_ptr_nonnull(strstr(r->body, "\"billing_enabled\":false"));
	resp_free(r);
}
END_TEST

Suite *suite_billing_webhook(void)
{
	Suite *s = suite_create("billing_webhook");
	TCase *tc = tcase_create("webhook"), *off = tcase_create("not_configured");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_webhook__signed_events_update_tier_and_status);
	tcase_add_test(tc, test_webhook__bad_signatures_and_stale_timestamps_are_400);
	tcase_add_test(tc, test_webhook__replayed_event_changes_nothing);
	tcase_add_test(tc, test_webhook__unknown_types_and_tenants_are_ignored);
	tcase_add_test(tc, test_limits__enforced_then_lifted_by_an_upgrade);
	suite_add_tcase(s, tc);
	/* restarts the workers without Stripe keys, then again with them (in the runner) */
	tcase_set_timeout(off, 120);
	tcase_add_unchecked_fixture(off, NULL, restore_billing);
	tcase_add_test(off, test_not_configured__checkout_and_portal_503_subscription_answers);
	suite_add_tcase(s, off);
	return s;
}
