/* body.c: typed, bounded reading of JSON bodies and query parameters */
#include "http/body.h"

#include <stdio.h>
#include <string.h>

#include "http/req.h"
#include "util/arena.h"
#include "util/parse.h"

static const char *type_message(enum field_type t, const char **type)
{
	switch (t) {
	case FIELD_STRING:
		*type = "string_type";
		return "Input should be a valid string";
	case FIELD_INT:
		*type = "int_type";
		return "Input should be a valid integer";
	case FIELD_BOOL:
		*type = "bool_type";
		return "Input should be a valid boolean";
	case FIELD_NUMBER:
		*type = "float_type";
		return "Input should be a valid number";
	case FIELD_OBJECT:
		*type = "dict_type";
		return "Input should be a valid dictionary";
	case FIELD_ARRAY:
		*type = "list_type";
		return "Input should be a valid list";
	}
	*type = "type_error";
	return "Input has the wrong type";
}

static int type_ok(json_object *v, enum field_type t)
{
	switch (t) {
	case FIELD_STRING:
		return json_object_is_type(v, json_type_string);
	case FIELD_INT:
		return json_object_is_type(v, json_type_int);
	case FIELD_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case FIELD_NUMBER:
		return json_object_is_type(v, json_type_int) ||
		       json_object_is_type(v, json_type_double);
	case FIELD_OBJECT:
		return json_object_is_type(v, json_type_object);
	case FIELD_ARRAY:
		return json_object_is_type(v, json_type_array);
	}
	return 0;
}

/* Checks bounds of a well-typed value and fills out; NULL or a message. */
static const char *read_value(struct req *r, const struct field *f, json_object *v,
			      struct field_value *out, const char **type)
{
	out->obj = v;
	switch (f->type) {
	case FIELD_STRING:
		out->str = json_object_get_string(v);
		out->len = (size_t)json_object_get_string_len(v);
		*type = "string_too_long";
		if (strlen(out->str) != out->len)
			return "String should not contain NUL characters";
		if (f->max_len && out->len > f->max_len)
			return arena_printf(r->arena, "String should have at most %zu characters",
					    f->max_len);
		*type = "value_error";
		return f->check ? f->check(out->str) : NULL;
	case FIELD_INT:
		out->i = json_object_get_int64(v);
		*type = "range_error";
		if (out->i < f->min || out->i > f->max)
			return arena_printf(r->arena, "Input should be between %lld and %lld",
					    (long long)f->min, (long long)f->max);
		return NULL;
	case FIELD_ARRAY:
		*type = "too_long";
		if (f->max_len && json_object_array_length(v) > f->max_len)
			return arena_printf(r->arena, "List should have at most %zu items",
					    f->max_len);
		return NULL;
	case FIELD_BOOL:
		out->b = json_object_get_boolean(v);
		return NULL;
	case FIELD_NUMBER:
		out->d = json_object_get_double(v);
		return NULL;
	case FIELD_OBJECT:
		return NULL;
	}
	return NULL;
}

int body_read(struct req *r, const struct field *fields, size_t n,
	      struct field_value *out)
{
	body_collect(r, fields, n, out);
	return req_validation_finish(r);
}

int body_collect(struct req *r, const struct field *fields, size_t n,
		 struct field_value *out)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		json_object *v = NULL;
		const char *msg, *type = "value_error";

		memset(&out[i], 0, sizeof(out[i]));
		if (r->json == NULL || !json_object_object_get_ex(r->json, f->name, &v) ||
		    json_object_is_type(v, json_type_null)) {
			if (f->required) {
				req_invalid(r, "body", f->name, "Field required", "missing");
				bad++;
			}
			continue;
		}
		if (!type_ok(v, f->type)) {
			msg = type_message(f->type, &type);
			req_invalid(r, "body", f->name, msg, type);
			bad++;
			continue;
		}
		msg = read_value(r, f, v, &out[i], &type);
		if (msg != NULL) {
			req_invalid(r, "body", f->name, msg, type);
			bad++;
			continue;
		}
		out[i].present = 1;
	}
	return bad;
}

int query_int(struct req *r, const char *name, int64_t def, int64_t min,
	      int64_t max, int64_t *out)
{
	const char *v = req_query(r, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (parse_i64(v, INT64_MIN, INT64_MAX, out) < 0) {
		req_invalid(r, "query", name,
			    "Input should be a valid integer, unable to parse string as an integer",
			    "int_parsing");
		return -1;
	}
	if (*out < min) {
		req_invalid(r, "query", name,
			    arena_printf(r->arena, "Input should be greater than or equal to %lld",
					 (long long)min), "greater_than_equal");
		return -1;
	}
	if (*out > max) {
		req_invalid(r, "query", name,
			    arena_printf(r->arena, "Input should be less than or equal to %lld",
					 (long long)max), "less_than_equal");
		return -1;
	}
	return 0;
}
