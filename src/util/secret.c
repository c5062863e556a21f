/* secret.c: secrets at rest: AES-256-GCM under the master key, bound to a tenant and a purpose */
#include "util/secret.h"

#include <string.h>

#include <openssl/evp.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/parse.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define FORMAT_2 0x00             /* legacy blobs start with a key version, never 0 */
#define LEGACY_OVERHEAD (1 + NONCE_LEN + TAG_LEN)

static const char *const purpose_names[] = { "llm_key", "connection", "warehouse_password" };

/* The associated data of a format-2 blob: everything it is bound to. */
static const char *bound_to(struct arena *a, const char *tenant_id,
			    enum secret_purpose purpose, unsigned version)
{
	return arena_printf(a, "ironlayer-secret/2/%s/%u/%s", purpose_names[purpose], version,
			    tenant_id);
}

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
		const char *tenant_id, enum secret_purpose purpose, const char *plaintext)
{
	size_t n = strlen(plaintext), total = SECRET_OVERHEAD + n;
	unsigned char *blob = arena_alloc(a, total), *nonce;
	char *hex = arena_alloc(a, 2 * total + 3);
	const char *aad = bound_to(a, tenant_id, purpose, (unsigned)cfg->master_key_version);

	if (blob == NULL || hex == NULL || aad == NULL)
		return -1;
	nonce = blob + 2;
	blob[0] = FORMAT_2;
	blob[1] = (unsigned char)cfg->master_key_version;
	if (crypto_random(nonce, NONCE_LEN) < 0 ||
	    gcm(1, cfg->master_key, nonce, aad, (const unsigned char *)plaintext, n,
		nonce + NONCE_LEN, nonce + NONCE_LEN + n) < 0)
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
	if (len % 2 != 0 || len / 2 < LEGACY_OVERHEAD)
		return NULL;
	raw = arena_alloc(a, len / 2);
	if (raw == NULL || hex_decode(hex, raw, len / 2) < 0)
		return NULL;
	*n = len / 2;
	return raw;
}

/* The first two bytes of a hex blob; -1 when it has fewer. */
static int head(const char *sealed_hex, unsigned char b[2])
{
	char four[5];

	if (sealed_hex[0] == '\\' && sealed_hex[1] == 'x')
		sealed_hex += 2;
	if (strlen(sealed_hex) < 4)
		return -1;
	memcpy(four, sealed_hex, 4);
	four[4] = '\0';
	return hex_decode(four, b, 2);
}

int secret_version(const char *sealed_hex)
{
	unsigned char b[2];

	if (head(sealed_hex, b) < 0)
		return -1;
	return b[0] == FORMAT_2 ? b[1] : b[0];
}

int secret_is_current(const struct il_config *cfg, const char *sealed_hex)
{
	unsigned char b[2];

	return head(sealed_hex, b) == 0 && b[0] == FORMAT_2 && b[1] == cfg->master_key_version;
}

/* The key a version byte names: the current or the previous master key. */
static const unsigned char *key_for(const struct il_config *cfg, unsigned version)
{
	if (version == cfg->master_key_version)
		return cfg->master_key;
	if (cfg->master_key_previous_version != 0 && version == cfg->master_key_previous_version)
		return cfg->master_key_previous;
	return NULL;
}

int secret_open(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, enum secret_purpose purpose, const char *sealed_hex)
{
	size_t n = 0, ct, skip;
	unsigned char *raw = unhex(a, sealed_hex, &n);
	const unsigned char *key;
	const char *aad;
	unsigned version;
	char *plain;

	if (raw == NULL)
		return -1;
	if (raw[0] == FORMAT_2) {
		if (n < SECRET_OVERHEAD)
			return -1;
		version = raw[1];
		skip = 2;
		aad = bound_to(a, tenant_id, purpose, version);
	} else {
		version = raw[0];    /* legacy: bound to the tenant alone */
		skip = 1;
		aad = tenant_id;
	}
	key = key_for(cfg, version);
	if (key == NULL || aad == NULL)
		return -1;
	ct = n - skip - NONCE_LEN - TAG_LEN;
	plain = arena_alloc(a, ct + 1);
	if (plain == NULL ||
	    gcm(0, key, raw + skip, aad, raw + skip + NONCE_LEN, ct, (unsigned char *)plain,
		raw + skip + NONCE_LEN + ct) < 0)
		return -1;
	plain[ct] = '\0';
	if (strlen(plain) != ct)
		return -1;
	*out = plain;
	return 0;
}
