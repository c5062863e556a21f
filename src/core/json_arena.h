/* json_arena.h: json-c objects owned by an arena */
#ifndef IL_JSON_ARENA_H
#define IL_JSON_ARENA_H

#include <json-c/json.h>

struct arena;

/*
 * Hands o to arena a: it is released (json_object_put) at the arena's next
 * reset. Returns 0, or -1 when that could not be recorded, in which case o
 * has already been released.
 */
int json_arena_own(struct arena *a, json_object *o);

#endif
