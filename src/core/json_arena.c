/* json_arena.c: json-c objects owned by an arena */
#include "core/json_arena.h"

#include "util/arena.h"

static void put(void *o)
{
	json_object_put(o);
}

int json_arena_own(struct arena *a, json_object *o)
{
	return arena_on_reset(a, put, o);
}
