/* httpc.h: the one outbound HTTP client (libcurl behind one policy) */
#ifndef IL_UTIL_HTTPC_H
#define IL_UTIL_HTTPC_H

#include <stddef.h>

struct arena;

/*
 * What a connection may do. Zeroed fields are the strict defaults: https
 * only, no redirect followed, the environment's proxy settings honoured.
 */
struct httpc_options {
	int allow_http;               /* accept http:// as well as https:// */
	long max_redirects;           /* 0: a 3xx is returned as it came */
	int no_proxy;                 /* ignore http_proxy/https_proxy */
	long timeout_seconds;         /* the whole transfer */
	long connect_timeout_seconds; /* 0: timeout_seconds */
	size_t max_response;          /* bytes of body read before giving up */
	const char *const *headers;   /* "Name: value" lines, NULL-terminated; may hold secrets */
	const char *resolve;          /* "host:port:address": connect only there, or NULL */
	const char *ca_file;          /* extra trust anchors (tests), or NULL */
};

enum httpc_result {
	HTTPC_OK = 0,       /* an answer came: see status */
	HTTPC_TIMEOUT,      /* no (whole) answer within the timeout */
	HTTPC_TOO_LARGE,    /* the body passed max_response */
	HTTPC_FAILED        /* no answer: refused, DNS, TLS, protocol… (see error) */
};

struct httpc_response {
	enum httpc_result result;
	const char *error;            /* libcurl's text when not HTTPC_OK: for the log */
	long status;                  /* HTTP status, 0 when no answer came */
	const char *body;             /* NUL-terminated, in the arena ("" for none) */
	size_t body_len;
	long retry_after_seconds;     /* the Retry-After header (either form), 0 when absent */
	long latency_ms;
};

/* A connection handle: keeps its connections open between requests. */
struct httpc;

/* A handle with options o (copied). Returns 0 or IL_ENOMEM. */
int httpc_open(struct httpc **out, const struct httpc_options *o);
/* Closes h and frees what holds its headers; NULL is a no-op. */
void httpc_close(struct httpc *h);

/*
 * Sends one request: a POST of body (body_len bytes) when body is not NULL,
 * else a GET. Transfer failures are not errors of this function: they come
 * back in out->result. Returns 0, or IL_ENOMEM.
 */
int httpc_send(struct httpc_response *out, struct httpc *h, struct arena *a, const char *url,
	       const char *body, size_t body_len);

/*
 * The timeouts of h's next requests, in milliseconds (the whole transfer,
 * the connect): for a caller counting down to a deadline of its own.
 */
void httpc_set_timeouts_ms(struct httpc *h, long total_ms, long connect_ms);

/* httpc_open, one httpc_send, httpc_close. */
int httpc_fetch(struct httpc_response *out, struct arena *a, const struct httpc_options *o,
		const char *url, const char *body, size_t body_len);

#endif
