/* token.h: access tokens (JWT HS256) and opaque refresh tokens */
#ifndef IL_TOKEN_H
#define IL_TOKEN_H

#include <stddef.h>

#include "http/req.h"
#include "util/crypto.h"

struct arena;
struct il_config;

/* Claims of a verified access token; strings live in the caller's arena. */
struct access_claims {
	const char *sub;        /* user id */
	const char *tenant_id;
	const char *jti;
	enum role role;         /* informational: requests use the role the database holds */
	long epoch;             /* the user's token epoch when issued (0 when absent) */
	long iat, exp;
};

/*
 * Signs an access token for the user with the configured secret, issuer and
 * lifetime, stamped with the user's token epoch. Returns the token in arena
 * a, or NULL.
 */
char *token_issue_access(struct arena *a, const struct il_config *cfg,
			 const char *user_id, const char *tenant_id, enum role role, long epoch);

/*
 * Verifies a compact JWS: alg must be HS256 (never none), the signature must
 * match, and typ, iss, exp, iat, sub, tenant_id, role and jti must be present
 * and valid (epoch is optional: tokens issued before it existed have none).
 * Returns 0; IL_ESTALE for a genuine token past its exp (checked after the
 * signature, so only our own tokens are told apart); IL_EINVALID for any
 * other failure (the reason goes to the debug log only).
 */
int token_verify_access(struct access_claims *out, struct arena *a,
			const struct il_config *cfg, const char *token);

/* 256 random bits, base64url without padding (43 characters) plus NUL. */
#define IL_REFRESH_TOKEN_LEN 43
int token_new_refresh(char out[IL_REFRESH_TOKEN_LEN + 1]);
/* The stored form of a refresh token: SHA-256, hex. */
void token_refresh_hash(const char *token, char out[IL_SHA256_HEX_LEN + 1]);

/* A random version-4 UUID in its 36-character text form. */
int token_new_uuid(char out[37]);

#endif
