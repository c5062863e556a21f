/* migrate.c: numbered SQL migrations, each applied once, in order */
#include "db/migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db/db.h"
#include "util/arena.h"
#include "util/error.h"

/* Any constant works; it only has to be the same for every migrate run. */
#define MIGRATE_LOCK_KEY "7245110301"
#define MIGRATE_MAX_FILE (4 * 1024 * 1024)

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version text PRIMARY KEY,"
	" name text NOT NULL,"
	" checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

/* NNN_anything.sql */
static int is_migration_name(const char *n)
{
	size_t len = strlen(n);

	return len > 8 && isdigit((unsigned char)n[0]) && isdigit((unsigned char)n[1]) &&
	       isdigit((unsigned char)n[2]) && n[3] == '_' &&
	       strcmp(n + len - 4, ".sql") == 0;
}

static int read_whole(struct migration *m, struct arena *a, char *err, size_t errlen)
{
	FILE *f = fopen(m->path, "rb");
	struct stat st;
	char *buf = NULL;
	int rc = -1;

	if (f == NULL || fstat(fileno(f), &st) < 0 || st.st_size > MIGRATE_MAX_FILE) {
		snprintf(err, errlen, "cannot read %s: %s", m->path,
			 f == NULL ? strerror(errno) : "too large");
		goto out;
	}
	buf = arena_alloc(a, (size_t)st.st_size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, errlen, "cannot read %s", m->path);
		goto out;
	}
	buf[st.st_size] = '\0';
	m->sql = buf;
	m->sql_len = (size_t)st.st_size;
	crypto_sha256_hex(buf, m->sql_len, m->checksum);
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct migration *)x)->name,
		      ((const struct migration *)y)->name);
}

int migrate_scan(struct migration **out, int *count, struct arena *a,
		 const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct migration *m = NULL;
	int n = 0, cap = 0, i;

	if (d == NULL) {
		snprintf(err, errlen, "cannot open migrations directory %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_migration_name(e->d_name))
			continue;
		if (n == cap) {
			struct migration *bigger;

			cap = cap ? cap * 2 : 16;
			bigger = arena_calloc(a, (size_t)cap, sizeof(*m));
			if (bigger == NULL)
				break;
			if (n)
				memcpy(bigger, m, (size_t)n * sizeof(*m));
			m = bigger;
		}
		m[n].name = arena_strdup(a, e->d_name);
		m[n].version = arena_strndup(a, e->d_name, 3);
		m[n].path = arena_printf(a, "%s/%s", dir, e->d_name);
		if (m[n].name == NULL || m[n].version == NULL || m[n].path == NULL)
			break;
		n++;
	}
	closedir(d);
	if (e != NULL) {
		snprintf(err, errlen, "out of memory reading %s", dir);
		return -1;
	}
	if (n > 0)
		qsort(m, (size_t)n, sizeof(*m), by_name);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(m[i].version, m[i - 1].version) == 0) {
			snprintf(err, errlen, "two migrations share version %s: %s and %s",
				 m[i].version, m[i - 1].name, m[i].name);
			return -1;
		}
		if (read_whole(&m[i], a, err, errlen) < 0)
			return -1;
	}
	*out = m;
	*count = n;
	return 0;
}

struct exec_ctx {
	struct db *db;
	struct arena *a;
};

static int exec_statement(const char *stmt, size_t n, void *arg)
{
	struct exec_ctx *x = arg;
	char *sql = arena_strndup(x->a, stmt, n);

	if (sql == NULL)
		return IL_ENOMEM;
	return db_exec_once(NULL, x->db, x->a, sql, 0, NULL);
}

/* The recorded checksum of version, NULL when not applied; -1 on error. */
static int recorded_checksum(const char **out, struct db *db, struct arena *a,
			     const char *version)
{
	static const char sql[] =
		"SELECT checksum FROM schema_migrations WHERE version = $1";
	const char *params[1] = { version };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 1, params);

	if (rc < 0)
		return rc;
	*out = db_rows(res) == 1 ? db_val(res, 0, 0) : NULL;
	return 0;
}

static int apply_one(struct db *db, struct arena *a, const struct migration *m)
{
	static const char record_sql[] =
		"INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";
	const char *params[3] = { m->version, m->name, m->checksum };
	struct exec_ctx x = { db, a };
	int rc = db_begin(db, a);

	if (rc < 0)
		return rc;
	rc = sql_split(m->sql, m->sql_len, exec_statement, &x);
	if (rc == 0)
		rc = db_exec(NULL, db, a, record_sql, 3, params);
	if (rc == 0)
		return db_commit(db, a);
	db_rollback(db, a);
	return rc;
}

static int apply_pending(struct db *db, struct arena *a, const struct migration *m,
			 int count, FILE *log, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < count; i++) {
		const char *sum;

		if (recorded_checksum(&sum, db, a, m[i].version) < 0) {
			snprintf(err, errlen, "cannot read schema_migrations (see the log)");
			return -1;
		}
		if (sum != NULL) {
			if (strcmp(sum, m[i].checksum) != 0) {
				snprintf(err, errlen,
					 "migration %s was changed after it was applied "
					 "(recorded checksum %.12s…, file %.12s…); "
					 "add a new migration instead of editing it",
					 m[i].name, sum, m[i].checksum);
				return -1;
			}
			continue;
		}
		if (apply_one(db, a, &m[i]) < 0) {
			snprintf(err, errlen,
				 "migration %s failed (see the log); nothing of it was applied",
				 m[i].name);
			return -1;
		}
		if (log != NULL)
			fprintf(log, "applied %s\n", m[i].name);
	}
	return 0;
}

int migrate_apply(struct db *db, struct arena *a, const struct migration *m,
		  int count, FILE *log, char *err, size_t errlen)
{
	static const char lock_sql[] = "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")";
	static const char unlock_sql[] = "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")";
	int rc;

	if (db_exec(NULL, db, a, lock_sql, 0, NULL) < 0) {
		snprintf(err, errlen, "cannot reach the database to lock migrations (see the log)");
		return -1;
	}
	rc = db_exec(NULL, db, a, create_table_sql, 0, NULL);
	if (rc < 0)
		snprintf(err, errlen, "cannot create schema_migrations (see the log)");
	else
		rc = apply_pending(db, a, m, count, log, err, errlen);
	db_exec(NULL, db, a, unlock_sql, 0, NULL);
	return rc;
}

int migrate_check(struct db *db, struct arena *a, const struct migration *m,
		  int count, const char **reason)
{
	static const char sql[] = "SELECT version, checksum FROM schema_migrations";
	PGresult *res;
	int i, row, rc = db_exec(&res, db, a, sql, 0, NULL);

	if (rc == IL_EUNAVAIL) {
		*reason = "database unavailable";
		return rc;
	}
	if (rc < 0) {
		*reason = "migrations not applied";
		return IL_EINVALID;
	}
	for (i = 0; i < count; i++) {
		for (row = 0; row < db_rows(res); row++)
			if (strcmp(db_val(res, row, 0), m[i].version) == 0)
				break;
		if (row == db_rows(res)) {
			*reason = arena_printf(a, "migration %s not applied", m[i].name);
			return IL_EINVALID;
		}
		if (strcmp(db_val(res, row, 1), m[i].checksum) != 0) {
			*reason = arena_printf(a, "migration %s differs from the applied one",
					       m[i].name);
			return IL_EINVALID;
		}
	}
	return 0;
}
