/* fuzz_signature.c: libFuzzer target for the Stripe-Signature header parser */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing/signature.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "whsec_fuzz"
#define NOW 1700000000L
#define TOLERANCE 300L

/* The header Stripe would send for payload at time t verifies; one wrong digit does not. */
static void check_valid(struct arena *a, const char *payload, size_t n, long t)
{
	unsigned char mac[IL_SHA256_LEN];
	char hex[IL_SHA256_HEX_LEN + 1], header[128], *msg;
	int len = snprintf(NULL, 0, "%ld.", t);

	if ((msg = arena_alloc(a, (size_t)len + n + 1)) == NULL)
		return;
	snprintf(msg, (size_t)len + 1, "%ld.", t);
	memcpy(msg + len, payload, n);
	if (crypto_hmac_sha256(SECRET, strlen(SECRET), msg, (size_t)len + n, mac) < 0)
		return;
	hex_encode(mac, sizeof(mac), hex);
	snprintf(header, sizeof(header), "t=%ld,v1=%s", t, hex);
	if (stripe_signature_verify(a, header, payload, n, SECRET, NOW, TOLERANCE) != 0)
		abort();
	hex[0] = hex[0] == '0' ? '1' : '0';
	snprintf(header, sizeof(header), "t=%ld,v1=%s", t, hex);
	if (stripe_signature_verify(a, header, payload, n, SECRET, NOW, TOLERANCE) != IL_EINVALID)
		abort();
}

/* The input up to the first newline is the header, the rest the payload. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	const char *payload = nl ? (const char *)nl + 1 : "";
	size_t n = nl ? size - hlen - 1 : 0;
	char *header;
	int rc;

	if (a == NULL || (header = arena_strndup(a, (const char *)data, hlen)) == NULL) {
		arena_free(a);
		return 0;
	}
	rc = stripe_signature_verify(a, header, payload, n, SECRET, NOW, TOLERANCE);
	if (rc != 0 && rc != IL_EINVALID && rc != IL_ESTALE)
		abort();
	check_valid(a, payload, n, NOW - (long)(size % (2 * TOLERANCE)) + TOLERANCE);
	arena_free(a);
	return 0;
}
