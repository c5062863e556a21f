/* strbuf.h: arena-backed growable string with a hard maximum */
#ifndef IL_STRBUF_H
#define IL_STRBUF_H

#include <stddef.h>

struct arena;

/*
 * An append past max, or a failed allocation, marks the buffer failed and
 * every later append is a no-op, so a chain of appends needs one check at
 * the end. buf is always NUL-terminated while not failed.
 */
struct strbuf {
	struct arena *arena;
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	int failed;
};

void strbuf_init(struct strbuf *sb, struct arena *a, size_t max);
int strbuf_add(struct strbuf *sb, const void *data, size_t n);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addc(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int strbuf_add_json_string(struct strbuf *sb, const char *s, size_t n);
/* The text so far, or NULL when the buffer failed. */
const char *strbuf_cstr(const struct strbuf *sb);

#endif
