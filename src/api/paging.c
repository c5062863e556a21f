/* paging.c: pagination (limit/offset, Link, X-Total-Count) and the JSON values list rows share */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/plan.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/strbuf.h"

int api_page_read_max(struct api_page *pg, struct req *r, int64_t def, int64_t max)
{
	query_int(r, "limit", def, 1, max, &pg->limit);
	query_int(r, "offset", 0, 0, 1000000000, &pg->offset);
	return req_validation_finish(r);
}

int api_page_read(struct api_page *pg, struct req *r)
{
	return api_page_read_max(pg, r, 20, 100);
}

/* Appends v percent-encoded (everything but RFC 3986 unreserved characters). */
static void add_encoded(struct strbuf *sb, const char *v)
{
	const char *c;

	for (c = v; *c != '\0'; c++) {
		unsigned char u = (unsigned char)*c;

		if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
		    strchr("-_.~", u) != NULL)
			strbuf_addc(sb, (char)u);
		else
			strbuf_addf(sb, "%%%02X", u);
	}
}

/* One link-value: <path?other params&limit=L&offset=O>; rel="rel". */
static void add_link(struct strbuf *sb, struct req *r, const struct api_page *pg,
		     long long offset, const char *rel)
{
	int i;

	strbuf_addf(sb, "%s<%s?", sb->len ? ", " : "", r->path);
	for (i = 0; i < r->nquery; i++) {
		const char *n = r->query[i].name;

		if (strcmp(n, "limit") == 0 || strcmp(n, "offset") == 0)
			continue;
		add_encoded(sb, n);
		strbuf_addc(sb, '=');
		add_encoded(sb, r->query[i].value);
		strbuf_addc(sb, '&');
	}
	strbuf_addf(sb, "limit=%lld&offset=%lld>; rel=\"%s\"", (long long)pg->limit, offset, rel);
}

/*
 * Link: GitHub's pagination convention (RFC 8288), with URI references
 * relative to the server: rel="next" and rel="last" while rows follow,
 * rel="prev" and rel="first" past the first page.
 */
static void add_page_links(struct req *r, const struct api_page *pg, long long total)
{
	long long last = total > 0 ? (total - 1) / pg->limit * pg->limit : 0;
	struct strbuf sb;

	strbuf_init(&sb, r->arena, IL_MAX_LINK_HEADER);
	if (pg->offset + pg->limit < total) {
		add_link(&sb, r, pg, pg->offset + pg->limit, "next");
		add_link(&sb, r, pg, last, "last");
	}
	if (pg->offset > 0) {
		long long prev = pg->offset > pg->limit ? pg->offset - pg->limit : 0;

		/* from past the end, the page before is the last one */
		add_link(&sb, r, pg, prev < last ? prev : last, "prev");
		add_link(&sb, r, pg, 0, "first");
	}
	if (sb.len > 0 && strbuf_cstr(&sb) != NULL)
		req_header_add(r, "Link", strbuf_cstr(&sb));
}

void api_list_respond(struct req *r, json_object *items, long long total)
{
	char count[24];

	snprintf(count, sizeof(count), "%lld", total);
	req_header_add(r, "X-Total-Count", count);
	req_json(r, 200, items);
}

void api_page_respond(struct req *r, const struct api_page *pg, json_object *items,
		      long long total)
{
	add_page_links(r, pg, total);
	api_list_respond(r, items, total);
}

void api_list_respond_text(struct req *r, const char *json, size_t len, long long total)
{
	char count[24];

	snprintf(count, sizeof(count), "%lld", total);
	req_header_add(r, "X-Total-Count", count);
	req_text(r, 200, NULL, json, len);
}

void api_page_respond_text(struct req *r, const struct api_page *pg, const char *json,
			   size_t len, long long total)
{
	add_page_links(r, pg, total);
	api_list_respond_text(r, json, len, total);
}

json_object *api_json_parse(const char *text)
{
	return text != NULL ? json_tokener_parse(text) : NULL;
}

void api_number_field(json_object *o, const char *key)
{
	char buf[PLAN_NUMBER_LEN];
	json_object *v;
	double d;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_double))
		return;
	d = json_object_get_double(v);
	if (plan_format_number(buf, d) >= 0)
		json_object_object_add(o, key, json_object_new_double_s(d, buf));
}

json_object *api_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}
