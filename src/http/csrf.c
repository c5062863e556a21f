/* csrf.c: browser sessions: the refresh cookie, its CSRF token, and the check */
#include "http/csrf.h"

#include <string.h>

#include "http/req.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/parse.h"

void csrf_token_for(const struct il_config *cfg, const char *refresh_token,
		    char out[IL_SHA256_HEX_LEN + 1])
{
	unsigned char mac[IL_SHA256_LEN];
	static const char label[] = "ironlayer-csrf|";
	char msg[512];
	size_t n = strlen(refresh_token);

	if (n > sizeof(msg) - sizeof(label))
		n = sizeof(msg) - sizeof(label);
	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, refresh_token, n);
	if (crypto_hmac_sha256(cfg->jwt_secret, strlen(cfg->jwt_secret), msg,
			       sizeof(label) - 1 + n, mac) < 0)
		memset(mac, 0, sizeof(mac));
	hex_encode(mac, sizeof(mac), out);
}

static int safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

int csrf_check(struct req *r)
{
	const char *session, *given;
	char want[IL_SHA256_HEX_LEN + 1];

	if (safe_method(r->method) || (session = req_cookie(r, SESSION_COOKIE)) == NULL)
		return 0;
	given = req_header(r, CSRF_HEADER);
	if (given == NULL || *given == '\0') {
		req_error(r, 403, "csrf_required", "CSRF token required: send the csrf_token"
			  " cookie's value in the X-CSRF-Token header");
		return -1;
	}
	csrf_token_for(r->cfg, session, want);
	if (!crypto_ct_equal(given, strlen(given), want, strlen(want))) {
		req_error(r, 403, "csrf_mismatch", "CSRF token mismatch");
		return -1;
	}
	return 0;
}
