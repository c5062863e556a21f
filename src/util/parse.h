/* parse.h: checked number, boolean and hex parsing */
#ifndef IL_PARSE_H
#define IL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Whole-string decimal integer within [min, max]; 0 or -1. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Whole-string finite decimal number; 0 or -1. */
int parse_double(const char *s, double *out);
/* s as a finite number, or def when it is not one (for numbers we stored ourselves). */
double parse_double_or(const char *s, double def);
/* true/false/yes/no/on/off/1/0, case-insensitive; 0 or -1. */
int parse_bool(const char *s, int *out);
/* The value of one hex digit, or -1. */
int hex_digit(char c);
/* Exactly 2*n hex digits into n bytes; 0 or -1. */
int hex_decode(const char *s, unsigned char *out, size_t n);
/* n bytes as 2*n lower-case hex digits plus NUL into out. */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* 1 when every byte of s is a hex digit and its length is in [min, max]. */
int is_hex_string(const char *s, size_t min, size_t max);

enum ident_flag { IDENT_LEADING_UNDERSCORE = 1 << 0 };
/*
 * 1 when s is a lower-case identifier of 1..max bytes: [a-z][a-z0-9_]*, or
 * [a-z_][a-z0-9_]* with IDENT_LEADING_UNDERSCORE. Such a name is safe to
 * double-quote into SQL. max is IL_MAX_IDENT or less (util/limits.h).
 */
int ident_ok(const char *s, size_t max, unsigned flags);

#endif
