/* secret.c: secrets at rest: AES-256-GCM under the master key, bound to a tenant */
#include "util/secret.h"

#include <string.h>

#include <openssl/evp.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/parse.h"

#define NONCE_LEN 12
#define TAG_LEN 16

static int gcm(int encrypt, const unsigned char key[32], const unsigned char *nonce,
	       const char *aad, const unsigned char *in, size_t n, unsigned char *out,
	       unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, ok;

	if (ctx == NULL || n > (size_t)1 << 30)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	     EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1;
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + len, &len) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int secret_seal(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, const char *plaintext)
{
	size_t n = strlen(plaintext), total = SECRET_OVERHEAD + n;
	unsigned char *blob = arena_alloc(a, total);
	char *hex = arena_alloc(a, 2 * total + 3);

	if (blob == NULL || hex == NULL)
		return -1;
	blob[0] = (unsigned char)cfg->master_key_version;
	if (crypto_random(blob + 1, NONCE_LEN) < 0 ||
	    gcm(1, cfg->master_key, blob + 1, tenant_id, (const unsigned char *)plaintext, n,
		blob + 1 + NONCE_LEN, blob + 1 + NONCE_LEN + n) < 0)
		return -1;
	hex[0] = '\\';
	hex[1] = 'x';
	hex_encode(blob, total, hex + 2);
	*out = hex;
	return 0;
}

/* The raw bytes of a hex blob (optional "\x" prefix); NULL when malformed. */
static unsigned char *unhex(struct arena *a, const char *hex, size_t *n)
{
	unsigned char *raw;
	size_t len;

	if (hex[0] == '\\' && hex[1] == 'x')
		hex += 2;
	len = strlen(hex);
	if (len % 2 != 0 || len / 2 < SECRET_OVERHEAD)
		return NULL;
	raw = arena_alloc(a, len / 2);
	if (raw == NULL || hex_decode(hex, raw, len / 2) < 0)
		return NULL;
	*n = len / 2;
	return raw;
}

int secret_version(const char *sealed_hex)
{
	unsigned char b;
	char two[3];

	if (sealed_hex[0] == '\\' && sealed_hex[1] == 'x')
		sealed_hex += 2;
	if (strlen(sealed_hex) < 2)
		return -1;
	memcpy(two, sealed_hex, 2);
	two[2] = '\0';
	return hex_decode(two, &b, 1) == 0 ? b : -1;
}

int secret_open(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, const char *sealed_hex)
{
	size_t n = 0, ct;
	unsigned char *raw = unhex(a, sealed_hex, &n);
	const unsigned char *key;
	char *plain;

	if (raw == NULL)
		return -1;
	if (raw[0] == cfg->master_key_version)
		key = cfg->master_key;
	else if (cfg->master_key_previous_version != 0 &&
		 raw[0] == cfg->master_key_previous_version)
		key = cfg->master_key_previous;
	else
		return -1;
	ct = n - SECRET_OVERHEAD;
	plain = arena_alloc(a, ct + 1);
	if (plain == NULL ||
	    gcm(0, key, raw + 1, tenant_id, raw + 1 + NONCE_LEN, ct, (unsigned char *)plain,
		raw + 1 + NONCE_LEN + ct) < 0)
		return -1;
	plain[ct] = '\0';
	if (strlen(plain) != ct)
		return -1;
	*out = plain;
	return 0;
}
