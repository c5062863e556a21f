/* secret.h: secrets at rest: AES-256-GCM under the master key, bound to a tenant */
#ifndef IL_SECRET_H
#define IL_SECRET_H

#include <stddef.h>

struct arena;
struct il_config;

/*
 * A sealed secret is: key version (1 byte) || nonce (12 random bytes) ||
 * ciphertext || GCM tag (16 bytes). The tenant id is the associated data, so
 * a ciphertext copied to another tenant's row fails to open.
 */
#define SECRET_OVERHEAD (1 + 12 + 16)

/*
 * Seals plaintext under the current master key. *out is the sealed blob as
 * PostgreSQL bytea hex text ("\x…"), ready to bind as a parameter.
 * Returns 0 or -1.
 */
int secret_seal(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, const char *plaintext);

/*
 * Opens a sealed blob given as hex (with or without the "\x" prefix), with
 * the current or the previous master key as its version byte says.
 * Returns 0 with *out the NUL-terminated plaintext, or -1 (wrong tenant,
 * tampered, unknown key version).
 */
int secret_open(const char **out, struct arena *a, const struct il_config *cfg,
		const char *tenant_id, const char *sealed_hex);

/* The key version byte of a sealed blob (hex), or -1. */
int secret_version(const char *sealed_hex);

#endif
