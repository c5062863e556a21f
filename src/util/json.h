/* json.h: json-c helpers: objects owned by an arena, typed member reads */
#ifndef IL_UTIL_JSON_H
#define IL_UTIL_JSON_H

#include <json-c/json.h>

struct arena;

/*
 * Hands o to arena a: it is released (json_object_put) at the arena's next
 * reset. Returns 0, or -1 when that could not be recorded, in which case o
 * has already been released.
 */
int json_arena_own(struct arena *a, json_object *o);

/*
 * The string o[key] (o itself when key is NULL), or NULL when o is not an
 * object, has no such member, or it is not a string. The text is borrowed.
 */
const char *json_str(json_object *o, const char *key);

#endif
