/* secret.h: secrets at rest: AES-256-GCM under the master key, bound to a tenant and a purpose */
#ifndef IL_SECRET_H
#define IL_SECRET_H

#include <stddef.h>

struct arena;
struct il_config;

/* What a secret is for: part of what it is bound to. */
enum secret_purpose {
	SECRET_LLM_KEY,            /* tenant_settings.llm_key_enc */
	SECRET_CONNECTION,         /* environments.connection_enc */
	SECRET_WAREHOUSE_PASSWORD  /* warehouse_roles.password_enc */
};

/*
 * A sealed secret is: 0x00 (the format) || key version (1 byte) || nonce (12
 * random bytes) || ciphertext || GCM tag (16 bytes). The associated data names
 * the format, the purpose, the key version and the tenant, so a ciphertext
 * copied to another tenant's row or to another column, or relabelled with
 * another key version, fails to open.
 *
 * Secrets sealed before (the legacy format: key version || nonce ||
 * ciphertext || tag, with the tenant id alone as associated data) still open,
 * whatever the purpose asked, until `ironlayer rotate-master-key` re-seals
 * them in the format above (secret_is_current says which).
 */
#define SECRET_OVERHEAD (2 + 12 + 16)

/*
 * Seals plaintext under the current master key. *out is the sealed blob as
 * PostgreSQL bytea hex text ("\x…"), ready to bind as a parameter.
 * Returns 0 or -1.
 */
int secret_seal(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, enum secret_purpose purpose, const char *plaintext);

/*
 * Opens a sealed blob given as hex (with or without the "\x" prefix), with
 * the current or the previous master key as its version byte says.
 * Returns 0 with *out the NUL-terminated plaintext, or -1 (wrong tenant or
 * purpose, tampered, unknown key version).
 */
int secret_open(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, enum secret_purpose purpose, const char *sealed_hex);

/* The key version of a sealed blob (hex, either format), or -1. */
int secret_version(const char *sealed_hex);

/* 1 when the blob is in the current format under the current key version. */
int secret_is_current(const struct il_config *cfg, const char *sealed_hex);

#endif
