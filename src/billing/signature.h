/* signature.h (billing): verifies Stripe-Signature headers on webhook events */
#ifndef IL_BILLING_SIGNATURE_H
#define IL_BILLING_SIGNATURE_H

#include <stddef.h>

struct arena;

/*
 * Checks a Stripe-Signature header ("t=<unix>,v1=<hex>[,v1=…]") against
 * HMAC-SHA256(secret, "<t>.<payload>"), in constant time, accepting any v1
 * that matches. Returns 0; IL_EINVALID for a malformed header or no match;
 * IL_ESTALE when t is more than tolerance seconds away from now.
 */
int stripe_signature_verify(struct arena *a, const char *header, const char *payload,
			    size_t n, const char *secret, long now, long tolerance);

#endif
