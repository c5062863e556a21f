/* signature.c (billing): verifies Stripe-Signature headers on webhook events */
#include "billing/signature.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/parse.h"

/* At most this many v1 signatures in one header (Stripe sends one per secret). */
#define MAX_SIGNATURES 8

struct sig_header {
	int64_t t;
	int has_t;
	char v1[MAX_SIGNATURES][IL_SHA256_HEX_LEN + 1];
	int nv1;
};

/* Reads one "k=v" item of length n; unknown schemes (v0 …) are skipped. */
static int read_item(struct sig_header *h, const char *item, size_t n)
{
	char buf[32];

	if (n > 2 && strncmp(item, "t=", 2) == 0) {
		if (h->has_t || n - 2 >= sizeof(buf))
			return IL_EINVALID;
		memcpy(buf, item + 2, n - 2);
		buf[n - 2] = '\0';
		if (parse_i64(buf, 0, INT64_C(99999999999), &h->t) < 0)
			return IL_EINVALID;
		h->has_t = 1;
		return 0;
	}
	if (n == 3 + IL_SHA256_HEX_LEN && strncmp(item, "v1=", 3) == 0) {
		if (h->nv1 == MAX_SIGNATURES)
			return IL_EINVALID;
		memcpy(h->v1[h->nv1], item + 3, IL_SHA256_HEX_LEN);
		h->v1[h->nv1++][IL_SHA256_HEX_LEN] = '\0';
	}
	return 0;
}

static int parse_header(struct sig_header *h, const char *s)
{
	int rc;

	memset(h, 0, sizeof(*h));
	while (*s != '\0') {
		size_t n = strcspn(s, ",");

		while (n > 0 && *s == ' ') {
			s++;
			n--;
		}
		if ((rc = read_item(h, s, n)) < 0)
			return rc;
		s += n;
		if (*s == ',')
			s++;
	}
	return h->has_t && h->nv1 > 0 ? 0 : IL_EINVALID;
}

/* HMAC-SHA256(secret, "<t>.<payload>") as lower-case hex. */
static int expected_hex(char out[IL_SHA256_HEX_LEN + 1], struct arena *a, const char *secret,
			int64_t t, const char *payload, size_t n)
{
	unsigned char mac[IL_SHA256_LEN];
	struct strbuf sb;
	const char *text;

	strbuf_init(&sb, a, n + 32);
	strbuf_addf(&sb, "%lld.", (long long)t);
	strbuf_add(&sb, payload, n);
	if ((text = strbuf_cstr(&sb)) == NULL)
		return IL_ENOMEM;
	if (crypto_hmac_sha256(secret, strlen(secret), text, sb.len, mac) < 0)
		return IL_ERR;
	hex_encode(mac, sizeof(mac), out);
	return 0;
}

int stripe_signature_verify(struct arena *a, const char *header, const char *payload,
			    size_t n, const char *secret, long now, long tolerance)
{
	struct sig_header h;
	char want[IL_SHA256_HEX_LEN + 1];
	int i, match = 0, rc;

	if (header == NULL || secret == NULL || *secret == '\0')
		return IL_EINVALID;
	if ((rc = parse_header(&h, header)) < 0)
		return rc;
	if ((rc = expected_hex(want, a, secret, h.t, payload, n)) < 0)
		return rc;
	for (i = 0; i < h.nv1; i++)
		match |= crypto_ct_equal(want, IL_SHA256_HEX_LEN, h.v1[i], IL_SHA256_HEX_LEN);
	if (!match)
		return IL_EINVALID;
	if (h.t < (int64_t)now - tolerance || h.t > (int64_t)now + tolerance)
		return IL_ESTALE;
	return 0;
}
