/* httpc.c: the one outbound HTTP client (libcurl behind one policy) */
#include "util/httpc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "build-config.h"
#include "util/error.h"
#include "util/strbuf.h"

struct httpc {
	CURL *curl;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	struct httpc_options opt;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	return strbuf_add(arg, data, size * n) < 0 ? 0 : size * n;
}

/* Copies the header lines into a curl list; 0, or -1 when out of memory. */
static int copy_headers(struct httpc *h, const char *const *lines)
{
	struct curl_slist *next;

	for (; lines != NULL && *lines != NULL; lines++) {
		if ((next = curl_slist_append(h->headers, *lines)) == NULL)
			return -1;
		h->headers = next;
	}
	return 0;
}

/* The policy: protocols, redirects, proxy, TLS checks, timeouts. */
static void set_policy(struct httpc *h)
{
	const struct httpc_options *o = &h->opt;
	const char *protocols = o->allow_http ? "http,https" : "https";
	CURL *c = h->curl;

	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, o->max_redirects);
	if (o->no_proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	if (h->resolve != NULL)
		curl_easy_setopt(c, CURLOPT_RESOLVE, h->resolve);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_seconds);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_seconds > 0 ?
			 o->connect_timeout_seconds : o->timeout_seconds);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ironlayer/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
}

int httpc_open(struct httpc **out, const struct httpc_options *o)
{
	struct httpc *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL)
		return IL_ENOMEM;
	h->opt = *o;
	h->opt.headers = NULL;          /* the copies live in h->headers */
	if (copy_headers(h, o->headers) < 0 ||
	    (o->resolve != NULL && (h->resolve = curl_slist_append(NULL, o->resolve)) == NULL) ||
	    (h->curl = curl_easy_init()) == NULL) {
		httpc_close(h);
		return IL_ENOMEM;
	}
	set_policy(h);
	*out = h;
	return 0;
}

void httpc_close(struct httpc *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	curl_slist_free_all(h->resolve);
	free(h);
}

void httpc_set_timeouts_ms(struct httpc *h, long total_ms, long connect_ms)
{
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static enum httpc_result result_of(CURLcode cc)
{
	if (cc == CURLE_OK)
		return HTTPC_OK;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return HTTPC_TIMEOUT;
	/* on_body refusing a chunk past max_response is the only write error */
	return cc == CURLE_WRITE_ERROR ? HTTPC_TOO_LARGE : HTTPC_FAILED;
}

/* Status and Retry-After of an answer that came. */
static void read_answer_info(struct httpc_response *out, CURL *c)
{
	curl_off_t retry_after = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	/* libcurl reads both forms of Retry-After (seconds, HTTP-date) */
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		out->retry_after_seconds = retry_after < 86400 ? (long)retry_after : 86400;
}

int httpc_send(struct httpc_response *out, struct httpc *h, struct arena *a, const char *url,
	       const char *body, size_t body_len)
{
	struct strbuf sb;
	struct timespec t0;
	CURLcode cc;

	memset(out, 0, sizeof(*out));
	out->body = "";
	strbuf_init(&sb, a, h->opt.max_response);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (body != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sb);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cc = curl_easy_perform(h->curl);
	out->latency_ms = elapsed_ms(&t0);
	out->result = result_of(cc);
	if (out->result == HTTPC_TOO_LARGE && !sb.failed)
		out->result = HTTPC_FAILED;     /* a write error that was not ours */
	if (out->result != HTTPC_OK) {
		out->error = curl_easy_strerror(cc);
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
		return 0;
	}
	read_answer_info(out, h->curl);
	if ((out->body = strbuf_cstr(&sb)) == NULL)
		return IL_ENOMEM;
	out->body_len = sb.len;
	return 0;
}

int httpc_fetch(struct httpc_response *out, struct arena *a, const struct httpc_options *o,
		const char *url, const char *body, size_t body_len)
{
	struct httpc *h;
	int rc;

	memset(out, 0, sizeof(*out));
	out->body = "";
	if ((rc = httpc_open(&h, o)) < 0)
		return rc;
	rc = httpc_send(out, h, a, url, body, body_len);
	httpc_close(h);
	return rc;
}
