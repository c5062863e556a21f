/* cors.c: cross-origin requests from the origins in cors_allowed_origins */
#include "http/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/req.h"
#include "util/arena.h"
#include "util/config.h"

/* The configured entry equal to origin (scheme and host are case-insensitive), or NULL. */
static const char *allowed_origin(struct req *r, const char *origin)
{
	const char *p = r->cfg != NULL ? r->cfg->cors_allowed_origins : NULL;
	size_t n;

	if (origin == NULL || p == NULL)
		return NULL;
	n = strlen(origin);
	while (*p != '\0') {
		size_t len;

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len > 0 && len == n && strncasecmp(p, origin, n) == 0)
			return arena_strndup(r->arena, p, len);
		p += len;
	}
	return NULL;
}

int cors_apply(struct req *r)
{
	const char *origin = allowed_origin(r, req_header(r, "Origin"));

	if (origin == NULL)
		return 0;
	req_header_add(r, "Access-Control-Allow-Origin", origin);
	req_header_add(r, "Access-Control-Allow-Credentials", "true");
	req_header_add(r, "Access-Control-Expose-Headers",
		       "X-Total-Count, Link, Retry-After, X-Request-Id");
	req_header_add(r, "Vary", "Origin");
	return 1;
}

void cors_options(struct req *r, const char *allow)
{
	char methods[192];

	snprintf(methods, sizeof(methods), "%s, OPTIONS", allow);
	req_header_add(r, "Allow", methods);
	if (req_header(r, "Access-Control-Request-Method") != NULL &&
	    allowed_origin(r, req_header(r, "Origin")) != NULL) {
		req_header_add(r, "Access-Control-Allow-Methods", methods);
		req_header_add(r, "Access-Control-Allow-Headers",
			       "Authorization, Content-Type, X-CSRF-Token, X-Request-Id, Accept");
		req_header_add(r, "Access-Control-Max-Age", "600");
	}
	req_json(r, 204, NULL);
}
