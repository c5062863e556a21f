/* fuzz_query.c: libFuzzer target for the query-string parser and percent-decoding */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"
#include "http/query.h"
#include "http/req.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every decoded byte is printable or 0x80+: the parser's promise to handlers. */
static void check_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

/* The input as a query string, then as one percent-encoded value both ways. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct req r;
	char *qs;
	int64_t v;
	int i;

	if (a == NULL || (qs = arena_alloc(a, size + 1)) == NULL) {
		arena_free(a);
		return 0;
	}
	memcpy(qs, data, size);
	qs[size] = '\0';
	req_init(&r, a, NULL, NULL, NULL);
	query_parse(&r, qs);
	if (r.nquery < 0 || r.nquery > IL_MAX_QUERY_PARAMS)
		abort();
	for (i = 0; !r.query_invalid && i < r.nquery; i++) {
		check_clean(r.query[i].name);
		check_clean(r.query[i].value);
		if (req_query(&r, r.query[i].name) == NULL)
			abort();
		if (query_int(&r, r.query[i].name, 0, -5, 1000, &v) == 0 &&
		    (v < -5 || v > 1000))
			abort();
	}
	for (i = 0; i < 2; i++) {
		const char *d = percent_decode(a, qs, size, i);

		if (d != NULL) {
			check_clean(d);
			if (strlen(d) > size)
				abort();
		}
	}
	arena_free(a);
	return 0;
}
