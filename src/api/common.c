/* common.c: what several resources share: name checks, pagination, JSON rows */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/plan.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/strbuf.h"

const char *api_check_env_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] < 'a' || s[0] > 'z')
		return "must match ^[a-z][a-z0-9_]{0,62}$";
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "must match ^[a-z][a-z0-9_]{0,62}$";
	return NULL;
}

int api_page_read(struct api_page *pg, struct req *r)
{
	query_int(r, "limit", 20, 1, 100, &pg->limit);
	query_int(r, "offset", 0, 0, 1000000000, &pg->offset);
	return req_validation_finish(r);
}

/* Adds Link: <path?…&limit=L&offset=O+L>; rel="next" when more rows follow. */
static void add_next_link(struct req *r, const struct api_page *pg, long long total)
{
	struct strbuf sb;
	int i;

	if (pg->offset + pg->limit >= total)
		return;
	strbuf_init(&sb, r->arena, 8192);
	strbuf_addf(&sb, "<%s?", r->path);
	for (i = 0; i < r->nquery; i++) {
		const char *n = r->query[i].name, *v = r->query[i].value;
		const char *c;

		if (strcmp(n, "limit") == 0 || strcmp(n, "offset") == 0)
			continue;
		strbuf_addf(&sb, "%s=", n);
		for (c = v; *c != '\0'; c++) {
			unsigned char u = (unsigned char)*c;

			if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
			    (u >= '0' && u <= '9') || strchr("-_.~", u) != NULL)
				strbuf_addc(&sb, (char)u);
			else
				strbuf_addf(&sb, "%%%02X", u);
		}
		strbuf_addc(&sb, '&');
	}
	strbuf_addf(&sb, "limit=%lld&offset=%lld>; rel=\"next\"", (long long)pg->limit,
		    (long long)(pg->offset + pg->limit));
	if (strbuf_cstr(&sb) != NULL)
		req_header_add(r, "Link", strbuf_cstr(&sb));
}

void api_page_respond(struct req *r, const struct api_page *pg, json_object *items,
		      long long total)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "items", items);
	json_object_object_add(o, "total", json_object_new_int64(total));
	json_object_object_add(o, "limit", json_object_new_int64(pg->limit));
	json_object_object_add(o, "offset", json_object_new_int64(pg->offset));
	add_next_link(r, pg, total);
	req_json(r, 200, o);
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
