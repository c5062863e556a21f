/* stripe.h (billing): a small Stripe API client (util/httpc, form-encoded) */
#ifndef IL_BILLING_STRIPE_H
#define IL_BILLING_STRIPE_H

#include <stddef.h>

#include <json-c/json.h>

#include "util/strbuf.h"

struct arena;
struct il_config;

/* Longest request form and response body we handle. */
#define STRIPE_MAX_FORM (64 * 1024)
#define STRIPE_MAX_RESPONSE (1024 * 1024)

/* An application/x-www-form-urlencoded body, as Stripe's API takes it. */
struct stripe_form {
	struct strbuf sb;
};

void stripe_form_init(struct stripe_form *f, struct arena *a);
/* Appends name=value, both percent-encoded ("metadata[k]" stays readable to Stripe). */
void stripe_form_add(struct stripe_form *f, const char *name, const char *value);

/*
 * POSTs the form to cfg->stripe_api_base + path with the secret key as
 * bearer token and the given Idempotency-Key. *out is the response object,
 * released at the next arena reset. Returns 0; IL_EINVALID when Stripe
 * refused the request (4xx); IL_EUNAVAIL when it could not be reached or
 * failed (5xx); IL_ERR for an unreadable answer. Details go to the log,
 * never the key.
 */
int stripe_post(json_object **out, const struct il_config *cfg, struct arena *a,
		const char *path, const struct stripe_form *f, const char *idempotency_key);

/* A fresh random idempotency key ("il-" and 32 hex digits) from arena a. */
const char *stripe_idempotency_key(struct arena *a);

/*
 * The member of o at a dotted path ("data.object.items.data.0.price.id";
 * numbers index arrays), or NULL. stripe_str returns it only when it is a
 * non-empty string.
 */
json_object *stripe_get(json_object *o, const char *path);
const char *stripe_str(json_object *o, const char *path);

#endif
