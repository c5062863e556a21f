/* auth_throttle.c: login and signup throttling, and the security log of failed logins */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "db/auth.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"

#define SIGNUP_WINDOW_SECONDS 3600

/* SHA-256 hex of "kind|value": a throttling key that stores no email or address. */
static const char *key_of(struct req *r, const char *kind, const char *value)
{
	char hex[IL_SHA256_HEX_LEN + 1];
	const char *raw = arena_printf(r->arena, "%s|%s", kind, value);

	if (raw == NULL)
		return NULL;
	crypto_sha256_hex(raw, strlen(raw), hex);
	return arena_strdup(r->arena, hex);
}

static void too_many(struct req *r, const char *what, long retry)
{
	char secs[24];

	snprintf(secs, sizeof(secs), "%ld", retry);
	req_error(r, 429, "too_many_attempts", "too many %s; try again in %ld seconds", what,
		  retry);
	req_header_add(r, "Retry-After", secs);
}

int auth_throttle_login(struct auth_attempt *at, struct req *r, const char *email)
{
	const struct il_config *cfg = r->cfg;
	struct db_throttle c[2];
	long retry = 0;
	int rc;

	at->email = email;
	at->address = req_client_addr(r);
	at->account_key = key_of(r, "login-account", email);
	at->address_key = key_of(r, "login-address", at->address);
	if (at->account_key == NULL || at->address_key == NULL)
		return IL_ENOMEM;
	c[0] = (struct db_throttle){ at->account_key, cfg->login_max_failures_per_account,
				     cfg->login_failure_window_seconds };
	c[1] = (struct db_throttle){ at->address_key, cfg->login_max_failures_per_address,
				     cfg->login_failure_window_seconds };
	if ((rc = db_throttle_hit(&retry, r->db, r->arena, c, 2)) < 0)
		return rc;
	if (retry == 0)
		return 0;
	too_many(r, "failed logins", retry);
	return 1;
}

int auth_login_succeeded(struct req *r, const struct auth_attempt *at)
{
	return db_throttle_refund(r->db, r->arena, at->account_key, at->address_key);
}

int auth_login_failed(struct req *r, const struct auth_attempt *at, const char *tenant_id)
{
	char subject[IL_SHA256_HEX_LEN + 1];

	crypto_sha256_hex(at->email, strlen(at->email), subject);
	return db_security_login_failed(r->db, r->arena, subject, tenant_id, at->address,
					r->cfg->login_failure_window_seconds);
}

int auth_throttle_signup(struct req *r)
{
	struct db_throttle c;
	long retry = 0;
	int rc;

	c.key = key_of(r, "signup-address", req_client_addr(r));
	c.limit = r->cfg->signup_max_per_address_per_hour;
	c.window_seconds = SIGNUP_WINDOW_SECONDS;
	if (c.key == NULL)
		return IL_ENOMEM;
	if ((rc = db_throttle_hit(&retry, r->db, r->arena, &c, 1)) < 0)
		return rc;
	if (retry == 0)
		return 0;
	log_warn("signup refused: the address %s reached signup_max_per_address_per_hour",
		 req_client_addr(r));
	too_many(r, "signups from this address", retry);
	return 1;
}
