/* token.c: access tokens (JWT HS256) and opaque refresh tokens */
#include "http/token.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/keyhash.h"
#include "util/log.h"
#include "util/parse.h"

char *token_issue_access(struct arena *a, const struct il_config *cfg,
			 const char *user_id, const char *tenant_id, enum role role, long epoch)
{
	jwt_t *jwt = NULL;
	char jti[37], *enc = NULL, *out = NULL;
	long now = (long)time(NULL);

	if (token_new_uuid(jti) < 0 || jwt_new(&jwt) != 0)
		goto out;
	if (jwt_add_grant(jwt, "sub", user_id) || jwt_add_grant(jwt, "tenant_id", tenant_id) ||
	    jwt_add_grant(jwt, "role", role_name(role)) || jwt_add_grant(jwt, "jti", jti) ||
	    jwt_add_grant(jwt, "iss", cfg->jwt_issuer) || jwt_add_grant(jwt, "typ", "access") ||
	    jwt_add_grant_int(jwt, "iat", now) || jwt_add_grant_int(jwt, "epoch", epoch) ||
	    jwt_add_grant_int(jwt, "exp", now + cfg->access_token_ttl) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->jwt_secret,
			(int)strlen(cfg->jwt_secret)))
		goto out;
	enc = jwt_encode_str(jwt);
	if (enc != NULL)
		out = arena_strdup(a, enc);
out:
	free(enc);
	jwt_free(jwt);
	return out;
}

static int reject(const char *why)
{
	log_debug("access token rejected: %s", why);
	return IL_EINVALID;
}

/* A string grant copied into the arena; NULL when absent or empty. */
static const char *grant(struct arena *a, jwt_t *jwt, const char *name)
{
	const char *v = jwt_get_grant(jwt, name);

	return v != NULL && *v != '\0' ? arena_strdup(a, v) : NULL;
}

static int check_claims(struct access_claims *out, struct arena *a,
			const struct il_config *cfg, jwt_t *jwt)
{
	const char *typ = jwt_get_grant(jwt, "typ"), *iss = jwt_get_grant(jwt, "iss");
	long now = (long)time(NULL);

	if (typ == NULL || strcmp(typ, "access") != 0)
		return reject("typ is not access");
	if (iss == NULL || strcmp(iss, cfg->jwt_issuer) != 0)
		return reject("wrong issuer");
	errno = 0;
	out->exp = jwt_get_grant_int(jwt, "exp");
	if (errno != 0)
		return reject("no exp");
	if (out->exp <= now) {
		log_debug("access token rejected: expired");
		return IL_ESTALE;
	}
	errno = 0;
	out->iat = jwt_get_grant_int(jwt, "iat");
	if (errno != 0 || out->iat > now + 60)
		return reject("no iat or issued in the future");
	out->sub = grant(a, jwt, "sub");
	out->tenant_id = grant(a, jwt, "tenant_id");
	out->jti = grant(a, jwt, "jti");
	out->role = role_parse(jwt_get_grant(jwt, "role"));
	errno = 0;
	out->epoch = jwt_get_grant_int(jwt, "epoch");
	if (errno == ENOENT)
		out->epoch = 0;
	else if (errno != 0 || out->epoch < 0)
		return reject("bad epoch");
	if (out->sub == NULL || out->tenant_id == NULL || out->jti == NULL ||
	    out->role == ROLE_NONE)
		return reject("missing sub, tenant_id, jti or role");
	return 0;
}

static int verify_signed(struct access_claims *out, struct arena *a,
			 const struct il_config *cfg, const char *token);

/*
 * Access tokens this worker verified, by their whole text: checking the
 * signature and decoding the claims (libjwt, jansson) cost more than the rest
 * of a read's work in the worker. The answer depends only on the text and on
 * the secret and issuer (a change of either empties the cache); expiry is
 * checked on every use, and the database still checks the user and the
 * token's epoch on every request, so a revoked token ends at once. Only
 * valid tokens are kept; a new one replaces the oldest.
 */
#define TOKEN_CACHE_SIZE 64

struct verified_token {
	char *text;                 /* NULL: a free slot */
	size_t len;
	uint64_t hash;
	struct access_claims c;     /* strings in strs */
	char *strs;
};

static struct {
	struct verified_token slot[TOKEN_CACHE_SIZE];
	unsigned next;
	char *secret, *issuer;      /* what they were verified with */
} verified;

static void forget_token(struct verified_token *v)
{
	free(v->text);
	free(v->strs);
	memset(v, 0, sizeof(*v));
}

/* Empties the cache when the secret or the issuer is not the one it was filled under. */
static void check_cache_keys(const struct il_config *cfg)
{
	size_t i;

	if (verified.secret != NULL && verified.issuer != NULL &&
	    strcmp(verified.secret, cfg->jwt_secret) == 0 &&
	    strcmp(verified.issuer, cfg->jwt_issuer) == 0)
		return;
	for (i = 0; i < TOKEN_CACHE_SIZE; i++)
		forget_token(&verified.slot[i]);
	free(verified.secret);
	free(verified.issuer);
	verified.secret = strdup(cfg->jwt_secret);
	verified.issuer = strdup(cfg->jwt_issuer);
}

static struct verified_token *find_token(const char *token, size_t len, uint64_t h)
{
	size_t i;

	for (i = 0; i < TOKEN_CACHE_SIZE; i++) {
		struct verified_token *v = &verified.slot[i];

		if (v->text != NULL && v->hash == h && v->len == len &&
		    memcmp(v->text, token, len) == 0)
			return v;
	}
	return NULL;
}

static void remember_token(const char *token, size_t len, uint64_t h,
			   const struct access_claims *c)
{
	struct verified_token *v = &verified.slot[verified.next++ % TOKEN_CACHE_SIZE];
	size_t ls = strlen(c->sub) + 1, lt = strlen(c->tenant_id) + 1, lj = strlen(c->jti) + 1;

	forget_token(v);
	if (verified.secret == NULL || verified.issuer == NULL ||
	    (v->text = malloc(len + 1)) == NULL || (v->strs = malloc(ls + lt + lj)) == NULL) {
		forget_token(v);
		return;
	}
	memcpy(v->text, token, len + 1);
	v->len = len;
	v->hash = h;
	v->c = *c;
	v->c.sub = memcpy(v->strs, c->sub, ls);
	v->c.tenant_id = memcpy(v->strs + ls, c->tenant_id, lt);
	v->c.jti = memcpy(v->strs + ls + lt, c->jti, lj);
}

/* A verified token's claims for this request (copied into the arena). */
static int cached_claims(struct access_claims *out, struct arena *a, struct verified_token *v)
{
	if (v->c.exp <= (long)time(NULL)) {
		forget_token(v);
		log_debug("access token rejected: expired");
		return IL_ESTALE;
	}
	*out = v->c;
	out->sub = arena_strdup(a, v->c.sub);
	out->tenant_id = arena_strdup(a, v->c.tenant_id);
	out->jti = arena_strdup(a, v->c.jti);
	return out->sub && out->tenant_id && out->jti ? 0 : IL_ENOMEM;
}

int token_verify_access(struct access_claims *out, struct arena *a,
			const struct il_config *cfg, const char *token)
{
	struct verified_token *v;
	size_t len = strlen(token);
	uint64_t h;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > 4096)
		return reject("too long");
	check_cache_keys(cfg);
	h = key_hash(token, len);
	if ((v = find_token(token, len, h)) != NULL)
		return cached_claims(out, a, v);
	rc = verify_signed(out, a, cfg, token);
	if (rc == 0)
		remember_token(token, len, h, out);
	return rc;
}

/* Checks the signature and the claims of a token not seen before. */
static int verify_signed(struct access_claims *out, struct arena *a,
			 const struct il_config *cfg, const char *token)
{
	jwt_t *jwt = NULL;
	int rc;

	/* libjwt checks the signature for the alg the header names; we then
	 * insist that alg is HS256, so "none" or another alg never passes */
	if (jwt_decode(&jwt, token, (const unsigned char *)cfg->jwt_secret,
		       (int)strlen(cfg->jwt_secret)) != 0 || jwt == NULL)
		return reject("bad signature or malformed");
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		rc = reject("alg is not HS256");
	else
		rc = check_claims(out, a, cfg, jwt);
	jwt_free(jwt);
	return rc;
}

static void base64url(const unsigned char *in, size_t n, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = tbl[v >> 6 & 63];
		out[o++] = tbl[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = tbl[v >> 6 & 63];
	}
	out[o] = '\0';
}

int token_new_refresh(char out[IL_REFRESH_TOKEN_LEN + 1])
{
	unsigned char raw[32];

	if (crypto_random(raw, sizeof(raw)) < 0)
		return -1;
	base64url(raw, sizeof(raw), out);
	return 0;
}

void token_refresh_hash(const char *token, char out[IL_SHA256_HEX_LEN + 1])
{
	crypto_sha256_hex(token, strlen(token), out);
}

int token_new_uuid(char out[37])
{
	unsigned char b[16];
	char hex[33];

	if (crypto_random(b, sizeof(b)) < 0)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	hex_encode(b, sizeof(b), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
	return 0;
}
