/* billing_util.c: what the billing API tests share: accounts, the fake Stripe's log, signed events */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "billing_util.h"

struct account new_account(void)
{
	struct account acc;
	struct resp *r;

	snprintf(acc.email, sizeof(acc.email), "%s@example.com", unique("billing"));
	r = signup(acc.email, TEST_PASSWORD);
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
json_object *stripe_request_n(int i, int *count)
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

int stripe_count(void)
{
	int n;

	stripe_request_n(-1, &n);
	return n;
}

json_object *stripe_request(int i)
{
	int n;
	json_object *rec = stripe_request_n(i, &n);

	ck_assert_msg(rec != NULL, "no request %d in the fake Stripe's log of %d", i, n);
	return rec;
}

/* Asserts request rec is POST path with exactly the n form fields kv[0..2n). */
void assert_form(json_object *rec, const char *path, const char *const *kv, int n)
{
	json_object *form;
	int i;

	ck_assert_str_eq(json_str2(rec, "method", NULL), "POST");
	ck_assert_str_eq(json_str2(rec, "path", NULL), path);
	ck_assert_str_eq(json_str2(rec, "headers", "authorization"), "Bearer " SECRET_KEY);
	ck_assert_str_eq(json_str2(rec, "headers", "content-type"),
			 "application/x-www-form-urlencoded");
	ck_assert_ptr_nonnull(json_str2(rec, "headers", "idempotency-key"));
	ck_assert(json_object_object_get_ex(rec, "form", &form));
	ck_assert_msg(json_object_object_length(form) == n, "form of %s: %s", path,
		      json_object_to_json_string(form));
	for (i = 0; i < n; i++)
		ck_assert_msg(json_str2(form, kv[2 * i], NULL) != NULL &&
			      strcmp(json_str2(form, kv[2 * i], NULL), kv[2 * i + 1]) == 0,
			      "%s: %s should be %s in %s", path, kv[2 * i], kv[2 * i + 1],
			      json_object_to_json_string(form));
}

/* ---- requests ---------------------------------------------------------- */

struct resp *checkout(const struct account *acc, const char *tier)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"tier\":\"%s\",\"success_url\":\"%s\",\"cancel_url\":\"%s\"}", tier,
		 SUCCESS_URL, CANCEL_URL);
	return api_json("POST", "/api/v1/billing/checkout", acc->token, body);
}

struct resp *get(const struct account *acc, const char *path)
{
	return api("GET", path, acc->token, NULL, NULL, NULL);
}

/* The Stripe customer id stored for the tenant into out ("" when none). */
void stored_customer(char *out, size_t n, const char *tenant)
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
void with_customer(char *out, size_t n, const struct account *acc)
{
	struct resp *r = checkout(acc, "team");

	ck_assert_status(r, 200);
	resp_free(r);
	stored_customer(out, n, acc->tenant);
}

/* "t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>" */
void sign(char *out, size_t n, const char *secret, long ts, const char *body)
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

struct resp *send_signed(const char *body, const char *secret, long ts)
{
	char header[256];

	sign(header, sizeof(header), secret, ts, body);
	return api("POST", "/api/v1/billing/webhook", NULL, "application/json", body, header);
}

/* A Stripe event envelope around object (JSON text), in a static buffer. */
const char *event(const char *id, const char *type, const char *object)
{
	static char e[4096];

	snprintf(e, sizeof(e), "{\"id\":\"%s\",\"object\":\"event\",\"api_version\":"
		 "\"2024-06-20\",\"created\":%ld,\"livemode\":false,\"type\":\"%s\","
		 "\"data\":{\"object\":%s}}", id, (long)time(NULL), type, object);
	return e;
}

/* A customer.subscription.* object for customer on price, in a static buffer. */
const char *subscription(const char *customer, const char *price, const char *status,
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
void deliver(const char *id, const char *type, const char *object, const char *want)
{
	struct resp *r = send_signed(event(id, type, object), WEBHOOK_SECRET, (long)time(NULL));

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), want);
	resp_free(r);
}

void assert_subscription(const struct account *acc, const char *tier,
				const char *status)
{
	struct resp *r = get(acc, "/api/v1/billing/subscription");

	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "tier"), tier);
	ck_assert_str_eq(resp_str(r, "status"), status);
	resp_free(r);
}

/* Runs the SQL (a printf format) as the superuser; its output must be want. */
void assert_sql(const char *want, const char *fmt, ...)
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

