/* auth_session.c: refresh, session restore, logout and password change (body tokens or cookies) */
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "db/auth.h"
#include "db/db.h"
#include "http/body.h"
#include "http/csrf.h"
#include "http/password.h"
#include "http/token.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

enum { REFRESH_TOKEN, REFRESH__MAX };
static const struct field refresh_fields[REFRESH__MAX] = {
	[REFRESH_TOKEN] = { "refresh_token", FIELD_STRING, 0, 256, 0, 0, NULL },
};

/* Where the presented refresh token came from. */
enum source { FROM_NONE, FROM_BODY, FROM_COOKIE };

/*
 * The request's refresh token: the body's "refresh_token" (the CLI), else the
 * session cookie (a browser). Returns 1 after a 422 for a malformed body.
 */
static int presented_token(const char **token, enum source *src, struct req *r)
{
	struct field_value v[REFRESH__MAX];
	const char *cookie;

	*token = NULL;
	*src = FROM_NONE;
	if (body_read(r, refresh_fields, REFRESH__MAX, v))
		return 1;
	if (v[REFRESH_TOKEN].present) {
		*token = v[REFRESH_TOKEN].str;
		*src = FROM_BODY;
		return 0;
	}
	cookie = req_cookie(r, SESSION_COOKIE);
	if (cookie != NULL && *cookie != '\0') {
		*token = cookie;
		*src = FROM_COOKIE;
	}
	return 0;
}

/* Finds and locks the token's row in a transaction bound to its tenant. */
static int open_refresh(struct db_refresh *t, const char **tenant, struct req *r,
			const char *hash)
{
	int rc = db_refresh_tenant(tenant, r->db, r->arena, hash);

	if (rc < 0)
		return rc;
	if ((rc = db_begin_tenant(r->db, r->arena, *tenant)) < 0)
		return rc;
	return db_refresh_lock(t, r->db, r->arena, *tenant, hash);
}

/*
 * Revokes the token's family and ends its user's access tokens (the epoch
 * moves on), then commits.
 */
static int end_session(struct req *r, const char *tenant, const struct db_refresh *t,
		       const char *why)
{
	const char *meta = arena_printf(r->arena, "{\"reason\":\"%s\"}", why);
	int n = 0, rc = db_refresh_revoke_family(&n, r->db, r->arena, tenant, t->family_id);

	if (rc == 0)
		rc = db_user_end_sessions(r->db, r->arena, tenant, t->user_id);
	if (rc == 0 && n > 0)
		rc = db_audit_append(r->db, r->arena, tenant, t->user_id, "token_family_revoked",
				     "refresh_family", t->family_id, meta);
	if (rc == 0)
		rc = db_commit(r->db, r->arena);
	return rc;
}

/*
 * Spends a refresh token: a new pair for its user in *t (committed), with the
 * user in *u. IL_ENOTFOUND for a token that is unknown, used, revoked or
 * expired, or whose user is disabled; a used token presented again ends its
 * whole session (family and access tokens) first.
 */
static int rotate(struct auth_tokens *t, struct db_user *u, struct req *r, const char *token,
		  const char **why)
{
	struct db_refresh row;
	char hash[IL_SHA256_HEX_LEN + 1];
	const char *tenant = NULL;
	int rc;

	token_refresh_hash(token, hash);
	rc = open_refresh(&row, &tenant, r, hash);
	if (rc == 0 && row.used && !row.revoked) {
		log_warn("refresh token reused: session ended (tenant %s)", tenant);
		rc = end_session(r, tenant, &row, "reuse");
		rc = rc < 0 ? rc : IL_ENOTFOUND;
		*why = "this refresh token was already used, so its session is now revoked "
		       "(a copied token cannot be replayed); log in again";
	} else if (rc == 0 && (row.used || row.revoked || row.expired)) {
		rc = IL_ENOTFOUND;
		*why = row.expired && !row.revoked ? "refresh token expired; log in again" :
			"this session was revoked (logged out, or a refresh token was used "
			"twice); log in again";
	}
	if (rc == 0)
		rc = db_user_get(u, r->db, r->arena, tenant, row.user_id);
	if (rc == 0 && u->disabled)
		rc = IL_ENOTFOUND;
	if (rc == 0 && (rc = db_refresh_mark_used(r->db, r->arena, tenant, hash)) == 0 &&
	    (rc = auth_issue(t, r, u, row.family_id, hash)) == 0)
		rc = db_commit(r->db, r->arena);
	if (rc < 0)
		db_rollback(r->db, r->arena);
	return rc == IL_EINVALID ? IL_ENOTFOUND : rc;
}

static void no_token(struct req *r)
{
	auth_unauthorized(r, "not_authenticated", "no refresh token: send \"refresh_token\" in"
			  " the body, or the refresh_token cookie");
}

/* why: what became of the token (reused, revoked, expired), said to its holder. */
static void token_refused(struct req *r, enum source src, const char *why)
{
	auth_unauthorized(r, "invalid_refresh_token", why);
	if (src == FROM_COOKIE)
		auth_clear_cookies(r);
}

/*
 * POST /api/v1/auth/refresh: 200 with a new token pair; the presented token
 * (body or cookie) is used up. A token presented twice ends its session:
 * 401. A cookie session gets its new refresh token as a cookie only.
 */
int api_auth_refresh(struct req *r)
{
	struct auth_tokens t;
	struct db_user u;
	enum source src;
	const char *token, *why = "refresh token is invalid or expired";
	int rc;

	if (presented_token(&token, &src, r))
		return 0;
	if (token == NULL) {
		no_token(r);
		return 0;
	}
	rc = rotate(&t, &u, r, token, &why);
	if (rc == IL_ENOTFOUND) {
		token_refused(r, src, why);
		return 0;
	}
	if (rc < 0)
		return rc;
	auth_respond(r, 200, &t, NULL, src == FROM_BODY ? auth_delivery_for(r) : AUTH_COOKIE_ONLY);
	return 0;
}

/*
 * GET /api/v1/auth/session: restores a browser session on page load from the
 * refresh cookie, rotating it as a refresh does: 200 with the access token,
 * the user and new cookies; 401 (cookies cleared) otherwise.
 */
int api_auth_session(struct req *r)
{
	struct auth_tokens t;
	struct db_user u;
	const char *token = req_cookie(r, SESSION_COOKIE);
	const char *why = "refresh token is invalid or expired";
	int rc;

	if (token == NULL || *token == '\0') {
		auth_unauthorized(r, "not_authenticated", "no session cookie");
		return 0;
	}
	rc = rotate(&t, &u, r, token, &why);
	if (rc == IL_ENOTFOUND) {
		token_refused(r, FROM_COOKIE, why);
		return 0;
	}
	if (rc < 0)
		return rc;
	auth_respond(r, 200, &t, &u, AUTH_COOKIE_ONLY);
	return 0;
}

/*
 * POST /api/v1/auth/logout: 204, the session cookies cleared. The refresh
 * token (body or cookie) and its family can no longer refresh, and every
 * access token of its user stops working at once. An unknown, spent or
 * missing token is logged out all the same.
 */
int api_auth_logout(struct req *r)
{
	struct db_refresh row;
	const char *tenant, *token;
	enum source src;
	int rc = 0;

	if (presented_token(&token, &src, r))
		return 0;
	if (token != NULL) {
		char hash[IL_SHA256_HEX_LEN + 1];

		token_refresh_hash(token, hash);
		rc = open_refresh(&row, &tenant, r, hash);
		if (rc == 0)
			rc = end_session(r, tenant, &row, "logout");
		db_rollback(r->db, r->arena);
	}
	if (rc < 0 && rc != IL_ENOTFOUND && rc != IL_EINVALID)
		return rc;
	auth_clear_cookies(r);
	req_json(r, 204, NULL);
	return 0;
}

/* ---- password change ------------------------------------------------- */

enum { PW_CURRENT, PW_NEW, PW__MAX };
static const struct field password_fields[PW__MAX] = {
	[PW_CURRENT] = { "current_password", FIELD_STRING, 1, 1024, 0, 0, NULL },
	[PW_NEW] = { "new_password", FIELD_STRING, 1, 1024, 0, 0, NULL },
};

/* Checks the current password in the user's (open) tenant transaction: 0, 1 after a 403. */
static int current_password_ok(struct req *r, const struct auth_attempt *at,
			       const char *given)
{
	const char *hash = NULL;
	int rc = db_user_password_hash(&hash, r->db, r->arena, r->who.tenant_id,
				       r->who.user_id);

	if (rc < 0)
		return rc;
	if (password_verify(hash, given))
		return 0;
	db_rollback(r->db, r->arena);
	if ((rc = auth_login_failed(r, at, r->who.tenant_id)) < 0)
		return rc;
	req_error(r, 403, "wrong_password", "the current password is wrong");
	return 1;
}

/* Stores the new password, ends every other session, and issues a new pair. */
static int store_password(struct auth_tokens *t, struct db_user *u, struct req *r,
			  const char *password)
{
	const char *hash = password_hash(r->arena, r->cfg, password);
	int rc;

	if (hash == NULL)
		return IL_ERR;
	if ((rc = db_user_set_password(r->db, r->arena, r->who.tenant_id, r->who.user_id,
				       hash)) == 0 &&
	    (rc = db_user_get(u, r->db, r->arena, r->who.tenant_id, r->who.user_id)) == 0 &&
	    (rc = auth_issue(t, r, u, NULL, NULL)) == 0 &&
	    (rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				  "password_changed", "user", r->who.user_id, NULL)) == 0)
		rc = db_commit(r->db, r->arena);
	return rc;
}

/*
 * POST /api/v1/auth/password: changes the caller's password. 200 with a new
 * token pair (and cookies); every other access and refresh token of the user
 * stops working. 403 when current_password is wrong (throttled like logins:
 * 429 with Retry-After), 422 for a new password that is too weak.
 */
int api_auth_password(struct req *r)
{
	struct field_value v[PW__MAX];
	struct auth_attempt at;
	struct auth_tokens t;
	struct db_user u;
	const char *why;
	int rc;

	body_collect(r, password_fields, PW__MAX, v);
	if (v[PW_NEW].present &&
	    (why = auth_check_new_password(r->who.email, v[PW_NEW].str)) != NULL)
		req_invalid(r, "body", "new_password", why, "value_error");
	if (req_validation_finish(r))
		return 0;
	/* charged outside any transaction: a refusal must not roll the charge back */
	if ((rc = auth_throttle_login(&at, r, r->who.email)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = db_begin_tenant(r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	rc = current_password_ok(r, &at, v[PW_CURRENT].str);
	if (rc == 0)
		rc = store_password(&t, &u, r, v[PW_NEW].str);
	if (rc != 0) {
		db_rollback(r->db, r->arena);
		return rc < 0 ? rc : 0;
	}
	if ((rc = auth_login_succeeded(r, &at)) < 0)
		return rc;
	auth_respond(r, 200, &t, &u, auth_delivery_for(r));
	return 0;
}
