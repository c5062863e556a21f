/* billing_webhook.c: signed Stripe events update a tenant's tier and status, once each */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "billing/signature.h"
#include "billing/store.h"
#include "billing/stripe.h"
#include "billing/tiers.h"
#include "db/auth.h"
#include "db/db.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

struct event {
	const char *id;
	const char *type;
	const char *created;     /* unix seconds as text */
	json_object *obj;        /* data.object */
};

/* Fills u from the event's object; IL_EINVALID when it cannot be used. */
typedef int (*event_fn)(struct billing_update *u, const struct il_config *cfg,
			struct arena *a, json_object *obj);

/* An integer member as decimal text, or NULL. */
static const char *int_text(struct arena *a, json_object *obj, const char *path)
{
	json_object *v = stripe_get(obj, path);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return NULL;
	return arena_printf(a, "%lld", (long long)json_object_get_int64(v));
}

static int on_checkout_completed(struct billing_update *u, const struct il_config *cfg,
				 struct arena *a, json_object *obj)
{
	const char *mode = stripe_str(obj, "mode"), *paid = stripe_str(obj, "payment_status");
	enum il_tier tier = billing_tier_parse(stripe_str(obj, "metadata.ironlayer_tier"));

	(void)cfg;
	(void)a;
	if (mode == NULL || strcmp(mode, "subscription") != 0)
		return IL_EINVALID;
	u->status = paid != NULL && (strcmp(paid, "paid") == 0 ||
				     strcmp(paid, "no_payment_required") == 0) ?
		    "active" : "incomplete";
	if (tier != IL_TIER_COUNT && billing_status_keeps_tier(u->status))
		u->tier = billing_tier_name(tier);
	u->subscription_id = stripe_str(obj, "subscription");
	return 0;
}

static int on_subscription_changed(struct billing_update *u, const struct il_config *cfg,
				   struct arena *a, json_object *obj)
{
	const char *price = stripe_str(obj, "items.data.0.price.id");
	enum il_tier tier = billing_tier_by_price(cfg, price);
	json_object *cancel = stripe_get(obj, "cancel_at_period_end");

	u->status = billing_status_from_stripe(stripe_str(obj, "status"));
	u->subscription_id = stripe_str(obj, "id");
	if (u->status == NULL || u->subscription_id == NULL)
		return IL_EINVALID;
	if (!billing_status_keeps_tier(u->status)) {
		tier = IL_TIER_COMMUNITY;
	} else if (tier == IL_TIER_COUNT) {
		log_warn("stripe subscription %s has price %.100s, which no tier names: community",
			 u->subscription_id, price ? price : "(none)");
		tier = IL_TIER_COMMUNITY;
	}
	u->tier = billing_tier_name(tier);
	/* newer Stripe API versions moved the period onto the subscription items */
	u->period_end = int_text(a, obj, "current_period_end");
	if (u->period_end == NULL)
		u->period_end = int_text(a, obj, "items.data.0.current_period_end");
	if (cancel != NULL && json_object_is_type(cancel, json_type_boolean))
		u->cancel_at_period_end = json_object_get_boolean(cancel);
	return 0;
}

static int on_subscription_deleted(struct billing_update *u, const struct il_config *cfg,
				   struct arena *a, json_object *obj)
{
	(void)cfg;
	(void)a;
	/* the end of a subscription the tenant has already replaced changes nothing */
	if ((u->only_subscription = stripe_str(obj, "id")) == NULL)
		return IL_EINVALID;
	u->tier = billing_tier_name(IL_TIER_COMMUNITY);
	u->status = "canceled";
	u->cancel_at_period_end = 0;
	u->clear_subscription = 1;
	return 0;
}

static int on_payment_failed(struct billing_update *u, const struct il_config *cfg,
			     struct arena *a, json_object *obj)
{
	(void)cfg;
	(void)a;
	u->only_subscription = stripe_str(obj, "subscription");
	if (u->only_subscription == NULL)
		u->only_subscription = stripe_str(obj, "parent.subscription_details.subscription");
	if (u->only_subscription == NULL)
		return IL_EINVALID;
	u->status = "past_due";
	return 0;
}

static const struct {
	const char *type;
	event_fn fn;
} handlers[] = {
	{ "checkout.session.completed", on_checkout_completed },
	{ "customer.subscription.created", on_subscription_changed },
	{ "customer.subscription.updated", on_subscription_changed },
	{ "customer.subscription.deleted", on_subscription_deleted },
	{ "invoice.payment_failed", on_payment_failed },
};

static event_fn find_handler(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].type, type) == 0)
			return handlers[i].fn;
	return NULL;
}

/* Parses the verified body into ev; IL_EINVALID when it is not an event. */
static int parse_event(struct event *ev, struct req *r)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = NULL;

	if (tok == NULL)
		return IL_ENOMEM;
	if (r->body != NULL && r->body_len < (size_t)INT32_MAX)
		root = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	json_tokener_free(tok);
	if (root == NULL)
		return IL_EINVALID;
	if (json_arena_own(r->arena, root) < 0)
		return IL_ENOMEM;
	ev->id = stripe_str(root, "id");
	ev->type = stripe_str(root, "type");
	ev->created = int_text(r->arena, root, "created");
	ev->obj = stripe_get(root, "data.object");
	if (ev->id == NULL || strncmp(ev->id, "evt_", 4) != 0 || strlen(ev->id) > 250 ||
	    ev->type == NULL || strlen(ev->type) > 128 || ev->created == NULL ||
	    ev->obj == NULL || !json_object_is_type(ev->obj, json_type_object))
		return IL_EINVALID;
	return 0;
}

/* The tenant an event belongs to: by its customer, else by our metadata. */
static int event_tenant(const char **tenant, struct req *r, json_object *obj)
{
	static const char *const hints[] = {
		"metadata.ironlayer_tenant_id",
		"subscription_details.metadata.ironlayer_tenant_id",
		"parent.subscription_details.metadata.ironlayer_tenant_id",
		"client_reference_id",
	};
	const char *customer = stripe_str(obj, "customer"), *hint = NULL;
	size_t i;

	for (i = 0; hint == NULL && i < sizeof(hints) / sizeof(hints[0]); i++)
		hint = stripe_str(obj, hints[i]);
	if (customer == NULL && hint == NULL)
		return IL_ENOTFOUND;
	return billing_db_resolve_tenant(tenant, r->db, r->arena, customer, hint);
}

static const char *audit_meta(struct req *r, const struct event *ev,
			      const struct billing_update *u, int applied)
{
	json_object *o = json_object_new_object();
	const char *text;

	json_object_object_add(o, "type", json_object_new_string(ev->type));
	json_object_object_add(o, "tier", u->tier ? json_object_new_string(u->tier) : NULL);
	json_object_object_add(o, "status", u->status ? json_object_new_string(u->status) : NULL);
	json_object_object_add(o, "applied", json_object_new_boolean(applied));
	text = arena_strdup(r->arena, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

/*
 * Records the event and applies u in one transaction bound to tenant;
 * *outcome is "processed", or "duplicate" when the event was seen before.
 */
static int apply_event(const char **outcome, struct req *r, const struct event *ev,
		       const char *tenant, const struct billing_update *u)
{
	int applied = 0, rc;

	if ((rc = db_begin_tenant(r->db, r->arena, tenant)) < 0)
		return rc;
	rc = billing_db_event_record(r->db, r->arena, tenant, ev->id, ev->type);
	if (rc == IL_ECONFLICT) {
		db_rollback(r->db, r->arena);
		*outcome = "duplicate";
		return 0;
	}
	if (rc == 0)
		rc = billing_db_account_update(&applied, r->db, r->arena, tenant, u);
	if (rc == 0)
		rc = db_audit_append(r->db, r->arena, tenant, "stripe", "billing_webhook",
				     "stripe_event", ev->id, audit_meta(r, ev, u, applied));
	if (rc == 0) {
		*outcome = "processed";
		return db_commit(r->db, r->arena);
	}
	db_rollback(r->db, r->arena);
	return rc;
}

static void answer(struct req *r, const char *status, const char *reason)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(status));
	if (reason != NULL)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	req_json(r, 200, o);
}

/* 0 when the request carries a valid, fresh signature; else 1 after a 400. */
static int refuse_unsigned(struct req *r)
{
	const char *sig = req_header(r, "Stripe-Signature");
	int rc;

	if (sig == NULL) {
		req_error(r, 400, "invalid_signature", "missing Stripe-Signature header");
		return 1;
	}
	rc = stripe_signature_verify(r->arena, sig, r->body ? r->body : "", r->body_len,
				     r->cfg->stripe_webhook_secret, (long)time(NULL),
				     r->cfg->stripe_webhook_tolerance);
	if (rc == IL_ESTALE)
		req_error(r, 400, "invalid_signature",
			  "signature timestamp is outside the %ld second tolerance",
			  r->cfg->stripe_webhook_tolerance);
	else if (rc < 0)
		req_error(r, 400, "invalid_signature", "signature verification failed");
	return rc < 0;
}

/*
 * POST /api/v1/billing/webhook (Stripe; no bearer token): 200
 * {"status": "processed" | "duplicate" | "ignored"}; 400 for a missing,
 * wrong or stale signature or a body that is not an event; 503 when no
 * webhook secret is configured.
 */
int api_billing_webhook(struct req *r)
{
	struct billing_update u = { .cancel_at_period_end = -1 };
	struct event ev;
	const char *tenant, *outcome;
	event_fn fn;
	int rc;

	if (r->cfg->stripe_webhook_secret[0] == '\0') {
		req_error(r, 503, "billing_not_configured",
			  "billing webhooks are not configured on this installation");
		return 0;
	}
	if (refuse_unsigned(r))
		return 0;
	if ((rc = parse_event(&ev, r)) < 0) {
		if (rc == IL_EINVALID)
			req_error(r, 400, "invalid_payload", "the body is not a Stripe event");
		return rc == IL_EINVALID ? 0 : rc;
	}
	if ((fn = find_handler(ev.type)) == NULL) {
		answer(r, "ignored", "unhandled_event_type");
		return 0;
	}
	if (fn(&u, r->cfg, r->arena, ev.obj) < 0) {
		log_warn("stripe event %s (%s) has no usable object: ignored", ev.id, ev.type);
		answer(r, "ignored", "unusable_object");
		return 0;
	}
	rc = event_tenant(&tenant, r, ev.obj);
	if (rc == IL_ENOTFOUND) {
		log_warn("stripe event %s (%s) names no known tenant: ignored", ev.id, ev.type);
		answer(r, "ignored", "unknown_tenant");
		return 0;
	}
	u.customer_id = stripe_str(ev.obj, "customer");
	u.event_created = ev.created;
	if (rc < 0 || (rc = apply_event(&outcome, r, &ev, tenant, &u)) < 0)
		return rc;
	answer(r, outcome, NULL);
	return 0;
}
