/* crypto.h: hashing, randomness and constant-time comparison (OpenSSL) */
#ifndef IL_CRYPTO_H
#define IL_CRYPTO_H

#include <stddef.h>

#define IL_SHA256_LEN 32
#define IL_SHA256_HEX_LEN 64

void crypto_sha256(const void *data, size_t n, unsigned char out[IL_SHA256_LEN]);
/* SHA-256 as 64 lower-case hex digits plus NUL. */
void crypto_sha256_hex(const void *data, size_t n, char out[IL_SHA256_HEX_LEN + 1]);
/*
 * SHA-256 of data given in pieces: begin, add each piece, end (which
 * writes the hex digest and frees the state; NULL or a failed add give
 * -1). begin returns NULL when memory runs out.
 */
struct crypto_sha256_stream;
struct crypto_sha256_stream *crypto_sha256_begin(void);
int crypto_sha256_add(struct crypto_sha256_stream *st, const void *data,
		      size_t n);
int crypto_sha256_end_hex(struct crypto_sha256_stream *st,
			  char out[IL_SHA256_HEX_LEN + 1]);

/* HMAC-SHA256 of data under key. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
		       size_t n, unsigned char out[IL_SHA256_LEN]);
/* n bytes from the OpenSSL CSPRNG; 0 or -1 (never a weaker fallback). */
int crypto_random(void *buf, size_t n);
/* 1 when a and b are equal, in time independent of where they differ. */
int crypto_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
