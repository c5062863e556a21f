/* cors.h: cross-origin requests from the origins in cors_allowed_origins */
#ifndef IL_CORS_H
#define IL_CORS_H

struct req;

/*
 * When the request's Origin is one of cors_allowed_origins, adds the CORS
 * response headers (that origin, credentials allowed, X-Total-Count, Link,
 * Retry-After and X-Request-Id exposed) and returns 1; else adds nothing and
 * returns 0. Every response of the request carries them, errors included.
 */
int cors_apply(struct req *r);

/*
 * Answers OPTIONS on a path that accepts the methods in allow ("GET, POST"):
 * 204 with Allow, and for a preflight (Access-Control-Request-Method) from an
 * allowed origin the methods, request headers and max age a browser asks for.
 * A preflight from any other origin gets no CORS headers, so it fails.
 */
void cors_options(struct req *r, const char *allow);

#endif
