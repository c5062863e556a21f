/* query.c: percent-decoding and query-string parsing */
#include "http/query.h"

#include <string.h>

#include "http/req.h"
#include "util/arena.h"
#include "util/parse.h"

char *percent_decode(struct arena *a, const char *s, size_t n, int plus_is_space)
{
	char *out = arena_alloc(a, n + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return NULL;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return NULL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

void query_parse(struct req *r, const char *qs)
{
	const char *p = qs;

	r->nquery = 0;
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;

		if (len > 0) {
			char *name, *value;

			if (r->nquery == IL_MAX_QUERY_PARAMS) {
				r->query_invalid = 1;
				return;
			}
			name = percent_decode(r->arena, p, nlen, 1);
			value = eq ? percent_decode(r->arena, eq + 1, len - nlen - 1, 1)
				   : arena_strdup(r->arena, "");
			if (name == NULL || value == NULL) {
				r->query_invalid = 1;
				return;
			}
			r->query[r->nquery].name = name;
			r->query[r->nquery].value = value;
			r->nquery++;
		}
		p = amp ? amp + 1 : NULL;
	}
}
