/* auth.c: signup, login, me, bearer authentication, and the token pair every session gets */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
#include "util/crypto.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

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

void auth_unauthorized(struct req *r, const char *code, const char *msg)
{
	req_error(r, 401, code, "%s", msg);
	req_header_add(r, "WWW-Authenticate", "Bearer");
}

json_object *auth_user_json(const struct db_user *u)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "display_name", json_object_new_string(u->display_name));
	json_object_object_add(o, "role", json_object_new_string(u->role));
	json_object_object_add(o, "tenant_id", json_object_new_string(u->tenant_id));
	return o;
}

int auth_issue(struct auth_tokens *out, struct req *r, const struct db_user *u,
	       const char *family, const char *parent_hash)
{
	char refresh[IL_REFRESH_TOKEN_LEN + 1], hash[IL_SHA256_HEX_LEN + 1], fam[37];
	const char *access;
	int rc;

	if (family == NULL) {
		if (token_new_uuid(fam) < 0)
			return IL_ERR;
		family = fam;
	}
	access = token_issue_access(r->arena, r->cfg, u->id, u->tenant_id, role_parse(u->role),
				    u->token_epoch);
	if (access == NULL || token_new_refresh(refresh) < 0)
		return IL_ERR;
	token_refresh_hash(refresh, hash);
	rc = db_refresh_insert(r->db, r->arena, hash, u->tenant_id, u->id, family, parent_hash,
			       r->cfg->refresh_token_ttl);
	if (rc < 0)
		return rc;
	out->refresh = arena_strdup(r->arena, refresh);
	out->body = json_object_new_object();
	if (out->refresh == NULL || json_arena_own(r->arena, out->body) < 0)
		return IL_ENOMEM;
	json_object_object_add(out->body, "access_token", json_object_new_string(access));
	json_object_object_add(out->body, "token_type", json_object_new_string("bearer"));
	json_object_object_add(out->body, "expires_in",
			       json_object_new_int64(r->cfg->access_token_ttl));
	return 0;
}

enum auth_delivery auth_delivery_for(struct req *r)
{
	return req_header(r, "Origin") != NULL ? AUTH_COOKIE_ONLY : AUTH_COOKIE_AND_BODY;
}

void auth_respond(struct req *r, int status, struct auth_tokens *t, const struct db_user *u,
		  enum auth_delivery how)
{
	char csrf[IL_SHA256_HEX_LEN + 1];

	csrf_token_for(r->cfg, t->refresh, csrf);
	req_set_cookie(r, SESSION_COOKIE, t->refresh, SESSION_COOKIE_PATH,
		       r->cfg->refresh_token_ttl, COOKIE_HTTPONLY);
	req_set_cookie(r, CSRF_COOKIE, csrf, CSRF_COOKIE_PATH, r->cfg->refresh_token_ttl, 0);
	if (how == AUTH_COOKIE_AND_BODY)
		json_object_object_add(t->body, "refresh_token",
				       json_object_new_string(t->refresh));
	if (u != NULL) {
		json_object_object_add(t->body, "user", auth_user_json(u));
		json_object_object_add(t->body, "tenant_id", json_object_new_string(u->tenant_id));
	}
	/* the arena holds the body already; the response takes its own reference */
	req_json(r, status, json_object_get(t->body));
}

void auth_clear_cookies(struct req *r)
{
	req_set_cookie(r, SESSION_COOKIE, "", SESSION_COOKIE_PATH, 0, COOKIE_HTTPONLY);
	req_set_cookie(r, CSRF_COOKIE, "", CSRF_COOKIE_PATH, 0, 0);
}

const char *auth_check_new_password(const char *email, const char *pw)
{
	if (utf8_chars(pw) < 10)
		return "Password must be at least 10 characters";
	if (email != NULL && strcasecmp(email, pw) == 0)
		return "Password must not be the email address";
	return NULL;
}

/* ---- signup ---------------------------------------------------------- */

enum { SIGNUP_EMAIL, SIGNUP_PASSWORD, SIGNUP_DISPLAY_NAME, SIGNUP__MAX };
static const struct field signup_fields[SIGNUP__MAX] = {
	[SIGNUP_EMAIL] = { "email", FIELD_STRING, 1, 320, 0, 0, check_email },
	[SIGNUP_PASSWORD] = { "password", FIELD_STRING, 1, 1024, 0, 0, NULL },
	[SIGNUP_DISPLAY_NAME] = { "display_name", FIELD_STRING, 1, 256, 0, 0, NULL },
};

static int check_signup(struct req *r, struct field_value *v)
{
	const struct field_value *email = &v[SIGNUP_EMAIL], *pw = &v[SIGNUP_PASSWORD];
	const char *why = pw->present ?
		auth_check_new_password(email->present ? email->str : NULL, pw->str) : NULL;

	if (why != NULL)
		req_invalid(r, "body", "password", why,
			    utf8_chars(pw->str) < 10 ? "string_too_short" : "value_error");
	if (v[SIGNUP_DISPLAY_NAME].present && v[SIGNUP_DISPLAY_NAME].len == 0)
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
	u->token_epoch = 0;
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
 * POST /api/v1/auth/signup: 201 with tokens and the session cookies; 403
 * when signup is closed, 409 when the email is taken, 422 for invalid
 * fields, 429 (Retry-After) past signup_max_per_address_per_hour.
 */
int api_auth_signup(struct req *r)
{
	struct field_value v[SIGNUP__MAX];
	struct db_user u;
	struct auth_tokens t;
	const char *pwhash;
	int rc;

	if (!r->cfg->allow_signup) {
		req_error(r, 403, "signup_closed",
			  "public signup is disabled; ask an administrator for an account");
		return 0;
	}
	body_collect(r, signup_fields, SIGNUP__MAX, v);
	if (check_signup(r, v))
		return 0;
	if ((rc = auth_throttle_signup(r)) != 0)   /* before the costly hash */
		return rc < 0 ? rc : 0;
	memset(&u, 0, sizeof(u));
	u.email = lower_dup(r->arena, v[SIGNUP_EMAIL].str);
	u.display_name = v[SIGNUP_DISPLAY_NAME].str;
	pwhash = password_hash(r->arena, r->cfg, v[SIGNUP_PASSWORD].str);
	if (pwhash == NULL || u.email == NULL)
		return IL_ERR;
	rc = create_account(r, &u, pwhash);
	if (rc == 0)
		rc = auth_issue(&t, r, &u, NULL, NULL);
	if (rc == 0)
		rc = db_commit(r->db, r->arena);
	if (rc == IL_ECONFLICT) {
		req_error(r, 409, "email_taken", "an account with this email already exists");
		return 0;
	}
	if (rc < 0)
		return rc;
	auth_respond(r, 201, &t, &u, auth_delivery_for(r));
	return 0;
}

/* ---- login ----------------------------------------------------------- */

enum { LOGIN_EMAIL, LOGIN_PASSWORD, LOGIN__MAX };
static const struct field login_fields[LOGIN__MAX] = {
	[LOGIN_EMAIL] = { "email", FIELD_STRING, 1, 320, 0, 0, check_email },
	[LOGIN_PASSWORD] = { "password", FIELD_STRING, 1, 1024, 0, 0, NULL },
};

static int login_refused(struct req *r, const struct auth_attempt *at, const char *tenant_id)
{
	int rc = auth_login_failed(r, at, tenant_id);

	if (rc < 0)
		return rc;
	auth_unauthorized(r, "invalid_credentials", BAD_CREDENTIALS);
	return 0;
}

static int login_accepted(struct req *r, struct db_user *u, const struct auth_attempt *at)
{
	struct auth_tokens t;
	int rc;

	if ((rc = auth_login_succeeded(r, at)) < 0 ||
	    (rc = db_begin_tenant(r->db, r->arena, u->tenant_id)) < 0)
		return rc;
	if ((rc = db_user_get(u, r->db, r->arena, u->tenant_id, u->id)) == 0 &&
	    (rc = db_user_touch_login(r->db, r->arena, u->tenant_id, u->id)) == 0 &&
	    (rc = auth_issue(&t, r, u, NULL, NULL)) == 0 &&
	    (rc = db_audit_append(r->db, r->arena, u->tenant_id, u->email, "login", "user",
				  u->id, NULL)) == 0)
		rc = db_commit(r->db, r->arena);
	if (rc < 0)
		return rc;
	auth_respond(r, 200, &t, u, auth_delivery_for(r));
	return 0;
}

/*
 * POST /api/v1/auth/login: 200 with tokens and the session cookies; 401 for
 * a wrong email or password (one message for both); 429 with Retry-After
 * once the account (from any address) or the client's address (for any
 * accounts) has used its attempts in the window. The attempt is charged
 * before the password is checked, and given back when it was right.
 */
int api_auth_login(struct req *r)
{
	struct field_value v[LOGIN__MAX];
	struct auth_attempt at;
	struct db_user u;
	const char *email;
	int rc;

	if (body_read(r, login_fields, LOGIN__MAX, v))
		return 0;
	email = lower_dup(r->arena, v[LOGIN_EMAIL].str);
	if (email == NULL)
		return IL_ENOMEM;
	if ((rc = auth_throttle_login(&at, r, email)) != 0)
		return rc < 0 ? rc : 0;
	rc = db_user_by_email(&u, r->db, r->arena, email);
	if (rc == IL_ENOTFOUND) {
		password_burn(r->arena, r->cfg, v[LOGIN_PASSWORD].str);
		return login_refused(r, &at, NULL);
	}
	if (rc < 0)
		return rc;
	if (!password_verify(u.password_hash, v[LOGIN_PASSWORD].str) || u.disabled)
		return login_refused(r, &at, u.tenant_id);
	return login_accepted(r, &u, &at);
}

/* ---- me and bearer authentication ------------------------------------ */

/*
 * The outcome of asking the database who the token's user is now: 0 with
 * r->who's email and role filled, or -1 after a 401/503.
 */
static int session_checked(struct req *r, int rc, const struct db_session *s)
{
	if (rc == IL_ENOTFOUND || rc == IL_EINVALID) {
		auth_unauthorized(r, "invalid_token", "invalid or expired token");
		return -1;
	}
	if (rc < 0) {
		req_error_from_code(r, rc);
		return -1;
	}
	r->who.email = s->email;
	r->who.role = role_parse(s->role);
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
	o = auth_user_json(&u);
	json_object_object_add(o, "tenant_name", json_object_new_string(u.tenant_name));
	json_object_object_add(o, "created_at", json_object_new_string(u.created_at));
	json_object_object_add(o, "last_login_at", u.last_login_at ?
			       json_object_new_string(u.last_login_at) : NULL);
	req_json(r, 200, o);
	return 0;
}

/*
 * Checks the bearer token, then asks the database whether its user is still
 * active, still at the token's epoch, and with which role (the token's role
 * claim is informational). On routes that run in a tenant transaction that
 * question rides in the same round trip as BEGIN (api_bind_tenant).
 */
int api_authenticate(struct req *r)
{
	const char *h = req_header(r, "Authorization");
	struct access_claims c;
	struct db_session s;
	int rc;

	if (h == NULL || *h == '\0') {
		auth_unauthorized(r, "not_authenticated", "missing bearer token");
		return -1;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
		auth_unauthorized(r, "not_authenticated",
				  "the Authorization header must be 'Bearer <access token>'");
		return -1;
	}
	rc = token_verify_access(&c, r->arena, r->cfg, h + 7);
	if (rc == IL_ESTALE) {
		auth_unauthorized(r, "token_expired", "access token expired: get a new one from "
				  "POST /api/v1/auth/refresh with your refresh token, or log in "
				  "again");
		return -1;
	}
	if (rc < 0) {
		auth_unauthorized(r, "invalid_token", "invalid access token");
		return -1;
	}
	r->who.user_id = c.sub;
	r->who.tenant_id = c.tenant_id;
	r->who.token_epoch = c.epoch;
	r->who.role = ROLE_NONE;    /* until the database says */
	if (r->route != NULL && (r->route->flags & ROUTE_TENANT_TXN))
		return 0;
	rc = db_session_user(&s, r->db, r->arena, c.tenant_id, c.sub, c.epoch);
	return session_checked(r, rc, &s);
}

int api_bind_tenant(struct req *r)
{
	struct db_session s;
	int settles = r->route != NULL && (r->route->flags & ROUTE_SETTLE);
	int rc = db_begin_tenant_as_user(&s, r->db, r->arena, r->who.tenant_id, r->who.user_id,
					 r->who.token_epoch, settles);

	/* no plan of the tenant is applying: no apply can have lost its worker */
	r->nothing_to_settle = rc == 0 && !s.applying;
	return session_checked(r, rc, &s);
}

/*
 * A read's user check came back with its first query: r->who learns the
 * email and role. When a plan of the tenant is applying, the applies whose
 * worker died end first and the query runs again to see it.
 */
static int deferred_session(void *arg, const struct db_session *s, int can_rerun)
{
	struct req *r = arg;
	int rc;

	r->who.email = s->email;
	r->who.role = role_parse(s->role);
	r->applying = s->applying;
	if (s->version >= 0)
		r->data_version = s->version;
	if (!can_rerun || !s->applying || !(r->route->flags & ROUTE_SETTLE))
		return 0;
	db_mark_written(r->db);
	rc = api_end_lost_applies(r);
	return rc < 0 ? rc : 1;
}

int api_defer_tenant(struct req *r)
{
	unsigned flags = r->route != NULL ? r->route->flags : 0;
	unsigned ask = flags & ROUTE_SETTLE ? DB_ASK_APPLYING : 0;
	int rc;

	/*
	 * A kept read asks the tenant's data version once, in its first check:
	 * alone when a kept answer may be given at it (the handler's statements
	 * then go out behind a second check, which asks what a settled read
	 * asks), else with the handler's first statement.
	 */
	if ((flags & ROUTE_KEPT) && r->data_version < 0)
		ask = r->kept_lookup ? DB_ASK_VERSION : ask | DB_ASK_VERSION;
	rc = db_defer_tenant_as_user(r->db, r->arena, r->who.tenant_id, r->who.user_id,
				     r->who.token_epoch, ask, deferred_session, r);
	if (rc < 0) {
		req_error_from_code(r, rc);
		return -1;
	}
	return 0;
}

/* The same answer as a check made before the handler (session_checked). */
void api_session_refused(struct req *r)
{
	auth_unauthorized(r, "invalid_token", "invalid or expired token");
}
