/* csrf.h: browser sessions: the refresh cookie, its CSRF token, and the check */
#ifndef IL_CSRF_H
#define IL_CSRF_H

#include "util/crypto.h"

struct il_config;
struct req;

/*
 * A browser session is an HttpOnly cookie holding the refresh token (scoped
 * to the auth routes) and a cookie scripts can read holding the CSRF token,
 * which a cookie-carrying POST must echo in the X-CSRF-Token header.
 */
#define SESSION_COOKIE "refresh_token"
#define SESSION_COOKIE_PATH "/api/v1/auth"
#define CSRF_COOKIE "csrf_token"
#define CSRF_COOKIE_PATH "/"
#define CSRF_HEADER "X-CSRF-Token"

/*
 * The CSRF token that goes with a refresh token: HMAC-SHA256 of it under
 * jwt_secret, hex. Bound to the session, so a cookie planted by a sibling
 * site cannot pair with a header the attacker chose.
 */
void csrf_token_for(const struct il_config *cfg, const char *refresh_token,
		    char out[IL_SHA256_HEX_LEN + 1]);

/*
 * For a request with a state-changing method that carries the session
 * cookie: X-CSRF-Token must be the CSRF token of that cookie. Returns 0 when
 * the rule does not apply or holds; else records a 403 (csrf_required when
 * the header is missing, csrf_mismatch when it is wrong) and returns -1.
 */
int csrf_check(struct req *r);

#endif
