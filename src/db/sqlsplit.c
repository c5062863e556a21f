/* sqlsplit.c: split an SQL script into statements for PQexecParams */
#include "db/migrate.h"

#include <ctype.h>
#include <string.h>

/* Index just past the quoted run that starts at i (s[i] is the quote). */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q, int backslash)
{
	for (i++; i < len; i++) {
		if (backslash && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return len;
}

static size_t skip_block_comment(const char *s, size_t len, size_t i)
{
	int depth = 0;

	for (; i + 1 < len; i++) {
		if (s[i] == '/' && s[i + 1] == '*') {
			depth++;
			i++;
		} else if (s[i] == '*' && s[i + 1] == '/') {
			i++;
			if (--depth == 0)
				return i + 1;
		}
	}
	return len;
}

/* A dollar-quote tag ($$ or $name$) at i: its length, or 0. */
static size_t dollar_tag(const char *s, size_t len, size_t i)
{
	size_t j = i + 1;

	if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))
		return 0;
	while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_'))
		j++;
	if (j < len && s[j] == '$' && !(j > i + 1 && isdigit((unsigned char)s[i + 1])))
		return j - i + 1;
	return 0;
}

static size_t skip_dollar(const char *s, size_t len, size_t i, size_t tag)
{
	size_t j;

	for (j = i + tag; j + tag <= len; j++)
		if (s[j] == '$' && memcmp(s + j, s + i, tag) == 0)
			return j + tag;
	return len;
}

/* 1 when s[0..n) holds something besides white space and comments. */
static int has_code(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (isspace((unsigned char)s[i])) {
			i++;
		} else if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
			while (i < n && s[i] != '\n')
				i++;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			i = skip_block_comment(s, n, i);
		} else {
			return 1;
		}
	}
	return 0;
}

int sql_split(const char *s, size_t len,
	      int (*fn)(const char *stmt, size_t n, void *arg), void *arg)
{
	size_t i = 0, start = 0, tag;
	int rc;

	while (i < len) {
		char c = s[i];

		if (c == '\'') {
			int esc = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e');

			i = skip_quoted(s, len, i, '\'', esc);
		} else if (c == '"') {
			i = skip_quoted(s, len, i, '"', 0);
		} else if (c == '-' && i + 1 < len && s[i + 1] == '-') {
			while (i < len && s[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			i = skip_block_comment(s, len, i);
		} else if (c == '$' && (tag = dollar_tag(s, len, i)) > 0) {
			i = skip_dollar(s, len, i, tag);
		} else if (c == ';') {
			if (has_code(s + start, i - start) &&
			    (rc = fn(s + start, i - start, arg)) != 0)
				return rc;
			start = ++i;
		} else {
			i++;
		}
	}
	if (has_code(s + start, len - start))
		return fn(s + start, len - start, arg);
	return 0;
}
