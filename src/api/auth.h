/* auth.h: what the files of the auth resource share (auth.c, auth_session.c, auth_throttle.c) */
#ifndef IL_API_AUTH_H
#define IL_API_AUTH_H

#include <json-c/json.h>

#include "http/req.h"

struct db_user;

#define BAD_CREDENTIALS "invalid email or password"

/* 401 with code, message and WWW-Authenticate: Bearer. */
void auth_unauthorized(struct req *r, const char *code, const char *msg);

/* {"id", "email", "display_name", "role", "tenant_id"} of u. */
json_object *auth_user_json(const struct db_user *u);

/* A token pair just recorded (not yet sent). */
struct auth_tokens {
	json_object *body;      /* access_token, token_type, expires_in */
	const char *refresh;    /* the refresh token itself */
};

/*
 * Issues an access token stamped with u's token epoch and a refresh token of
 * family (NULL: a new family) whose parent is parent_hash, recording the
 * refresh token's hash in the current transaction.
 */
int auth_issue(struct auth_tokens *out, struct req *r, const struct db_user *u,
	       const char *family, const char *parent_hash);

/* How auth_respond hands the refresh token over. */
enum auth_delivery {
	AUTH_COOKIE_ONLY,       /* a browser session: the HttpOnly cookie alone */
	AUTH_COOKIE_AND_BODY    /* also "refresh_token" in the body (the CLI, scripts) */
};
/*
 * Sends the tokens (after the commit): the session cookies, the body with
 * "user" and "tenant_id" when u is not NULL.
 */
void auth_respond(struct req *r, int status, struct auth_tokens *t, const struct db_user *u,
		  enum auth_delivery how);
/* Browsers (a request with an Origin header) get the refresh token as a cookie only. */
enum auth_delivery auth_delivery_for(struct req *r);
/* Expires both session cookies. */
void auth_clear_cookies(struct req *r);

/* Pure: NULL or why pw is not acceptable as a new password for email. */
const char *auth_check_new_password(const char *email, const char *pw);

/* ---- auth_throttle.c ---- */

/* The keys one login attempt is charged to. */
struct auth_attempt {
	const char *email;      /* lower-cased */
	const char *address;    /* the client's address */
	const char *account_key;
	const char *address_key;
};

/*
 * Charges a login attempt (account and address, one atomic statement). 0 to
 * go on; 1 after recording a 429 with Retry-After; < 0 on a database error.
 */
int auth_throttle_login(struct auth_attempt *at, struct req *r, const char *email);
/* A success: the account starts over, the address gets its attempt back. */
int auth_login_succeeded(struct req *r, const struct auth_attempt *at);
/* A failure, into the security log (tenant_id NULL when the email has no account). */
int auth_login_failed(struct req *r, const struct auth_attempt *at, const char *tenant_id);
/* Charges a signup to the client's address: 0, 1 after a 429, < 0. */
int auth_throttle_signup(struct req *r);

#endif
