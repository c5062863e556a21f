/* billing_checkout.c: Stripe Checkout and Customer Portal sessions for a tenant */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "billing/store.h"
#include "billing/stripe.h"
#include "billing/tiers.h"
#include "db/auth.h"
#include "db/db.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/error.h"

#define MAX_URL 2048

/* 1 after answering 503 when no Stripe secret key is configured. */
static int refuse_unconfigured(struct req *r)
{
	if (billing_enabled(r->cfg))
		return 0;
	req_error(r, 503, "billing_not_configured",
		  "billing is not configured on this installation");
	return 1;
}

/* Records the answer for a failed Stripe call (code from stripe_post). */
static int stripe_failed(struct req *r, int rc)
{
	if (rc == IL_EUNAVAIL)
		req_error(r, 503, "billing_provider_unavailable",
			  "the payment provider could not be reached; try again");
	else
		req_error(r, 502, "billing_provider_error",
			  "the payment provider did not accept the request");
	return 1;
}

/* 1 when host (n bytes) is in the comma- or space-separated allowed list. */
static int host_allowed(const char *list, const char *host, size_t n)
{
	while (*list != '\0') {
		size_t len = strcspn(list, ", ");

		if (len == n && len > 0 && strncasecmp(list, host, n) == 0)
			return 1;
		list += len;
		list += strspn(list, ", ");
	}
	return 0;
}

/* NULL, or why url is not an http(s) URL on an allowed host. */
static const char *check_url(const struct il_config *cfg, const char *url)
{
	const char *p, *host;
	size_t n;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return "URL must not contain spaces or control characters";
	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return "URL must start with http:// or https://";
	n = strcspn(host, "/?#");
	if (memchr(host, '@', n) != NULL)
		return "URL must not contain credentials";
	if (n > 0 && host[0] != '[' && memchr(host, ':', n) != NULL)
		n = (size_t)((const char *)memchr(host, ':', n) - host);
	if (n == 0 || !host_allowed(cfg->billing_allowed_hosts, host, n))
		return "URL host is not in billing_allowed_hosts";
	return NULL;
}

static void check_url_field(struct req *r, const struct field_value *v, const char *name)
{
	const char *why = v->present ? check_url(r->cfg, v->str) : NULL;

	if (why != NULL)
		req_invalid(r, "body", name, why, "value_error");
}

/*
 * Creates the tenant's Stripe customer. The idempotency key is derived from
 * the tenant and the caller, so a retry after a lost answer gets the same
 * customer back instead of a second one.
 */
static int create_customer(const char **id, struct req *r)
{
	struct stripe_form f;
	char hex[IL_SHA256_HEX_LEN + 1];
	const char *key;
	json_object *cus;
	int rc;

	crypto_sha256_hex(r->who.email, strlen(r->who.email), hex);
	key = arena_printf(r->arena, "ironlayer-customer-%s-%.16s", r->who.tenant_id, hex);
	stripe_form_init(&f, r->arena);
	stripe_form_add(&f, "email", r->who.email);
	stripe_form_add(&f, "metadata[ironlayer_tenant_id]", r->who.tenant_id);
	if ((rc = stripe_post(&cus, r->cfg, r->arena, "/v1/customers", &f, key)) < 0)
		return stripe_failed(r, rc);
	*id = stripe_str(cus, "id");
	if (*id == NULL || strncmp(*id, "cus_", 4) != 0)
		return stripe_failed(r, IL_EINVALID);
	return 0;
}

/*
 * The tenant's Stripe customer, created on first use and committed at once
 * (so a failed checkout does not lose it). Returns 0, 1 after recording an
 * error response (409 when a live subscription exists), or a negative code.
 */
static int ensure_customer(const char **id, struct req *r)
{
	struct billing_account acc;
	int rc;

	if ((rc = db_begin_tenant(r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	rc = billing_db_account_lock(&acc, r->db, r->arena, r->who.tenant_id);
	*id = acc.customer_id;
	if (rc == 0 && acc.subscription_id != NULL && billing_status_keeps_tier(acc.status)) {
		/* a second subscription would bill twice: plan changes go through the portal */
		req_error(r, 409, "subscription_exists",
			  "this tenant already has a subscription (%s); "
			  "change it in the billing portal", acc.status);
		rc = 1;
	}
	if (rc == 0 && *id == NULL &&
	    (rc = create_customer(id, r)) == 0 &&
	    (rc = billing_db_set_customer(r->db, r->arena, r->who.tenant_id, *id)) == 0)
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				     "billing_customer_created", "stripe_customer", *id, NULL);
	if (rc == 0)
		return db_commit(r->db, r->arena);
	db_rollback(r->db, r->arena);
	return rc;
}

/* A Checkout Session in subscription mode for tier; *session its JSON. */
static int create_session(json_object **session, struct req *r, const char *customer,
			  enum il_tier tier, const char *success_url, const char *cancel_url)
{
	const char *tenant = r->who.tenant_id, *name = billing_tier_name(tier);
	struct stripe_form f;
	int rc;

	stripe_form_init(&f, r->arena);
	stripe_form_add(&f, "mode", "subscription");
	stripe_form_add(&f, "customer", customer);
	stripe_form_add(&f, "line_items[0][price]", r->cfg->tier[tier].price_id);
	stripe_form_add(&f, "line_items[0][quantity]", "1");
	stripe_form_add(&f, "success_url", success_url);
	stripe_form_add(&f, "cancel_url", cancel_url);
	stripe_form_add(&f, "client_reference_id", tenant);
	stripe_form_add(&f, "metadata[ironlayer_tenant_id]", tenant);
	stripe_form_add(&f, "metadata[ironlayer_tier]", name);
	stripe_form_add(&f, "subscription_data[metadata][ironlayer_tenant_id]", tenant);
	stripe_form_add(&f, "subscription_data[metadata][ironlayer_tier]", name);
	rc = stripe_post(session, r->cfg, r->arena, "/v1/checkout/sessions", &f,
			 stripe_idempotency_key(r->arena));
	if (rc == 0 && (stripe_str(*session, "id") == NULL || stripe_str(*session, "url") == NULL))
		rc = IL_EINVALID;
	return rc < 0 ? stripe_failed(r, rc) : 0;
}

enum { C_TIER, C_SUCCESS, C_CANCEL, C_PRICE, C__MAX };
static const struct field checkout_fields[C__MAX] = {
	[C_TIER] = { "tier", FIELD_STRING, 0, 32, 0, 0, NULL },
	[C_SUCCESS] = { "success_url", FIELD_STRING, 1, MAX_URL, 0, 0, NULL },
	[C_CANCEL] = { "cancel_url", FIELD_STRING, 1, MAX_URL, 0, 0, NULL },
	[C_PRICE] = { "price_id", FIELD_STRING, 0, 255, 0, 0, NULL },
};

/*
 * The purchasable tier named by tier, or by price_id (the reference's way:
 * one of the configured tier prices; GET /billing/plans lists them), or
 * IL_TIER_COUNT after recording why not.
 */
static enum il_tier checkout_tier(struct req *r, const struct field_value *v)
{
	const struct field_value *tier = &v[C_TIER], *price = &v[C_PRICE];
	enum il_tier t = IL_TIER_COUNT;

	if (tier->present)
		t = billing_tier_parse(tier->str);
	else if (price->present)
		t = billing_tier_by_price(r->cfg, price->str);
	else
		req_invalid(r, "body", "price_id", "Field required: price_id (or tier)", "missing");
	if (tier->present && (t == IL_TIER_COUNT || r->cfg->tier[t].price_id[0] == '\0')) {
		req_invalid(r, "body", "tier", "tier must be one with a price: team or enterprise",
			    "value_error");
		t = IL_TIER_COUNT;
	} else if (!tier->present && price->present && t == IL_TIER_COUNT) {
		req_invalid(r, "body", "price_id",
			    "price_id must be the price of a tier (see GET /api/v1/billing/plans)",
			    "value_error");
	}
	return t;
}

static int audit_checkout(struct req *r, const char *session_id, enum il_tier tier)
{
	const char *meta = arena_printf(r->arena, "{\"tier\":\"%s\"}", billing_tier_name(tier));
	int rc = db_begin_tenant(r->db, r->arena, r->who.tenant_id);

	if (rc == 0 &&
	    (rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				  "billing_checkout_started", "checkout_session", session_id,
				  meta)) == 0)
		return db_commit(r->db, r->arena);
	db_rollback(r->db, r->arena);
	return rc;
}

/*
 * POST /api/v1/billing/checkout (admin) {price_id or tier, success_url,
 * cancel_url}: 200 {"checkout_url", "session_id", "url"} (url: the same as
 * checkout_url); 422 for an unknown or free tier or price, or a URL that is
 * not http(s) on billing_allowed_hosts; 409 when the tenant already has a
 * live subscription; 503 when billing is not configured or Stripe cannot be
 * reached; 502 when Stripe refuses.
 */
int api_billing_checkout(struct req *r)
{
	struct field_value v[C__MAX];
	const char *customer;
	json_object *session, *o;
	enum il_tier tier;
	int rc;

	if (refuse_unconfigured(r))
		return 0;
	body_collect(r, checkout_fields, C__MAX, v);
	tier = checkout_tier(r, v);
	check_url_field(r, &v[C_SUCCESS], "success_url");
	check_url_field(r, &v[C_CANCEL], "cancel_url");
	if (req_validation_finish(r))
		return 0;
	if ((rc = ensure_customer(&customer, r)) != 0 ||
	    (rc = create_session(&session, r, customer, tier, v[C_SUCCESS].str,
				 v[C_CANCEL].str)) != 0 ||
	    (rc = audit_checkout(r, stripe_str(session, "id"), tier)) != 0)
		return rc < 0 ? rc : 0;
	o = json_object_new_object();
	json_object_object_add(o, "checkout_url",
			       json_object_new_string(stripe_str(session, "url")));
	json_object_object_add(o, "session_id",
			       json_object_new_string(stripe_str(session, "id")));
	json_object_object_add(o, "url", json_object_new_string(stripe_str(session, "url")));
	req_json(r, 200, o);
	return 0;
}

enum { P_RETURN, P__MAX };
static const struct field portal_fields[P__MAX] = {
	[P_RETURN] = { "return_url", FIELD_STRING, 1, MAX_URL, 0, 0, NULL },
};

/*
 * POST /api/v1/billing/portal (admin) {return_url}: 200 {"url"} of a
 * Customer Portal session; 409 when the tenant has no Stripe customer yet;
 * 422 for a bad return_url; 503 / 502 as for checkout.
 */
int api_billing_portal(struct req *r)
{
	struct field_value v[P__MAX];
	struct billing_account acc;
	struct stripe_form f;
	json_object *session, *o;
	const char *url = NULL;
	int rc;

	if (refuse_unconfigured(r))
		return 0;
	body_collect(r, portal_fields, P__MAX, v);
	check_url_field(r, &v[P_RETURN], "return_url");
	if (req_validation_finish(r))
		return 0;
	if ((rc = billing_db_account_get(&acc, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	if (acc.customer_id == NULL) {
		req_error(r, 409, "no_billing_customer",
			  "this tenant has no Stripe customer yet; start a checkout first");
		return 0;
	}
	stripe_form_init(&f, r->arena);
	stripe_form_add(&f, "customer", acc.customer_id);
	stripe_form_add(&f, "return_url", v[P_RETURN].str);
	rc = stripe_post(&session, r->cfg, r->arena, "/v1/billing_portal/sessions", &f,
			 stripe_idempotency_key(r->arena));
	if (rc == 0 && (url = stripe_str(session, "url")) == NULL)
		rc = IL_EINVALID;
	if (rc < 0) {
		stripe_failed(r, rc);
		return 0;
	}
	if ((rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				  "billing_portal_opened", "stripe_customer", acc.customer_id,
				  NULL)) < 0)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "url", json_object_new_string(url));
	req_json(r, 200, o);
	return 0;
}
