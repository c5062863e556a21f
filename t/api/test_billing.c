/* test_billing.c: plans, subscription, checkout, portal, signed webhooks, tier limits */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"

#define PASSWORD "correct horse battery"
#define SECRET_KEY "sk_test_ironlayer_api_tests"
#define WEBHOOK_SECRET "whsec_ironlayer_api_tests"
#define SUCCESS_URL "https://app.example.com/billing/success?session={CHECKOUT_SESSION_ID}"
#define CANCEL_URL "https://app.example.com/billing/cancel"

/* A fresh admin account: its access token, tenant id and email. */
struct account {
	char token[1024];
	char tenant[40];
	char email[160];
};

static struct account new_account(void)
{
	struct account acc;
	struct resp *r;

	snprintf(acc.email, sizeof(acc.email), "%s@example.com", unique("billing"));
	r = signup(acc.email, PASSWORD);
	snprintf(acc.token, sizeof(acc.token), "%s", resp_str(r, "access_token"));
	snprintf(acc.tenant, sizeof(acc.tenant), "%s", resp_str(r, "tenant_id"));
	resp_free(r);
	return acc;
}

/* ---- the fake Stripe's request log ------------------------------------ */

/*
 * Request i of the log (from 0), parsed (put it when done), or NULL when
 * the log is shorter; *count how many requests it holds.
 */
static json_object *stripe_request_n(int i, int *count)
{
	FILE *f = fopen(getenv("IL_TEST_STRIPE_RECORD"), "r");
	json_object *want = NULL;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	ck_assert_ptr_nonnull(f);
	for (; getline(&line, &cap, f) != -1; n++)
		if (n == i)
			want = json_tokener_parse(line);
	free(line);
	fclose(f);
	*count = n;
	return want;
}

static int stripe_count(void)
{
	int n;

	stripe_request_n(-1, &n);
	return n;
}

static json_object *stripe_request(int i)
{
	int n;
	json_object *rec = stripe_request_n(i, &n);

	ck_assert_msg(rec != NULL, "no request %d in the fake Stripe's log of %d", i, n);
	return rec;
}

static const char *jstr(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
		return NULL;
	return json_object_get_string(v);
}

/* Asserts request rec is POST path with exactly the n form fields kv[0..2n). */
static void assert_form(json_object *rec, const char *path, const char *const *kv, int n)
{
	json_object *form;
	int i;

	ck_assert_str_eq(jstr(rec, "method", NULL), "POST");
	ck_assert_str_eq(jstr(rec, "path", NULL), path);
	ck_assert_str_eq(jstr(rec, "headers", "authorization"), "Bearer " SECRET_KEY);
	ck_assert_str_eq(jstr(rec, "headers", "content-type"),
			 "application/x-www-form-urlencoded");
	ck_assert_ptr_nonnull(jstr(rec, "headers", "idempotency-key"));
	ck_assert(json_object_object_get_ex(rec, "form", &form));
	ck_assert_msg(json_object_object_length(form) == n, "form of %s: %s", path,
		      json_object_to_json_string(form));
	for (i = 0; i < n; i++)
		ck_assert_msg(jstr(form, kv[2 * i], NULL) != NULL &&
			      strcmp(jstr(form, kv[2 * i], NULL), kv[2 * i + 1]) == 0,
			      "%s: %s should be %s in %s", path, kv[2 * i], kv[2 * i + 1],
			      json_object_to_json_string(form));
}

/* ---- requests ---------------------------------------------------------- */

static struct resp *checkout(const struct account *acc, const char *tier)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"tier\":\"%s\",\"success_url\":\"%s\",\"cancel_url\":\"%s\"}", tier,
		 SUCCESS_URL, CANCEL_URL);
	return api_json("POST", "/api/v1/billing/checkout", acc->token, body);
}

static struct resp *get(const struct account *acc, const char *path)
{
	return api("GET", path, acc->token, NULL, NULL, NULL);
}

/* The Stripe customer id stored for the tenant into out ("" when none). */
static void stored_customer(char *out, size_t n, const char *tenant)
{
	char sql[256], *text;

	snprintf(sql, sizeof(sql), "SELECT coalesce(stripe_customer_id, '') FROM billing_accounts"
		 " WHERE tenant_id = '%s'", tenant);
	text = psql("ironlayer", sql);
	text[strcspn(text, "\n")] = '\0';
	snprintf(out, n, "%s", text);
	free(text);
}

/* Checks out once so that the tenant has a Stripe customer; its id into out. */
static void with_customer(char *out, size_t n, const struct account *acc)
{
	struct resp *r = checkout(acc, "team");

	ck_assert_status(r, 200);
	resp_free(r);
	stored_customer(out, n, acc->tenant);
}

/* "t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>" */
static void sign(char *out, size_t n, const char *secret, long ts, const char *body)
{
	char *text, hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	ck_assert_int_ne(asprintf(&text, "%ld.%s", ts, body), -1);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
				   (unsigned char *)text, strlen(text), mac, &len));
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(out, n, "Stripe-Signature: t=%ld,v1=%s", ts, hex);
	free(text);
}

static struct resp *send_signed(const char *body, const char *secret, long ts)
{
	char header[256];

	sign(header, sizeof(header), secret, ts, body);
	return api("POST", "/api/v1/billing/webhook", NULL, "application/json", body, header);
}

/* A Stripe event envelope around object (JSON text), in a static buffer. */
static const char *event(const char *id, const char *type, const char *object)
{
	static char e[4096];

	snprintf(e, sizeof(e), "{\"id\":\"%s\",\"object\":\"event\",\"api_version\":"
		 "\"2024-06-20\",\"created\":%ld,\"livemode\":false,\"type\":\"%s\","
		 "\"data\":{\"object\":%s}}", id, (long)time(NULL), type, object);
	return e;
}

/* A customer.subscription.* object for customer on price, in a static buffer. */
static const char *subscription(const char *customer, const char *price, const char *status,
				int cancel_at_period_end)
{
	static char o[1024];

	snprintf(o, sizeof(o), "{\"id\":\"sub_%s\",\"object\":\"subscription\","
		 "\"customer\":\"%s\",\"status\":\"%s\",\"cancel_at_period_end\":%s,"
		 "\"current_period_end\":1800000000,\"items\":{\"object\":\"list\","
		 "\"data\":[{\"id\":\"si_1\",\"price\":{\"id\":\"%s\"}}]}}",
		 customer + 4, customer, status, cancel_at_period_end ? "true" : "false", price);
	return o;
}

/* Sends a signed event and checks the webhook's answer. */
static void deliver(const char *id, const char *type, const char *object, const char *want)
{
	struct resp *r = send_signed(event(id, type, object), WEBHOOK_SECRET, (long)time(NULL));

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), want);
	resp_free(r);
}

static void assert_subscription(const struct account *acc, const char *tier,
				const char *status)
{
	struct resp *r = get(acc, "/api/v1/billing/subscription");

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tier"), tier);
	ck_assert_str_eq(resp_str(r, "status"), status);
	resp_free(r);
}

/* Runs the SQL (a printf format) as the superuser; its output must be want. */
static void assert_sql(const char *want, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void assert_sql(const char *want, const char *fmt, ...)
{
	char sql[1024], *out;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	out = psql("ironlayer", sql);
	ck_assert_msg(strcmp(out, want) == 0, "%s: got '%s', want '%s'", sql, out, want);
	free(out);
}

/* ---- plans and subscription ------------------------------------------- */

START_TEST(test_plans__public_tiers_with_limits_and_prices)
{
	struct resp *r = api("GET", "/api/v1/billing/plans", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "{\"plans\":[{\"tier\":\"community\",\"price_id\":"
				     "null,\"limits\":{\"plans_per_month\":25,\"environments\":2,"
				     "\"ai_augment\":false}},{\"tier\":\"team\",\"price_id\":"
				     "\"price_team_test\",\"limits\":{\"plans_per_month\":1000,"
				     "\"environments\":10,\"ai_augment\":true}},{\"tier\":\"enterprise\","
				     "\"price_id\":\"price_enterprise_test\",\"limits\":{\"plans_per_month\":"
				     "null,\"environments\":null,\"ai_augment\":true}}],"
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
	ck_assert_str_eq(r->body, "{\"tier\":\"community\",\"status\":\"none\","
			 "\"current_period_end\":null,\"cancel_at_period_end\":false,\"limits\":"
			 "{\"plans_per_month\":25,\"environments\":2,\"ai_augment\":false},"
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
	ck_assert_int_eq(strncmp(jstr(rec, "headers", "idempotency-key"), key, strlen(key)), 0);
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
	snprintf(key1, sizeof(key1), "%s", jstr(rec, "headers", "idempotency-key"));
	json_object_put(rec);

	/* a second checkout reuses the customer: one request, a new idempotency key */
	r = checkout(&acc, "enterprise");
	ck_assert_status(r, 200);
	resp_free(r);
	ck_assert_int_eq(stripe_count(), n0 + 3);
	rec = stripe_request(n0 + 2);
	ck_assert_str_eq(jstr(rec, "path", NULL), "/v1/checkout/sessions");
	ck_assert_str_eq(jstr(rec, "form", "customer"), customer);
	ck_assert_str_eq(jstr(rec, "form", "line_items[0][price]"), "price_enterprise_test");
	ck_assert_str_ne(jstr(rec, "headers", "idempotency-key"), key1);
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

Suite *suite_billing(void)
{
	Suite *s = suite_create("billing");
	TCase *tc = tcase_create("billing"), *off = tcase_create("not_configured");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plans__public_tiers_with_limits_and_prices);
	tcase_add_test(tc, test_subscription__new_tenant_is_community_with_usage);
	tcase_add_test(tc, test_checkout__creates_customer_once_with_exact_fields);
	tcase_add_test(tc, test_checkout__rejects_bad_tier_and_urls_without_calling_stripe);
	tcase_add_test(tc, test_checkout_and_portal__admin_only);
	tcase_add_test(tc, test_portal__409_without_customer_then_session_url);
	tcase_add_test(tc, test_stripe_failures__502_503_and_the_customer_is_kept);
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
