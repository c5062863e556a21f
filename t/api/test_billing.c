/* test_billing.c: tiers, subscription, checkout, portal and Stripe failures */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "billing_util.h"


/* ---- plans and subscription ------------------------------------------- */

START_TEST(test_plans__public_tiers_with_limits_and_prices)
{
	struct resp *r = api("GET", "/api/v1/billing/plans", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "{\"plans\":[{\"tier\":\"community\","
				     "\"label\":\"Community\",\"price_label\":\"Free\",\"features\":"
				     "[\"25 plans per month\",\"2 environments\",\"Cost, risk and lint "
				     "advisory on every plan\",\"No AI advisory\"],\"price_id\":"
				     "null,\"limits\":{\"plans_per_month\":25,\"environments\":2,"
				     "\"ai_augment\":false,\"max_concurrent_applies\":1}},{\"tier\":"
				     "\"team\",\"label\":\"Team\","
				     "\"price_label\":null,\"features\":[\"1000 plans per month\","
				     "\"10 environments\",\"Cost, risk and lint advisory on every plan\","
				     "\"AI advisory with your own LLM key\"],\"price_id\":"
				     "\"price_team_test\",\"limits\":{\"plans_per_month\":1000,"
				     "\"environments\":10,\"ai_augment\":true,\"max_concurrent_applies\":3}},"
				     "{\"tier\":\"enterprise\","
				     "\"label\":\"Enterprise\",\"price_label\":null,\"features\":"
				     "[\"Unlimited plans per month\",\"Unlimited environments\",\"Cost, risk "
				     "and lint advisory on every plan\",\"AI advisory with your own LLM key\"],"
				     "\"price_id\":\"price_enterprise_test\",\"limits\":{\"plans_per_month\":"
				     "null,\"environments\":null,\"ai_augment\":true,"
				     "\"max_concurrent_applies\":null}}],"
				     "\"billing_enabled\":true}"));
	ck_assert_ptr_null(strstr(r->body, SECRET_KEY));
	resp_free(r);
}
END_TEST

START_TEST(test_subscription__new_tenant_is_community_with_usage)
{
	struct account acc = new_account();
	struct resp *r = get(&acc, "/api/v1/billing/subscription");

	ck_assert_status(r, 200);
	ck_assert_str_eq(r->body, "{\"plan_tier\":\"community\",\"tier\":\"community\","
			 "\"status\":\"none\",\"subscription_id\":null,\"period_start\":null,"
			 "\"period_end\":null,\"current_period_end\":null,\"cancel_at_period_end\":false,\"limits\":"
			 "{\"plans_per_month\":25,\"environments\":2,\"ai_augment\":false,"
			 "\"max_concurrent_applies\":1},"
			 "\"usage\":{\"plans_this_month\":0,\"environments\":1},"
			 "\"billing_enabled\":true}");
	resp_free(r);
	r = api("GET", "/api/v1/billing/subscription", NULL, NULL, NULL, NULL);
	ck_assert_status(r, 401);
	resp_free(r);
}
END_TEST

/* ---- checkout and portal ---------------------------------------------- */

START_TEST(test_checkout__creates_customer_once_with_exact_fields)
{
	struct account acc = new_account();
	int n0 = stripe_count();
	struct resp *r = checkout(&acc, "team");
	char customer[64], key[256], key1[256];
	json_object *rec;

	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "session_id"), "cs_test_"));
	ck_assert_ptr_nonnull(strstr(resp_str(r, "url"), "https://checkout.stripe.com/c/pay/cs_test_"));
	ck_assert_str_eq(resp_str(r, "checkout_url"), resp_str(r, "url"));
	resp_free(r);
	ck_assert_int_eq(stripe_count(), n0 + 2);
	stored_customer(customer, sizeof(customer), acc.tenant);
	ck_assert_msg(strncmp(customer, "cus_", 4) == 0, "customer: %s", customer);
	rec = stripe_request(n0);
	{
		const char *kv[] = { "email", acc.email, "metadata[ironlayer_tenant_id]", acc.tenant };

		assert_form(rec, "/v1/customers", kv, 2);
	}
	snprintf(key, sizeof(key), "ironlayer-customer-%s-", acc.tenant);
	ck_assert_int_eq(strncmp(json_str2(rec, "headers", "idempotency-key"), key, strlen(key)), 0);
	json_object_put(rec);
	rec = stripe_request(n0 + 1);
	{
		const char *kv[] = {
			"mode", "subscription", "customer", customer,
			"line_items[0][price]", "price_team_test", "line_items[0][quantity]", "1",
			"success_url", SUCCESS_URL, "cancel_url", CANCEL_URL,
			"client_reference_id", acc.tenant,
			"metadata[ironlayer_tenant_id]", acc.tenant, "metadata[ironlayer_tier]", "team",
			"subscription_data[metadata][ironlayer_tenant_id]", acc.tenant,
			"subscription_data[metadata][ironlayer_tier]", "team",
		};

		assert_form(rec, "/v1/checkout/sessions", kv, 11);
	}
	snprintf(key1, sizeof(key1), "%s", json_str2(rec, "headers", "idempotency-key"));
	json_object_put(rec);

	/* a second checkout reuses the customer: one request, a new idempotency key */
	r = checkout(&acc, "enterprise");
	ck_assert_status(r, 200);
	resp_free(r);
	ck_assert_int_eq(stripe_count(), n0 + 3);
	rec = stripe_request(n0 + 2);
	ck_assert_str_eq(json_str2(rec, "path", NULL), "/v1/checkout/sessions");
	ck_assert_str_eq(json_str2(rec, "form", "customer"), customer);
	ck_assert_str_eq(json_str2(rec, "form", "line_items[0][price]"), "price_enterprise_test");
	ck_assert_str_ne(json_str2(rec, "headers", "idempotency-key"), key1);
	json_object_put(rec);
	assert_sql("1\n", "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'"
		   " AND action = 'billing_customer_created'", acc.tenant);
	assert_sql("2\n", "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'"
		   " AND action = 'billing_checkout_started'", acc.tenant);
}
END_TEST

START_TEST(test_checkout__rejects_bad_tier_and_urls_without_calling_stripe)
{
#define URLS(s, c) "\"success_url\":\"" s "\",\"cancel_url\":\"" c "\"}"
#define OK_S "https://app.example.com/s"
#define OK_C "http://localhost:3000/c"
	static const char *const bodies[][2] = {
		{ "{\"tier\":\"community\"," URLS(OK_S, OK_C), "tier" },
		{ "{\"tier\":\"gold\"," URLS(OK_S, OK_C), "tier" },
		{ "{\"tier\":\"team\"," URLS("ftp://app.example.com/s", OK_C), "success_url" },
		{ "{\"tier\":\"team\"," URLS("https://evil.example.net/s", OK_C), "success_url" },
		{ "{\"tier\":\"team\"," URLS(OK_S, "https://app.example.com@evil.net/c"), "cancel_url" },
		{ "{\"tier\":\"team\"," URLS(OK_S, "https://app.example.com/ c"), "cancel_url" },
		{ "{\"tier\":\"team\",\"success_url\":\"" OK_S "\"}", "cancel_url" },
		{ "{\"price_id\":\"price_gold\"," URLS(OK_S, OK_C), "price_id" },
		{ "{" URLS(OK_S, OK_C), "price_id" },
	};
	struct account acc = new_account();
	int n0 = stripe_count();
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct resp *r = api_json("POST", "/api/v1/billing/checkout", acc.token,
					  bodies[i][0]);

		ck_assert_status(r, 422);
		ck_assert_str_eq(resp_str(r, "code"), "validation_error");
		ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), bodies[i][1]);
		resp_free(r);
	}
	ck_assert_int_eq(stripe_count(), n0);
}
END_TEST

START_TEST(test_checkout_and_portal__admin_only)
{
	struct account acc = new_account();
	char email[160], args[512], body[256], token[1024];
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("billop"));
	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role operator",
		 acc.tenant, email);
	ck_assert_int_eq(run_cli(args, "operator password 1\n", NULL), 0);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"operator password 1\"}",
		 email);
	r = api_json("POST", "/api/v1/auth/login", NULL, body);
	ck_assert_status(r, 200);
	snprintf(token, sizeof(token), "%s", resp_str(r, "access_token"));
	resp_free(r);
	r = api_json("POST", "/api/v1/billing/checkout", token, "{}");
	ck_assert_status(r, 403);
	resp_free(r);
	r = api_json("POST", "/api/v1/billing/portal", token, "{}");
	ck_assert_status(r, 403);
	resp_free(r);
	r = api("GET", "/api/v1/billing/subscription", token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	resp_free(r);
}
END_TEST

START_TEST(test_portal__409_without_customer_then_session_url)
{
	struct account acc = new_account();
	const char *body = "{\"return_url\":\"http://localhost:3000/settings/billing\"}";
	struct resp *r = api_json("POST", "/api/v1/billing/portal", acc.token, body);
	char customer[64];
	json_object *rec;
	int n0;

	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "no_billing_customer");
	resp_free(r);
	with_customer(customer, sizeof(customer), &acc);
	n0 = stripe_count();
	r = api_json("POST", "/api/v1/billing/portal", acc.token, body);
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "url"), "https://billing.stripe.com/p/session/"));
	resp_free(r);
	ck_assert_int_eq(stripe_count(), n0 + 1);
	rec = stripe_request(n0);
	{
		const char *kv[] = { "customer", customer,
				     "return_url", "http://localhost:3000/settings/billing" };

		assert_form(rec, "/v1/billing_portal/sessions", kv, 2);
	}
	json_object_put(rec);
	r = api_json("POST", "/api/v1/billing/portal", acc.token,
		     "{\"return_url\":\"javascript:alert(1)\"}");
	ck_assert_status(r, 422);
	resp_free(r);
}
END_TEST

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* Makes the fake Stripe fail the next request to path with status. */
static void stripe_fail_next(const char *path, int status)
{
	char url[256], body[256];
	CURL *c = curl_easy_init();
	long code = 0;

	snprintf(url, sizeof(url), "%s/__fake__/fail", getenv("IRONLAYER_STRIPE_API_BASE"));
	snprintf(body, sizeof(body), "{\"path\":\"%s\",\"status\":%d,\"count\":1}", path,
		 status);
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	ck_assert_int_eq(code, 200);
	curl_easy_cleanup(c);
}

START_TEST(test_stripe_failures__502_503_and_the_customer_is_kept)
{
	struct account acc = new_account();
	char customer[64];
	struct resp *r;
	int n0;

	stripe_fail_next("/v1/customers", 400);
	r = checkout(&acc, "team");
	ck_assert_status(r, 502);
	ck_assert_str_eq(resp_str(r, "code"), "billing_provider_error");
	resp_free(r);
	stored_customer(customer, sizeof(customer), acc.tenant);
	ck_assert_str_eq(customer, "");
	/* the session fails after the customer was made: the customer is kept */
	stripe_fail_next("/v1/checkout/sessions", 402);
	r = checkout(&acc, "team");
	ck_assert_status(r, 502);
	resp_free(r);
	stored_customer(customer, sizeof(customer), acc.tenant);
	ck_assert_int_eq(strncmp(customer, "cus_", 4), 0);
	n0 = stripe_count();
	r = checkout(&acc, "team");
	ck_assert_status(r, 200);
	resp_free(r);
	ck_assert_int_eq(stripe_count(), n0 + 1);
	stripe_fail_next("/v1/billing_portal/sessions", 500);
	r = api_json("POST", "/api/v1/billing/portal", acc.token,
		     "{\"return_url\":\"https://app.example.com/\"}");
	ck_assert_status(r, 503);
	ck_assert_str_eq(resp_str(r, "code"), "billing_provider_unavailable");
	ck_assert_ptr_null(strstr(r->body, "Injected"));
	resp_free(r);
}
END_TEST

Suite *suite_billing(void)
{
	Suite *s = suite_create("billing");
	TCase *tc = tcase_create("billing");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plans__public_tiers_with_limits_and_prices);
	tcase_add_test(tc, test_subscription__new_tenant_is_community_with_usage);
	tcase_add_test(tc, test_checkout__creates_customer_once_with_exact_fields);
	tcase_add_test(tc, test_checkout__rejects_bad_tier_and_urls_without_calling_stripe);
	tcase_add_test(tc, test_checkout_and_portal__admin_only);
	tcase_add_test(tc, test_portal__409_without_customer_then_session_url);
	tcase_add_test(tc, test_stripe_failures__502_503_and_the_customer_is_kept);
	suite_add_tcase(s, tc);
	return s;
}
