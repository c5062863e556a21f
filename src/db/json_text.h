/* json_text.h (db): JSON text of list pages built straight from the rows */
#ifndef IL_DB_JSON_TEXT_H
#define IL_DB_JSON_TEXT_H

#include <stddef.h>

#include <libpq-fe.h>

struct arena;
struct strbuf;

/*
 * Appends JSON text as PostgreSQL writes jsonb ("{"a": 1, "b": [2, 3]}")
 * without the blanks between tokens: the bytes json-c writes for the same
 * value (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), which the
 * API has always sent, without parsing it into a tree and writing it again.
 * NULL appends null.
 */
void db_json_compact(struct strbuf *sb, const char *text);

/* Appends s as a JSON string the way json-c escapes it (NULL: null). */
void db_json_string(struct strbuf *sb, const char *s);

/* A list page's JSON text: a strbuf in the arena, big enough for any page. */
void db_json_page_init(struct strbuf *sb, struct arena *a);

/* The JSON array text of column 0 of every row (each a jsonb text), compacted. */
int db_json_rows_array(const char **json, size_t *len, struct arena *a, const PGresult *res);

#endif
