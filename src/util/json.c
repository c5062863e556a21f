/* json.c: json-c helpers: objects owned by an arena, typed member reads */
#include "util/json.h"

#include "util/arena.h"

static void put(void *o)
{
	json_object_put(o);
}

int json_arena_own(struct arena *a, json_object *o)
{
	return arena_on_reset(a, put, o);
}

const char *json_str(json_object *o, const char *key)
{
	json_object *v = o;

	if (key != NULL && (o == NULL || !json_object_is_type(o, json_type_object) ||
			    !json_object_object_get_ex(o, key, &v)))
		return NULL;
	return v != NULL && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}
