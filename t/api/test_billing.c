/* test_billing.c: plans, subscription, checkout, portal, signed webhooks, tier limits */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"

#define PASSWORD "correct horse battery"
#define SECRET_KEY "sk_test_ironlayer_api_tests"
#define WEBHOOK_SECRET "whsec_ironlayer_api_tests"
#define SUCCESS_URL "https://app.example.com/billing/success?session={CHECKOUT_SESSION_ID}"
#define CANCEL_URL "https://app.example.com/billing/cancel"

/* A fresh admin account: its access token and tenant id (malloc'd). */
struct account {
	char *token;
	char *tenant;
	char *email;
};

static struct account new_account(void)
{
	struct account acc;
	char email[160];
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("billing"));
	r = signup(email, PASSWORD);
	acc.token = must_str(r, "access_token");
	acc.tenant = must_str(r, "tenant_id");
	acc.email = strdup(email);
	resp_free(r);
	return acc;
}

static void account_free(struct account *acc)
{
	free(acc->token);
	free(acc->tenant);
	free(acc->email);
}

/* ---- the fake Stripe's request log ------------------------------------ */

/* The recorded requests, one parsed JSON object per line (caller puts them). */
static int stripe_requests(json_object **out, int max)
{
	FILE *f = fopen(getenv("IL_TEST_STRIPE_RECORD"), "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) != -1) {
		if (n < max)
			out[n] = json_tokener_parse(line);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

static int stripe_count(void)
{
	return stripe_requests(NULL, 0);
}

/* Request i of the log (from 0); put it when done. */
static json_object *stripe_request(int i)
{
	json_object *all[512], *want;
	int n = stripe_requests(all, 512), k;

	ck_assert_int_lt(i, n);
	ck_assert_int_lt(n, 512);
	want = all[i];
	for (k = 0; k < n; k++)
		if (k != i)
			json_object_put(all[k]);
	return want;
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

/* The Stripe customer id stored for the tenant (malloc'd, "" when none). */
static char *stored_customer(const char *tenant)
{
	char sql[256], *out;

	snprintf(sql, sizeof(sql), "SELECT coalesce(stripe_customer_id, '') FROM billing_accounts"
		 " WHERE tenant_id = '%s'", tenant);
	out = psql("ironlayer", sql);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* Checkout once so that the tenant has a Stripe customer; returns its id. */
static char *with_customer(const struct account *acc)
{
	struct resp *r = checkout(acc, "team");

	ck_assert_status(r, 200);
	resp_free(r);
	return stored_customer(acc->tenant);
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

/* A Stripe event envelope around object (JSON text); malloc'd. */
static char *event(const char *id, const char *type, const char *object)
{
	char *e;

	ck_assert_int_ne(asprintf(&e, "{\"id\":\"%s\",\"object\":\"event\",\"api_version\":"
				  "\"2024-06-20\",\"created\":%ld,\"livemode\":false,\"type\":\"%s\","
				  "\"data\":{\"object\":%s}}", id, (long)time(NULL), type, object), -1);
	return e;
}

/* A customer.subscription.* object for customer on price. */
static char *subscription(const char *customer, const char *price, const char *status,
			  int cancel_at_period_end)
{
	char *o;

	ck_assert_int_ne(asprintf(&o, "{\"id\":\"sub_%s\",\"object\":\"subscription\","
				  "\"customer\":\"%s\",\"status\":\"%s\",\"cancel_at_period_end\":%s,"
				  "\"current_period_end\":1800000000,\"items\":{\"object\":\"list\","
				  "\"data\":[{\"id\":\"si_1\",\"price\":{\"id\":\"%s\"}}]}}",
				  customer + 4, customer, status,
				  cancel_at_period_end ? "true" : "false", price), -1);
	return o;
}

/* Sends a signed event and checks the webhook's answer. */
static void deliver(const char *id, const char *type, const char *object, const char *want)
{
	char *e = event(id, type, object);
	struct resp *r = send_signed(e, WEBHOOK_SECRET, (long)time(NULL));

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), want);
	resp_free(r);
	free(e);
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

/* ---- plans and subscription ------------------------------------------- */

START_TEST(test_plans__public_tiers_with_limits_and_prices)
{
	struct resp *r = api("GET", "/api/v1/billing/plans", NULL, NULL, NULL, NULL);

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "plans.0.tier"), "community");
	ck_assert_ptr_null(resp_str(r, "plans.0.price_id"));
	ck_assert_int_eq(resp_int(r, "plans.0.limits.plans_per_month"), 25);
	ck_assert_int_eq(resp_int(r, "plans.0.limits.environments"), 2);
	ck_assert_ptr_nonnull(strstr(r->body, "\"ai_augment\":false"));
	ck_assert_str_eq(resp_str(r, "plans.1.tier"), "team");
	ck_assert_str_eq(resp_str(r, "plans.1.price_id"), "price_team_test");
	ck_assert_int_eq(resp_int(r, "plans.1.limits.plans_per_month"), 1000);
	ck_assert_int_eq(resp_int(r, "plans.1.limits.environments"), 10);
	ck_assert_str_eq(resp_str(r, "plans.2.tier"), "enterprise");
	ck_assert_str_eq(resp_str(r, "plans.2.price_id"), "price_enterprise_test");
	ck_assert_ptr_nonnull(strstr(r->body, "\"tier\":\"enterprise\",\"price_id\":"
				     "\"price_enterprise_test\",\"limits\":{\"plans_per_month\":null,"
				     "\"environments\":null,\"ai_augment\":true}"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"billing_enabled\":true"));
	ck_assert_ptr_null(strstr(r->body, SECRET_KEY));
	resp_free(r);
}
END_TEST

START_TEST(test_subscription__new_tenant_is_community_with_usage)
{
	struct account acc = new_account();
	struct resp *r = get(&acc, "/api/v1/billing/subscription");

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tier"), "community");
	ck_assert_str_eq(resp_str(r, "status"), "none");
	ck_assert_ptr_nonnull(strstr(r->body, "\"current_period_end\":null"));
	ck_assert_ptr_nonnull(strstr(r->body, "\"cancel_at_period_end\":false"));
	ck_assert_int_eq(resp_int(r, "limits.plans_per_month"), 25);
	ck_assert_int_eq(resp_int(r, "usage.plans_this_month"), 0);
	ck_assert_int_eq(resp_int(r, "usage.environments"), 1);
	resp_free(r);
	r = api("GET", "/api/v1/billing/subscription", NULL, NULL, NULL, NULL);
	ck_assert_status(r, 401);
	resp_free(r);
	account_free(&acc);
}
END_TEST

/* ---- checkout and portal ---------------------------------------------- */

START_TEST(test_checkout__creates_customer_once_with_exact_fields)
{
	struct account acc = new_account();
	int n0 = stripe_count();
	struct resp *r = checkout(&acc, "team");
	json_object *rec;
	char *customer, key[256];
	const char *key1;

	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "session_id"), "cs_test_"));
	ck_assert_ptr_nonnull(strstr(resp_str(r, "url"), "https://checkout.stripe.com/c/pay/cs_test_"));
	resp_free(r);
	ck_assert_int_eq(stripe_count(), n0 + 2);
	customer = stored_customer(acc.tenant);
	ck_assert_msg(strncmp(customer, "cus_", 4) == 0, "customer: %s", customer);

	rec = stripe_request(n0);
	{
		const char *kv[] = { "email", acc.email, "metadata[ironlayer_tenant_id]", acc.tenant };

		assert_form(rec, "/v1/customers", kv, 2);
	}
	snprintf(key, sizeof(key), "ironlayer-customer-%s-", acc.tenant);
	ck_assert_ptr_eq(strstr(jstr(rec, "headers", "idempotency-key"), key),
			 jstr(rec, "headers", "idempotency-key"));
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
	key1 = strdup(jstr(rec, "headers", "idempotency-key"));
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
	free((char *)key1);
	free(customer);
	account_free(&acc);
}
END_TEST

START_TEST(test_checkout__rejects_bad_tier_and_urls_without_calling_stripe)
{
	static const char *const bodies[][2] = {
		{ "{\"tier\":\"community\",\"success_url\":\"https://app.example.com/s\","
		  "\"cancel_url\":\"https://app.example.com/c\"}", "tier" },
		{ "{\"tier\":\"gold\",\"success_url\":\"https://app.example.com/s\","
		  "\"cancel_url\":\"https://app.example.com/c\"}", "tier" },
		{ "{\"tier\":\"team\",\"success_url\":\"ftp://app.example.com/s\","
		  "\"cancel_url\":\"https://app.example.com/c\"}", "success_url" },
		{ "{\"tier\":\"team\",\"success_url\":\"https://evil.example.net/s\","
		  "\"cancel_url\":\"https://app.example.com/c\"}", "success_url" },
		{ "{\"tier\":\"team\",\"success_url\":\"https://app.example.com/s\","
		  "\"cancel_url\":\"https://app.example.com@evil.example.net/c\"}", "cancel_url" },
		{ "{\"tier\":\"team\",\"success_url\":\"https://app.example.com/s\","
		  "\"cancel_url\":\"https://app.example.com/ c\"}", "cancel_url" },
		{ "{\"tier\":\"team\",\"success_url\":\"https://app.example.com/s\"}", "cancel_url" },
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
	account_free(&acc);
}
END_TEST

START_TEST(test_checkout_and_portal__admin_only)
{
	struct account acc = new_account();
	char email[160], args[512], body[256];
	struct resp *r;
	char *token;

	snprintf(email, sizeof(email), "%s@example.com", unique("billviewer"));
	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role operator",
		 acc.tenant, email);
	ck_assert_int_eq(run_cli(args, "operator password 1\n", NULL), 0);
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"operator password 1\"}",
		 email);
	r = api_json("POST", "/api/v1/auth/login", NULL, body);
	ck_assert_status(r, 200);
	token = must_str(r, "access_token");
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
	free(token);
	account_free(&acc);
}
END_TEST

START_TEST(test_portal__409_without_customer_then_session_url)
{
	struct account acc = new_account();
	const char *body = "{\"return_url\":\"http://localhost:3000/settings/billing\"}";
	struct resp *r = api_json("POST", "/api/v1/billing/portal", acc.token, body);
	char *customer;
	json_object *rec;
	int n0;

	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "no_billing_customer");
	resp_free(r);
	customer = with_customer(&acc);
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
	free(customer);
	account_free(&acc);
}
END_TEST

/* ---- webhooks ---------------------------------------------------------- */

START_TEST(test_webhook__signed_events_update_tier_and_status)
{
	struct account acc = new_account();
	char *customer = with_customer(&acc), *sub, obj[512], sql[256], *out;
	struct resp *r;

	snprintf(obj, sizeof(obj), "{\"id\":\"cs_test_1\",\"object\":\"checkout.session\","
		 "\"mode\":\"subscription\",\"customer\":\"%s\",\"subscription\":\"sub_%s\","
		 "\"payment_status\":\"paid\",\"status\":\"complete\",\"metadata\":"
		 "{\"ironlayer_tenant_id\":\"%s\",\"ironlayer_tier\":\"team\"}}",
		 customer, customer + 4, acc.tenant);
	deliver(unique("evt_co"), "checkout.session.completed", obj, "processed");
	assert_subscription(&acc, "team", "active");

	sub = subscription(customer, "price_enterprise_test", "active", 1);
	deliver(unique("evt_su"), "customer.subscription.updated", sub, "processed");
	free(sub);
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

	sub = subscription(customer, "price_enterprise_test", "canceled", 0);
	deliver(unique("evt_sd"), "customer.subscription.deleted", sub, "processed");
	free(sub);
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_str_eq(resp_str(r, "tier"), "community");
	ck_assert_str_eq(resp_str(r, "status"), "canceled");
	ck_assert_ptr_nonnull(strstr(r->body, "\"current_period_end\":null"));
	resp_free(r);

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'"
		 " AND action = 'billing_webhook' AND actor = 'stripe'", acc.tenant);
	out = psql("ironlayer", sql);
	ck_assert_str_eq(out, "4\n");
	free(out);
	ck_assert_int_eq(run_cli("audit verify", NULL, NULL), 0);
	free(customer);
	account_free(&acc);
}
END_TEST

START_TEST(test_webhook__bad_signatures_and_stale_timestamps_are_400)
{
	struct account acc = new_account();
	char *customer = with_customer(&acc), *sub, *e, header[256];
	long now = (long)time(NULL);
	struct resp *r;

	sub = subscription(customer, "price_team_test", "active", 0);
	e = event(unique("evt_bad"), "customer.subscription.created", sub);
	r = send_signed(e, "whsec_wrong", now);
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_signature");
	resp_free(r);
	r = send_signed(e, WEBHOOK_SECRET, now - 301);
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_signature");
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "tolerance"));
	resp_free(r);
	/* signed for one body, sent with another */
	sign(header, sizeof(header), WEBHOOK_SECRET, now, e);
	e[strlen(e) - 3] = ' ';
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
	/* signed garbage is still not an event */
	r = send_signed("{\"hello\":", WEBHOOK_SECRET, now);
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_payload");
	resp_free(r);
	free(e);
	free(sub);
	free(customer);
	account_free(&acc);
}
END_TEST

START_TEST(test_webhook__replayed_event_changes_nothing)
{
	struct account acc = new_account();
	char *customer = with_customer(&acc), *sub, id[64], sql[256], *out;

	snprintf(id, sizeof(id), "%s", unique("evt_replay"));
	sub = subscription(customer, "price_team_test", "active", 0);
	deliver(id, "customer.subscription.created", sub, "processed");
	free(sub);
	assert_subscription(&acc, "team", "active");
	sub = subscription(customer, "price_team_test", "canceled", 0);
	deliver(unique("evt_del"), "customer.subscription.deleted", sub, "processed");
	free(sub);
	assert_subscription(&acc, "community", "canceled");
	/* the first event again, freshly signed: answered 200, applied never twice */
	sub = subscription(customer, "price_team_test", "active", 0);
	deliver(id, "customer.subscription.created", sub, "duplicate");
	free(sub);
	assert_subscription(&acc, "community", "canceled");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM billing_events WHERE event_id = '%s'", id);
	out = psql("ironlayer", sql);
	ck_assert_str_eq(out, "1\n");
	free(out);
	free(customer);
	account_free(&acc);
}
END_TEST

START_TEST(test_webhook__unknown_types_and_tenants_are_ignored)
{
	struct account acc = new_account();
	char *customer = with_customer(&acc), obj[256], *sub;
	struct resp *r;
	char *e;

	snprintf(obj, sizeof(obj), "{\"id\":\"%s\",\"object\":\"customer\"}", customer);
	e = event(unique("evt_unk"), "customer.updated", obj);
	r = send_signed(e, WEBHOOK_SECRET, (long)time(NULL));
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "ignored");
	resp_free(r);
	free(e);
	sub = subscription("cus_nobodyknows", "price_team_test", "active", 0);
	deliver(unique("evt_nobody"), "customer.subscription.created", sub, "ignored");
	free(sub);
	assert_subscription(&acc, "community", "none");
	free(customer);
	account_free(&acc);
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
	if (status == 200) {
		ck_assert_str_eq(resp_str(r, "limit"), limit);
		ck_assert_ptr_nonnull(strstr(r->body, "\"allowed\":true"));
	} else {
		ck_assert_str_eq(resp_str(r, "code"),
				 status == 429 ? "quota_exceeded" : "tier_limit_reached");
	}
	if (needle != NULL)
		ck_assert_msg(strstr(r->body, needle) != NULL, "%s not in %s", needle, r->body);
	resp_free(r);
}

START_TEST(test_limits__enforced_then_lifted_by_an_upgrade)
{
	struct account acc = new_account();
	char sql[512], *out, *customer, *sub;
	struct resp *r;

	assert_quota(&acc, "plans_per_month", 200, "\"used\":0,\"max\":25");
	assert_quota(&acc, "environments", 200, "\"used\":1,\"max\":2");
	assert_quota(&acc, "ai_augment", 402,
		     "the community tier does not include AI augment");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO usage_counters VALUES ('%s',"
		 " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), 25);"
		 "INSERT INTO environments (tenant_id, name, schema_prefix)"
		 " VALUES ('%s', 'staging', 'tstaging');", acc.tenant, acc.tenant);
	out = psql("ironlayer", sql);
	free(out);
	assert_quota(&acc, "plans_per_month", 429,
		     "the community tier allows 25 plan generations per month and 25 were used");
	assert_quota(&acc, "environments", 402, "the community tier allows 2 environments");
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_int_eq(resp_int(r, "usage.plans_this_month"), 25);
	ck_assert_int_eq(resp_int(r, "usage.environments"), 2);
	resp_free(r);
	r = get(&acc, "/api/v1/billing/quota/seats");
	ck_assert_status(r, 404);
	resp_free(r);

	customer = with_customer(&acc);
	sub = subscription(customer, "price_team_test", "active", 0);
	deliver(unique("evt_up"), "customer.subscription.created", sub, "processed");
	free(sub);
	assert_quota(&acc, "plans_per_month", 200, "\"tier\":\"team\",\"used\":25,\"max\":1000");
	assert_quota(&acc, "environments", 200, "\"used\":2,\"max\":10");
	assert_quota(&acc, "ai_augment", 200, NULL);
	free(customer);
	account_free(&acc);
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
	char *e;

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
	e = event(unique("evt_off"), "customer.updated", "{}");
	r = send_signed(e, WEBHOOK_SECRET, (long)time(NULL));
	ck_assert_status(r, 503);
	resp_free(r);
	free(e);
	r = get(&acc, "/api/v1/billing/subscription");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tier"), "community");
	ck_assert_ptr_nonnull(strstr(r->body, "\"billing_enabled\":false"));
	resp_free(r);
	account_free(&acc);
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
	tcase_add_test(tc, test_webhook__signed_events_update_tier_and_status);
	tcase_add_test(tc, test_webhook__bad_signatures_and_stale_timestamps_are_400);
	tcase_add_test(tc, test_webhook__replayed_event_changes_nothing);
	tcase_add_test(tc, test_webhook__unknown_types_and_tenants_are_ignored);
	tcase_add_test(tc, test_limits__enforced_then_lifted_by_an_upgrade);
	suite_add_tcase(s, tc);
	/* restarts the workers without Stripe keys, and again with them afterwards */
	tcase_set_timeout(off, 120);
	tcase_add_unchecked_fixture(off, NULL, restore_billing);
	tcase_add_test(off, test_not_configured__checkout_and_portal_503_subscription_answers);
	suite_add_tcase(s, off);
	return s;
}
