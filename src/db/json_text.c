/* json_text.c (db): JSON text of list pages built straight from the rows */
#include "db/json_text.h"

#include <string.h>

#include "db/db.h"
#include "util/error.h"
#include "util/strbuf.h"

void db_json_compact(struct strbuf *sb, const char *text)
{
	const char *p = text, *run;
	int in_string = 0;

	if (text == NULL) {
		strbuf_add(sb, "null", 4);
		return;
	}
	while (*p != '\0') {
		/* copy up to the next blank outside a string in one append */
		for (run = p; *p != '\0'; p++) {
			if (in_string) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '"')
					in_string = 0;
			} else if (*p == '"') {
				in_string = 1;
			} else if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
				break;
			}
		}
		strbuf_add(sb, run, (size_t)(p - run));
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
	}
}

void db_json_string(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	if (s == NULL) {
		strbuf_add(sb, "null", 4);
		return;
	}
	strbuf_addc(sb, '"');
	while (*s != '\0') {
		unsigned char c;

		for (run = s; *s != '\0'; s++) {
			c = (unsigned char)*s;
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		strbuf_add(sb, run, (size_t)(s - run));
		if (*s == '\0')
			break;
		c = (unsigned char)*s++;
		switch (c) {
		case '"': strbuf_add(sb, "\\\"", 2); break;
		case '\\': strbuf_add(sb, "\\\\", 2); break;
		case '\b': strbuf_add(sb, "\\b", 2); break;
		case '\f': strbuf_add(sb, "\\f", 2); break;
		case '\n': strbuf_add(sb, "\\n", 2); break;
		case '\r': strbuf_add(sb, "\\r", 2); break;
		case '\t': strbuf_add(sb, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			strbuf_add(sb, u, 6);
		}
		}
	}
	strbuf_addc(sb, '"');
}

/* The largest list page: 500 models of a few kilobytes each. */
#define DB_JSON_PAGE_MAX (64u << 20)

void db_json_page_init(struct strbuf *sb, struct arena *a)
{
	strbuf_init(sb, a, DB_JSON_PAGE_MAX);
}

int db_json_rows_array(const char **json, size_t *len, struct arena *a, const PGresult *res)
{
	struct strbuf sb;
	int i;

	db_json_page_init(&sb, a);
	strbuf_addc(&sb, '[');
	for (i = 0; i < db_rows(res); i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		db_json_compact(&sb, db_val(res, i, 0));
	}
	strbuf_addc(&sb, ']');
	if ((*json = strbuf_cstr(&sb)) == NULL)
		return IL_ENOMEM;
	*len = sb.len;
	return 0;
}
