/* arena.h: region allocator; everything a request allocates lives here */
#ifndef IL_ARENA_H
#define IL_ARENA_H

#include <stddef.h>

struct arena;

/* A new arena whose blocks hold block_size bytes (0 picks a default). */
struct arena *arena_new(size_t block_size);
/* Runs the cleanups and releases every block; accepts NULL. */
void arena_free(struct arena *a);
/*
 * Runs the registered cleanups (last registered first) and forgets every
 * allocation, keeping only the first block for reuse so a long-lived worker
 * does not grow.
 */
void arena_reset(struct arena *a);

/* n bytes aligned for any type; NULL when memory runs out. */
void *arena_alloc(struct arena *a, size_t n);
/* Zeroed room for count elements of size bytes; NULL on overflow or OOM. */
void *arena_calloc(struct arena *a, size_t count, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Registers fn(ptr) to run at the next reset or free: the hook for objects
 * other libraries allocate (PGresult, json_object, git_repository).
 * Returns 0, or -1 when the hook could not be recorded (fn has then already
 * been called, so nothing leaks).
 */
int arena_on_reset(struct arena *a, void (*fn)(void *), void *ptr);

/* Bytes handed out since the last reset (for tests and benchmarks). */
size_t arena_used(const struct arena *a);
/* Debug knob: make the nth allocation from now fail (0 turns it off). */
void arena_fail_after(struct arena *a, unsigned long nth);

#endif
