/* body.h: typed, bounded reading of JSON bodies and query parameters */
#ifndef IL_BODY_H
#define IL_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct req;

enum field_type { FIELD_STRING, FIELD_INT, FIELD_BOOL, FIELD_NUMBER, FIELD_OBJECT,
		  FIELD_ARRAY };

/*
 * One declared body field. Strings are bounded by max_len bytes (and must
 * not contain NUL); arrays by max_len items; integers by [min, max].
 * check, when set, is a pure function returning NULL or a message.
 */
struct field {
	const char *name;
	enum field_type type;
	int required;
	size_t max_len;
	int64_t min, max;
	const char *(*check)(const char *value);
};

struct field_value {
	int present;
	const char *str;
	size_t len;
	int64_t i;
	int b;
	double d;
	json_object *obj;    /* borrowed from the request body */
};

/*
 * Reads the declared fields of r->json into out[0..n). Unknown fields are
 * ignored. Returns 0, or 1 after recording a 422 listing every bad field.
 */
int body_read(struct req *r, const struct field *fields, size_t n,
	      struct field_value *out);
/*
 * Like body_read, but only records the failures (returning how many), so a
 * handler can add checks that span fields before req_validation_finish.
 */
int body_collect(struct req *r, const struct field *fields, size_t n,
		 struct field_value *out);

/*
 * Query parameter name as an integer in [min, max], def when absent.
 * Records a 422 entry and returns -1 when invalid (finish with
 * req_validation_finish).
 */
int query_int(struct req *r, const char *name, int64_t def, int64_t min,
	      int64_t max, int64_t *out);

#endif
