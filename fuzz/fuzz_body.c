/* fuzz_body.c: libFuzzer target for the JSON body reader (dispatcher parse + body_read) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"
#include "http/req.h"
#include "http/router.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_spaces(const char *v)
{
	return strchr(v, ' ') ? "must not contain spaces" : NULL;
}

enum { F_NAME, F_COUNT, F_FLAG, F_RATIO, F_META, F_LIST, F_NOTE, F__MAX };

static const struct field fields[F__MAX] = {
	[F_NAME] = { "name", FIELD_STRING, 1, 16, 0, 0, no_spaces },
	[F_COUNT] = { "count", FIELD_INT, 0, 0, -3, 100, NULL },
	[F_FLAG] = { "flag", FIELD_BOOL, 0, 0, 0, 0, NULL },
	[F_RATIO] = { "ratio", FIELD_NUMBER, 0, 0, 0, 0, NULL },
	[F_META] = { "meta", FIELD_OBJECT, 0, 0, 0, 0, NULL },
	[F_LIST] = { "list", FIELD_ARRAY, 0, 4, 0, 0, NULL },
	[F_NOTE] = { "note", FIELD_STRING, 0, 0, 0, 0, NULL },
};

/* Reads the declared fields and checks every bound the reader promised. */
static int read_fields(struct req *r)
{
	struct field_value v[F__MAX];

	if (r->json == NULL || !json_object_is_type(r->json, json_type_object))
		abort();
	if (body_read(r, fields, F__MAX, v) != 0)
		return 0;
	if (!v[F_NAME].present || v[F_NAME].len > 16 || strlen(v[F_NAME].str) != v[F_NAME].len ||
	    strchr(v[F_NAME].str, ' ') != NULL)
		abort();
	if (v[F_COUNT].present && (v[F_COUNT].i < -3 || v[F_COUNT].i > 100))
		abort();
	if (v[F_LIST].present && json_object_array_length(v[F_LIST].obj) > 4)
		abort();
	req_json(r, 200, NULL);
	return 0;
}

static const struct route routes[] = {
	{ "POST", "/x", read_fields, ROLE_NONE, ROUTE_PUBLIC | ROUTE_JSON_BODY, "t" },
};

static const struct http_app app = { routes, 1, NULL, NULL, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct req r;
	char *body;

	if (a == NULL || (body = arena_alloc(a, size + 1)) == NULL) {
		arena_free(a);
		return 0;
	}
	memcpy(body, data, size);
	body[size] = '\0';
	req_init(&r, a, NULL, NULL, NULL);
	r.method = "POST";
	r.path = "/x";
	r.content_type = "application/json";
	r.body = body;
	r.body_len = size;
	http_dispatch(&app, &r);
	if (r.status != 200 && r.status != 400 && r.status != 422)
		abort();
	arena_free(a);
	return 0;
}
