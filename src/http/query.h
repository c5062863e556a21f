/* query.h: percent-decoding and query-string parsing */
#ifndef IL_QUERY_H
#define IL_QUERY_H

#include <stddef.h>

struct arena;
struct req;

/*
 * Decodes %XX escapes (and '+' as space when plus_is_space) of s[0..n) into
 * a new arena string. Returns NULL for a malformed escape or a decoded NUL or
 * control byte, which no legitimate parameter contains.
 */
char *percent_decode(struct arena *a, const char *s, size_t n, int plus_is_space);

/*
 * Splits qs ("a=1&b=x%20y") into r->query. Sets r->query_invalid for a bad
 * escape or more than IL_MAX_QUERY_PARAMS parameters.
 */
void query_parse(struct req *r, const char *qs);

#endif
