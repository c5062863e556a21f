/* migrate.h: numbered SQL migrations, each applied once, in order */
#ifndef IL_MIGRATE_H
#define IL_MIGRATE_H

#include <stddef.h>
#include <stdio.h>

#include "util/crypto.h"

struct arena;
struct db;

struct migration {
	const char *version;   /* "001" */
	const char *name;      /* "001_foundation.sql" */
	const char *path;
	char checksum[IL_SHA256_HEX_LEN + 1];
	const char *sql;
	size_t sql_len;
};

/*
 * Reads dir's NNN_*.sql files, sorted by version. Two files with one version
 * are an error. Returns 0 or -1 with err filled.
 */
int migrate_scan(struct migration **out, int *count, struct arena *a,
		 const char *dir, char *err, size_t errlen);

/*
 * Applies every pending migration under a session advisory lock, each in its
 * own transaction with its checksum recorded. An applied migration whose file
 * changed since is refused. Progress lines go to log (may be NULL).
 * Returns 0 or -1 with err filled.
 */
int migrate_apply(struct db *db, struct arena *a, const struct migration *m,
		  int count, FILE *log, char *err, size_t errlen);

/*
 * 0 when every migration in m is recorded with its checksum; IL_EINVALID with
 * *reason set when one is missing or differs; IL_EUNAVAIL when the database
 * cannot be asked.
 */
int migrate_check(struct db *db, struct arena *a, const struct migration *m,
		  int count, const char **reason);

/*
 * Splits a script into statements on top-level semicolons, honouring quotes,
 * dollar quotes and comments. Calls fn for each non-empty statement and stops
 * at the first non-zero return, which it returns.
 */
int sql_split(const char *sql, size_t len,
	      int (*fn)(const char *stmt, size_t n, void *arg), void *arg);

#endif
