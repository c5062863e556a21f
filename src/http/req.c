/* req.c: request accessors and response builders */
#include "http/req.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/ipmatch.h"
#include "util/json.h"

static const char *const role_names[] = { "none", "viewer", "operator", "admin" };

const char *role_name(enum role role)
{
	return role_names[role];
}

enum role role_parse(const char *name)
{
	int i;

	for (i = ROLE_VIEWER; i <= ROLE_ADMIN; i++)
		if (name != NULL && strcmp(name, role_names[i]) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

void req_init(struct req *r, struct arena *a, const struct il_config *cfg,
	      struct db *db, char *const *env)
{
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->cfg = cfg;
	r->db = db;
	r->env = env;
	r->method = "GET";
	r->path = "/";
	r->data_version = -1;
	strbuf_init(&r->headers, a, 16 * 1024);
}

/* "Content-Type" → "HTTP_CONTENT_TYPE" and a lookup in the FastCGI params. */
const char *req_header(const struct req *r, const char *name)
{
	char key[128] = "HTTP_";
	size_t i, n = strlen(name), klen;
	char *const *e;

	if (r->env == NULL || n + 6 > sizeof(key))
		return NULL;
	for (i = 0; i < n; i++)
		key[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[5 + n] = '\0';
	klen = 5 + n;
	for (e = r->env; *e != NULL; e++)
		if (strncmp(*e, key, klen) == 0 && (*e)[klen] == '=')
			return *e + klen + 1;
	return NULL;
}

const char *req_query(const struct req *r, const char *name)
{
	int i;

	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].name, name) == 0)
			return r->query[i].value;
	return NULL;
}

const char *req_param(const struct req *r, int i)
{
	return i >= 0 && i < r->nparam ? r->param[i] : NULL;
}

void req_header_add(struct req *r, const char *name, const char *value)
{
	strbuf_addf(&r->headers, "%s: %s\r\n", name, value);
}

/* 1 when s (n bytes) is an address in text form. */
static int is_ip(const char *s, size_t n)
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf) || memchr(s, '/', n) != NULL)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return ip_match(buf, NULL) == 0;
}

const char *req_client_addr(struct req *r)
{
	const char *addr = r->remote_addr != NULL ? r->remote_addr : "unknown";
	const char *xff = req_header(r, "X-Forwarded-For"), *end, *start;
	const char *trusted = r->cfg != NULL ? r->cfg->trusted_proxies : NULL;

	if (xff == NULL || trusted == NULL || !ip_in_list(trusted, addr))
		return addr;
	/* walk from the right: each trusted hop vouches for the entry before it */
	end = xff + strlen(xff);
	while (end > xff) {
		const char *entry;

		while (end > xff && (end[-1] == ' ' || end[-1] == ','))
			end--;
		start = end;
		while (start > xff && start[-1] != ',' && start[-1] != ' ')
			start--;
		if (start == end)
			break;
		if (!is_ip(start, (size_t)(end - start)))
			return addr;        /* garbage: the last trusted hop is all we know */
		entry = arena_strndup(r->arena, start, (size_t)(end - start));
		if (entry == NULL)
			return addr;
		addr = entry;
		if (!ip_in_list(trusted, entry))
			return entry;
		end = start;
	}
	return addr;
}

const char *req_cookie(struct req *r, const char *name)
{
	const char *h = req_header(r, "Cookie"), *p = h;
	size_t n = strlen(name);

	while (p != NULL && *p != '\0') {
		size_t len;

		p += strspn(p, "; ");
		len = strcspn(p, ";");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
			return arena_strndup(r->arena, p + n + 1, len - n - 1);
		p += len;
	}
	return NULL;
}

void req_set_cookie(struct req *r, const char *name, const char *value, const char *path,
		    long max_age, unsigned flags)
{
	strbuf_addf(&r->headers, "Set-Cookie: %s=%s; Path=%s; Max-Age=%ld; SameSite=Strict%s%s\r\n",
		    name, value, path, max_age, (flags & COOKIE_HTTPONLY) ? "; HttpOnly" : "",
		    r->tls ? "; Secure" : "");
}

void req_json(struct req *r, int status, json_object *body)
{
	const char *text;
	size_t len;

	r->status = status;
	r->body_out = NULL;
	r->body_out_len = 0;
	r->type_out = NULL;
	if (body == NULL)
		return;
	if (json_arena_own(r->arena, body) < 0) {
		r->status = 500;
		return;
	}
	text = json_object_to_json_string_length(
		body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	r->body_out = text;
	r->body_out_len = len;
}

void req_text(struct req *r, int status, const char *content_type, const char *text,
	      size_t len)
{
	r->status = status;
	r->type_out = content_type;
	r->body_out = text;
	r->body_out_len = len;
}

void req_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_object *o = json_object_new_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "detail", json_object_new_string(msg));
	json_object_object_add(o, "code", json_object_new_string(code));
	r->error_code = code;
	req_json(r, status, o);
}

void req_invalid(struct req *r, const char *loc, const char *field,
		 const char *msg, const char *type)
{
	json_object *item, *locs;

	if (msg == NULL)
		msg = "Invalid value";
	if (r->validation == NULL) {
		r->validation = json_object_new_array();
		if (json_arena_own(r->arena, r->validation) < 0) {
			r->validation = NULL;
			return;
		}
	}
	item = json_object_new_object();
	locs = json_object_new_array();
	json_object_array_add(locs, json_object_new_string(loc));
	if (field != NULL)
		json_object_array_add(locs, json_object_new_string(field));
	json_object_object_add(item, "loc", locs);
	json_object_object_add(item, "msg", json_object_new_string(msg));
	json_object_object_add(item, "type", json_object_new_string(type));
	json_object_array_add(r->validation, item);
}

int req_validation_finish(struct req *r)
{
	json_object *o;

	if (r->validation == NULL || json_object_array_length(r->validation) == 0)
		return 0;
	o = json_object_new_object();
	/* the arena already holds one reference to the list; the body takes another */
	json_object_object_add(o, "detail", json_object_get(r->validation));
	json_object_object_add(o, "code", json_object_new_string("validation_error"));
	r->error_code = "validation_error";
	req_json(r, 422, o);
	return 1;
}

void req_error_from_code(struct req *r, int code)
{
	switch (code) {
	case IL_ENOTFOUND:
		req_error(r, 404, "not_found", "not found");
		break;
	case IL_ECONFLICT:
		req_error(r, 409, "conflict", "the request conflicts with the current state");
		break;
	case IL_EINVALID:
		req_error(r, 400, "bad_request", "invalid request");
		break;
	case IL_ETOOBIG:
		req_error(r, 413, "payload_too_large", "request too large");
		break;
	case IL_EUNAVAIL:
		req_error(r, 503, "service_unavailable",
			  "a service this request needs is unavailable; try again");
		break;
	default:
		req_error(r, 500, "internal_error", "internal server error");
		break;
	}
}
