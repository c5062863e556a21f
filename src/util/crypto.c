/* crypto.c: hashing, randomness and constant-time comparison (OpenSSL) */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>

#include "util/parse.h"

/*
 * SHA256() looks the digest up in OpenSSL's provider store on every call
 * (a locked search that cost more than hashing a model file, and threads
 * queued on its lock): fetched once instead.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void crypto_sha256(const void *data, size_t n, unsigned char out[IL_SHA256_LEN])
{
	pthread_once(&sha256_once, fetch_sha256);
	if (sha256_md == NULL ||
	    EVP_Digest(data, n, out, NULL, sha256_md, NULL) != 1)
		SHA256(data, n, out);
}

void crypto_sha256_hex(const void *data, size_t n, char out[IL_SHA256_HEX_LEN + 1])
{
	unsigned char md[IL_SHA256_LEN];

	crypto_sha256(data, n, md);
	hex_encode(md, sizeof(md), out);
}

struct crypto_sha256_stream *crypto_sha256_begin(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, fetch_sha256);
	if (sha256_md == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return (struct crypto_sha256_stream *)ctx;
}

int crypto_sha256_add(struct crypto_sha256_stream *st, const void *data,
		      size_t n)
{
	if (st == NULL)
		return -1;
	return EVP_DigestUpdate((EVP_MD_CTX *)st, data, n) == 1 ? 0 : -1;
}

int crypto_sha256_end_hex(struct crypto_sha256_stream *st,
			  char out[IL_SHA256_HEX_LEN + 1])
{
	unsigned char md[IL_SHA256_LEN];
	int ok;

	if (st == NULL)
		return -1;
	ok = EVP_DigestFinal_ex((EVP_MD_CTX *)st, md, NULL) == 1;
	EVP_MD_CTX_free((EVP_MD_CTX *)st);
	if (!ok)
		return -1;
	hex_encode(md, sizeof(md), out);
	return 0;
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
