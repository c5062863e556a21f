/* auth.c: signup, login, refresh, me, logout, and bearer authentication */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "db/auth.h"
#include "db/db.h"
#include "http/body.h"
#include "http/password.h"
#include "http/token.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"

#define LOGIN_MAX_FAILURES 5
#define LOGIN_WINDOW_SECONDS (15 * 60)
#define BAD_CREDENTIALS "invalid email or password"

/* Pure: NULL or why s is not an email address we accept. */
static const char *check_email(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL || at - s > 64)
		return "value is not a valid email address";
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("()<>,;:\\\"[]", *p) != NULL)
			return "value is not a valid email address";
	p = at + 1;
	if (strchr(p, '.') == NULL || *p == '.' || p[strlen(p) - 1] == '.' ||
	    strstr(p, "..") != NULL)
		return "value is not a valid email address";
	return NULL;
}

/* Counts UTF-8 code points (continuation bytes are not counted). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static char *lower_dup(struct arena *a, const char *s)
{
	char *out = arena_strdup(a, s), *p;

	for (p = out; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

static void unauthorized(struct req *r, const char *code, const char *msg)
{
	req_error(r, 401, code, "%s", msg);
	req_header_add(r, "WWW-Authenticate", "Bearer");
}

/* {"email": …} with the email hashed, for audit rows of failed logins. */
static const char *email_digest_json(struct req *r, const char *email)
{
	char hex[IL_SHA256_HEX_LEN + 1];

	crypto_sha256_hex(email, strlen(email), hex);
	return arena_printf(r->arena, "{\"email_sha256\":\"%s\"}", hex);
}

static json_object *user_json(const struct db_user *u)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "display_name", json_object_new_string(u->display_name));
	json_object_object_add(o, "role", json_object_new_string(u->role));
	json_object_object_add(o, "tenant_id", json_object_new_string(u->tenant_id));
	return o;
}

/*
 * Issues an access token and a refresh token of family (NULL: a new family)
 * for u, recording the refresh token's hash. The body is written into *out.
 */
static int issue_tokens(json_object **out, struct req *r, const struct db_user *u,
			const char *family, const char *parent_hash)
{
	char refresh[IL_REFRESH_TOKEN_LEN + 1], hash[IL_SHA256_HEX_LEN + 1], fam[37];
	const char *access;
	json_object *o;
	int rc;

	if (family == NULL) {
		if (token_new_uuid(fam) < 0)
			return IL_ERR;
		family = fam;
	}
	access = token_issue_access(r->arena, r->cfg, u->id, u->tenant_id, role_parse(u->role));
	if (access == NULL || token_new_refresh(refresh) < 0)
		return IL_ERR;
	token_refresh_hash(refresh, hash);
	rc = db_refresh_insert(r->db, r->arena, hash, u->tenant_id, u->id, family, parent_hash,
			       r->cfg->refresh_token_ttl);
	if (rc < 0)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(access));
	json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
	json_object_object_add(o, "token_type", json_object_new_string("bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int64(r->cfg->access_token_ttl));
	*out = o;
	return 0;
}

static void add_user_fields(json_object *body, const struct db_user *u)
{
	json_object_object_add(body, "user", user_json(u));
	json_object_object_add(body, "tenant_id", json_object_new_string(u->tenant_id));
}

/* ---- signup ---------------------------------------------------------- */

static const struct field signup_fields[] = {
	{ "email", FIELD_STRING, 1, 320, 0, 0, check_email },
	{ "password", FIELD_STRING, 1, 1024, 0, 0, NULL },
	{ "display_name", FIELD_STRING, 1, 256, 0, 0, NULL },
};

static int check_signup(struct req *r, struct field_value *v)
{
	if (v[1].present && utf8_chars(v[1].str) < 10)
		req_invalid(r, "body", "password", "Password must be at least 10 characters",
			    "string_too_short");
	else if (v[1].present && v[0].present && strcasecmp(v[0].str, v[1].str) == 0)
		req_invalid(r, "body", "password", "Password must not be the email address",
			    "value_error");
	if (v[2].present && v[2].len == 0)
		req_invalid(r, "body", "display_name", "String should have at least 1 character",
			    "string_too_short");
	return req_validation_finish(r);
}

/* Creates tenant, admin user and the dev environment inside one transaction. */
static int create_account(struct req *r, struct db_user *u, const char *pwhash)
{
	char tenant[37], prefix[40];
	int rc;

	if (token_new_uuid(tenant) < 0)
		return IL_ERR;
	/* t + the tenant id's first 16 hex digits: unique per tenant, a valid schema name */
	snprintf(prefix, sizeof(prefix), "t%.8s%.4s%.4s", tenant, tenant + 9, tenant + 14);
	u->tenant_id = arena_strdup(r->arena, tenant);
	u->role = "admin";
	if ((rc = db_begin_tenant(r->db, r->arena, tenant)) < 0)
		return rc;
	if ((rc = db_tenant_create(r->db, r->arena, tenant, u->display_name)) == 0 &&
	    (rc = db_user_create(&u->id, r->db, r->arena, tenant, u->email, u->display_name,
				 pwhash, "admin")) == 0 &&
	    (rc = db_environment_create_default(r->db, r->arena, tenant, prefix)) == 0)
		rc = db_audit_append(r->db, r->arena, tenant, u->email, "signup", "user", u->id,
				     NULL);
	return rc;
}

/*
 * POST /api/v1/auth/signup: 201 with tokens; 403 when signup is closed,
 * 409 when the email is taken, 422 for invalid fields.
 */
int api_auth_signup(struct req *r)
{
	struct field_value v[3];
	struct db_user u;
	json_object *body = NULL;
	const char *pwhash;
	int rc;

	if (!r->cfg->allow_signup) {
		req_error(r, 403, "signup_closed",
			  "public signup is disabled; ask an administrator for an account");
		return 0;
	}
	body_collect(r, signup_fields, 3, v);
	if (check_signup(r, v))
		return 0;
	memset(&u, 0, sizeof(u));
	u.email = lower_dup(r->arena, v[0].str);
	u.display_name = v[2].str;
	pwhash = password_hash(r->arena, r->cfg, v[1].str);
	if (pwhash == NULL || u.email == NULL)
		return IL_ERR;
	rc = create_account(r, &u, pwhash);
	if (rc == 0)
		rc = issue_tokens(&body, r, &u, NULL, NULL);
	if (rc == 0)
		rc = db_commit(r->db, r->arena);
	if (rc == IL_ECONFLICT) {
		req_error(r, 409, "email_taken", "an account with this email already exists");
		return 0;
	}
	if (rc < 0)
		return rc;
	add_user_fields(body, &u);
	req_json(r, 201, body);
	return 0;
}

/* ---- login ----------------------------------------------------------- */

static const struct field login_fields[] = {
	{ "email", FIELD_STRING, 1, 320, 0, 0, check_email },
	{ "password", FIELD_STRING, 1, 1024, 0, 0, NULL },
};

/* 1 when addr appears in the comma- or space-separated trusted_proxies list. */
static int is_trusted_proxy(const struct il_config *cfg, const char *addr)
{
	const char *p = cfg->trusted_proxies;
	size_t n = strlen(addr);

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, ", ");

		if (len == n && strncmp(p, addr, n) == 0)
			return 1;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

/*
 * The client's address: REMOTE_ADDR, unless that is a trusted proxy, in
 * which case the right-most X-Forwarded-For entry that is not one.
 */
static const char *client_address(struct req *r)
{
	const char *addr = r->remote_addr ? r->remote_addr : "unknown";
	const char *xff = req_header(r, "X-Forwarded-For");
	char *list, *tok, *save = NULL;
	const char *found = addr;

	if (xff == NULL || !is_trusted_proxy(r->cfg, addr))
		return addr;
	list = arena_strdup(r->arena, xff);
	for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
		if (!is_trusted_proxy(r->cfg, tok))
			found = tok;
	return found;
}

static const char *throttle_key(struct req *r, const char *email)
{
	char hex[IL_SHA256_HEX_LEN + 1];
	const char *raw = arena_printf(r->arena, "%s|%s", email, client_address(r));

	if (raw == NULL)
		return NULL;
	crypto_sha256_hex(raw, strlen(raw), hex);
	return arena_strdup(r->arena, hex);
}

static int login_refused(struct req *r, const struct db_user *u, const char *email,
			 const char *key)
{
	int rc = db_login_failed(r->db, r->arena, key, LOGIN_WINDOW_SECONDS);

	if (rc == 0)
		rc = db_audit_append(r->db, r->arena, u->tenant_id, "anonymous", "login_failed",
				     "user", u->id ? u->id : "unknown",
				     email_digest_json(r, email));
	if (rc < 0)
		return rc;
	unauthorized(r, "invalid_credentials", BAD_CREDENTIALS);
	return 0;
}

static int login_accepted(struct req *r, struct db_user *u, const char *key)
{
	json_object *body = NULL;
	int rc;

	if ((rc = db_login_succeeded(r->db, r->arena, key)) < 0 ||
	    (rc = db_begin_tenant(r->db, r->arena, u->tenant_id)) < 0)
		return rc;
	if ((rc = db_user_get(u, r->db, r->arena, u->tenant_id, u->id)) == 0 &&
	    (rc = db_user_touch_login(r->db, r->arena, u->tenant_id, u->id)) == 0 &&
	    (rc = issue_tokens(&body, r, u, NULL, NULL)) == 0 &&
	    (rc = db_audit_append(r->db, r->arena, u->tenant_id, u->email, "login", "user",
				  u->id, NULL)) == 0)
		rc = db_commit(r->db, r->arena);
	if (rc < 0)
		return rc;
	add_user_fields(body, u);
	req_json(r, 200, body);
	return 0;
}

/*
 * POST /api/v1/auth/login: 200 with tokens; 401 for a wrong email or
 * password (one message for both); 429 with Retry-After after repeated
 * failures from one address.
 */
int api_auth_login(struct req *r)
{
	struct field_value v[2];
	struct db_user u;
	const char *email, *key;
	long retry = 0;
	char secs[24];
	int rc;

	if (body_read(r, login_fields, 2, v))
		return 0;
	email = lower_dup(r->arena, v[0].str);
	key = email ? throttle_key(r, email) : NULL;
	if (key == NULL)
		return IL_ENOMEM;
	if ((rc = db_login_throttled(&retry, r->db, r->arena, key, LOGIN_MAX_FAILURES,
				     LOGIN_WINDOW_SECONDS)) < 0)
		return rc;
	if (retry > 0) {
		snprintf(secs, sizeof(secs), "%ld", retry);
		req_error(r, 429, "too_many_attempts",
			  "too many failed logins; try again in %ld seconds", retry);
		req_header_add(r, "Retry-After", secs);
		return 0;
	}
	rc = db_user_by_email(&u, r->db, r->arena, email);
	if (rc == IL_ENOTFOUND) {
		password_burn(r->arena, r->cfg, v[1].str);
		return login_refused(r, &u, email, key);
	}
	if (rc < 0)
		return rc;
	if (!password_verify(u.password_hash, v[1].str) || u.disabled)
		return login_refused(r, &u, email, key);
	return login_accepted(r, &u, key);
}

/* ---- refresh and logout ---------------------------------------------- */

static const struct field refresh_fields[] = {
	{ "refresh_token", FIELD_STRING, 1, 256, 0, 0, NULL },
};

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

static int revoke_family(struct req *r, const char *tenant, const struct db_refresh *t,
			 const char *why)
{
	const char *meta = arena_printf(r->arena, "{\"reason\":\"%s\"}", why);
	int n = 0, rc = db_refresh_revoke_family(&n, r->db, r->arena, tenant, t->family_id);

	if (rc == 0 && n > 0)
		rc = db_audit_append(r->db, r->arena, tenant, t->user_id, "token_family_revoked",
				     "refresh_family", t->family_id, meta);
	if (rc == 0)
		rc = db_commit(r->db, r->arena);
	return rc;
}

/*
 * POST /api/v1/auth/refresh: 200 with a new token pair; the presented token
 * is used up. A token presented twice revokes its whole family: 401.
 */
int api_auth_refresh(struct req *r)
{
	struct field_value v[1];
	struct db_refresh t;
	struct db_user u;
	char hash[IL_SHA256_HEX_LEN + 1];
	const char *tenant = NULL, *why = "refresh token is invalid or expired";
	json_object *body = NULL;
	int rc;

	if (body_read(r, refresh_fields, 1, v))
		return 0;
	token_refresh_hash(v[0].str, hash);
	rc = open_refresh(&t, &tenant, r, hash);
	if (rc == 0 && t.used && !t.revoked) {
		log_warn("refresh token reused: family revoked (tenant %s)", tenant);
		rc = revoke_family(r, tenant, &t, "reuse");
		rc = rc < 0 ? rc : IL_ENOTFOUND;
		why = "this refresh token was already used, so its session is now revoked "
		      "(a copied token cannot be replayed); log in again";
	} else if (rc == 0 && (t.used || t.revoked || t.expired)) {
		rc = IL_ENOTFOUND;
		why = t.expired && !t.revoked ? "refresh token expired; log in again" :
			"this session was revoked (logged out, or a refresh token was used "
			"twice); log in again";
	}
	if (rc == 0)
		rc = db_user_get(&u, r->db, r->arena, tenant, t.user_id);
	if (rc == 0 && u.disabled)
		rc = IL_ENOTFOUND;
	if (rc == 0 && (rc = db_refresh_mark_used(r->db, r->arena, tenant, hash)) == 0 &&
	    (rc = issue_tokens(&body, r, &u, t.family_id, hash)) == 0)
		rc = db_commit(r->db, r->arena);
	if (rc == IL_ENOTFOUND || rc == IL_EINVALID) {
		unauthorized(r, "invalid_refresh_token", why);
		return 0;
	}
	if (rc < 0)
		return rc;
	req_json(r, 200, body);
	return 0;
}

/* POST /api/v1/auth/logout: 204; the token's family can no longer refresh. */
int api_auth_logout(struct req *r)
{
	struct field_value v[1];
	struct db_refresh t;
	char hash[IL_SHA256_HEX_LEN + 1];
	const char *tenant;
	int rc;

	if (body_read(r, refresh_fields, 1, v))
		return 0;
	token_refresh_hash(v[0].str, hash);
	rc = open_refresh(&t, &tenant, r, hash);
	if (rc == 0)
		rc = revoke_family(r, tenant, &t, "logout");
	if (rc < 0 && rc != IL_ENOTFOUND && rc != IL_EINVALID)
		return rc;
	/* an unknown or already revoked token is logged out all the same */
	req_json(r, 204, NULL);
	return 0;
}

/* ---- me and bearer authentication ------------------------------------ */

/* The outcome of asking whether the token's user is active: 0, or -1 after a 401/503. */
static int user_checked(struct req *r, int rc, const char *email)
{
	if (rc == IL_ENOTFOUND || rc == IL_EINVALID) {
		unauthorized(r, "invalid_token", "invalid or expired token");
		return -1;
	}
	if (rc < 0) {
		req_error_from_code(r, rc);
		return -1;
	}
	r->who.email = email;
	return 0;
}

/* GET /api/v1/auth/me: the caller's profile. */
int api_auth_me(struct req *r)
{
	struct db_user u;
	json_object *o;
	int rc = db_user_get(&u, r->db, r->arena, r->who.tenant_id, r->who.user_id);

	if (rc < 0)
		return rc;
	o = user_json(&u);
	json_object_object_add(o, "tenant_name", json_object_new_string(u.tenant_name));
	json_object_object_add(o, "created_at", json_object_new_string(u.created_at));
	json_object_object_add(o, "last_login_at", u.last_login_at ?
			       json_object_new_string(u.last_login_at) : NULL);
	req_json(r, 200, o);
	return 0;
}

/*
 * Checks the bearer token. Whether its user is still active is asked of the
 * database here, except on routes that run in a tenant transaction, where
 * api_bind_tenant asks it in the same round trip as BEGIN.
 */
int api_authenticate(struct req *r)
{
	const char *h = req_header(r, "Authorization");
	struct access_claims c;
	const char *email = NULL;
	int rc;

	if (h == NULL || *h == '\0') {
		unauthorized(r, "not_authenticated", "missing bearer token");
		return -1;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
		unauthorized(r, "not_authenticated",
			     "the Authorization header must be 'Bearer <access token>'");
		return -1;
	}
	rc = token_verify_access(&c, r->arena, r->cfg, h + 7);
	if (rc == IL_ESTALE) {
		unauthorized(r, "token_expired", "access token expired: get a new one from "
			     "POST /api/v1/auth/refresh with your refresh token, or log in again");
		return -1;
	}
	if (rc < 0) {
		unauthorized(r, "invalid_token", "invalid access token");
		return -1;
	}
	r->who.user_id = c.sub;
	r->who.tenant_id = c.tenant_id;
	r->who.role = c.role;
	if (r->route != NULL && (r->route->flags & ROUTE_TENANT_TXN))
		return 0;
	rc = db_user_active(&email, r->db, r->arena, c.sub, c.tenant_id);
	return user_checked(r, rc, email);
}

int api_bind_tenant(struct req *r)
{
	const char *email = NULL;
	int rc = db_begin_tenant_as_user(&email, r->db, r->arena, r->who.tenant_id,
					 r->who.user_id);

	return user_checked(r, rc, email);
}
