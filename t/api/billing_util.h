/* billing_util.h: what the billing API tests share: accounts, the fake Stripe's log, signed events */
#ifndef IL_T_BILLING_UTIL_H
#define IL_T_BILLING_UTIL_H

#include <stddef.h>

#include <json-c/json.h>

#include "harness.h"

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

/* A freshly signed-up admin account. */
struct account new_account(void);
/* The fake Stripe's recorded requests (the i-th, how many, …). */
json_object *stripe_request_n(int i, int *count);
int stripe_count(void);
json_object *stripe_request(int i);
void assert_form(json_object *rec, const char *path, const char *const *kv, int n);
/* Billing requests as the account. */
struct resp *checkout(const struct account *acc, const char *tier);
struct resp *get(const struct account *acc, const char *path);
void stored_customer(char *out, size_t n, const char *tenant);
void with_customer(char *out, size_t n, const struct account *acc);
/* Stripe-Signature for body, a signed POST of it, and event/subscription JSON. */
void sign(char *out, size_t n, const char *secret, long ts, const char *body);
struct resp *send_signed(const char *body, const char *secret, long ts);
const char *event(const char *id, const char *type, const char *object);
const char *subscription(const char *customer, const char *price, const char *status,
				int cancel_at_period_end);
/* Posts a signed event and checks its answer; checks the tenant's tier/status. */
void deliver(const char *id, const char *type, const char *object, const char *want);
void assert_subscription(const struct account *acc, const char *tier,
				const char *status);
/* Runs the SQL (a printf format) as the superuser; its output must be want. */
void assert_sql(const char *want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
