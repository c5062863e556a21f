/* crypto.c: hashing, randomness and constant-time comparison (OpenSSL) */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util/parse.h"

void crypto_sha256(const void *data, size_t n, unsigned char out[IL_SHA256_LEN])
{
	SHA256(data, n, out);
}

void crypto_sha256_hex(const void *data, size_t n, char out[IL_SHA256_HEX_LEN + 1])
{
	unsigned char md[IL_SHA256_LEN];

	SHA256(data, n, md);
	hex_encode(md, sizeof(md), out);
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
		       size_t n, unsigned char out[IL_SHA256_LEN])
{
	unsigned int outlen = 0;

	if (keylen > (size_t)2147483647)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &outlen) == NULL)
		return -1;
	return outlen == IL_SHA256_LEN ? 0 : -1;
}

int crypto_random(void *buf, size_t n)
{
	if (n > (size_t)2147483647)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int crypto_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
