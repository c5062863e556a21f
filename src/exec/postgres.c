/* postgres.c (exec): run plan steps in a PostgreSQL warehouse */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "exec/exec.h"
#include "exec/postgres_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strbuf.h"

struct pg_exec {
	PGconn *conn;
	long long rows;       /* rows reported by the last data statement */
	const char *error;    /* the first failure's message */
};

static void pg_close(struct executor *ex)
{
	struct pg_exec *pg = ex->state;

	if (pg != NULL && pg->conn != NULL) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
}

/* Runs one statement; records its row count, or its error (and returns -1). */
static int run_sql(struct pg_exec *pg, struct arena *a, const char *sql, int n,
		   const char *const *params)
{
	PGresult *res;
	ExecStatusType st;
	const char *msg;

	if (pg->error != NULL)
		return -1;
	res = PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (*PQcmdTuples(res) != '\0')
			pg->rows = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		return 0;
	}
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	pg->error = exec_error_text(a, msg ? msg : PQerrorMessage(pg->conn));
	PQclear(res);
	return -1;
}

/* The quoted target "schema"."table" and a scratch name beside it. */
static const char *target(struct arena *a, const struct exec_step *s, const char *suffix)
{
	return arena_printf(a, "\"%s\".\"%s%s\"", s->schema, s->table, suffix);
}

/* Column names of the target table, quoted and comma-joined (for MERGE). */
static const char *update_list(struct pg_exec *pg, struct arena *a, const struct exec_step *s)
{
	static const char sql[] =
		"SELECT string_agg(format('%I = EXCLUDED.%I', attname, attname), ', '"
		" ORDER BY attnum) FROM pg_attribute WHERE attrelid = to_regclass($1)"
		" AND attnum > 0 AND NOT attisdropped";
	const char *p[1] = { target(a, s, "") };
	PGresult *res = PQexecParams(pg->conn, sql, 1, NULL, p, NULL, NULL, 0);
	const char *out = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
		out = arena_strdup(a, PQgetvalue(res, 0, 0));
	else
		pg->error = exec_error_text(a, PQresultErrorMessage(res));
	PQclear(res);
	return out;
}

/* "a, b" → "\"a\", \"b\"" after checking each part is an identifier. */
static const char *key_columns(struct arena *a, const char *keys)
{
	struct strbuf sb;
	char *copy = arena_strdup(a, keys), *tok, *save = NULL;
	int n = 0;

	strbuf_init(&sb, a, 4096);
	for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		if (!exec_ident_ok(tok))
			return NULL;
		strbuf_addf(&sb, "%s\"%s\"", n++ ? ", " : "", tok);
	}
	return n > 0 ? strbuf_cstr(&sb) : NULL;
}

/* "name:type,…" of a relation's columns, or NULL when it does not exist. */
static const char *shape(struct pg_exec *pg, struct arena *a, const char *rel)
{
	static const char sql[] =
		"SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ','"
		" ORDER BY attnum) FROM pg_attribute WHERE attrelid = to_regclass($1)"
		" AND attnum > 0 AND NOT attisdropped";
	const char *p[1] = { rel };
	PGresult *res = PQexecParams(pg->conn, sql, 1, NULL, p, NULL, NULL, 0);
	const char *out = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
		out = arena_strdup(a, PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

/*
 * Builds the new table beside the live one, then swaps it in within the
 * transaction. When the columns are unchanged the rows are swapped instead
 * of the table, so views built on it keep working.
 */
static void build_table(struct pg_exec *pg, struct arena *a, const struct exec_step *s)
{
	const char *live = target(a, s, ""), *fresh = target(a, s, "__il_new");
	const char *old_shape = shape(pg, a, live), *new_shape;
	long long rows;

	if (old_shape == NULL) {
		run_sql(pg, a, arena_printf(a, "CREATE TABLE %s AS %s", live, s->sql), 0, NULL);
		return;
	}
	run_sql(pg, a, arena_printf(a, "DROP TABLE IF EXISTS %s", fresh), 0, NULL);
	run_sql(pg, a, arena_printf(a, "CREATE TABLE %s AS %s", fresh, s->sql), 0, NULL);
	rows = pg->rows;
	new_shape = pg->error == NULL ? shape(pg, a, fresh) : NULL;
	if (new_shape != NULL && strcmp(new_shape, old_shape) == 0) {
		run_sql(pg, a, arena_printf(a, "TRUNCATE %s", live), 0, NULL);
		run_sql(pg, a, arena_printf(a, "INSERT INTO %s SELECT * FROM %s", live, fresh), 0, NULL);
		run_sql(pg, a, arena_printf(a, "DROP TABLE %s", fresh), 0, NULL);
	} else {
		run_sql(pg, a, arena_printf(a, "DROP TABLE %s", live), 0, NULL);
		run_sql(pg, a, arena_printf(a, "ALTER TABLE %s RENAME TO \"%s\"", fresh, s->table),
			0, NULL);
	}
	pg->rows = rows;
}

static void build_view(struct pg_exec *pg, struct arena *a, const struct exec_step *s)
{
	run_sql(pg, a, arena_printf(a, "CREATE OR REPLACE VIEW %s AS %s", target(a, s, ""), s->sql),
		0, NULL);
	pg->rows = -1;
}

/* Creates the table from the query's shape when missing (dropped first when rebuild). */
static void ensure_table(struct pg_exec *pg, struct arena *a, const struct exec_step *s,
			 int rebuild)
{
	if (rebuild)
		run_sql(pg, a, arena_printf(a, "DROP TABLE IF EXISTS %s", target(a, s, "")), 0, NULL);
	run_sql(pg, a, arena_printf(a, "CREATE TABLE IF NOT EXISTS %s AS SELECT * FROM (%s) AS q"
				    " WITH NO DATA", target(a, s, ""), s->sql), 0, NULL);
}

static void build_insert_overwrite(struct pg_exec *pg, struct arena *a,
				   const struct exec_step *s)
{
	const char *p[2] = { s->start, s->end };

	if (s->time_column == NULL || !exec_ident_ok(s->time_column)) {
		pg->error = "INSERT_OVERWRITE needs a valid time_column";
		return;
	}
	ensure_table(pg, a, s, s->full_refresh);
	if (s->start != NULL)
		run_sql(pg, a, arena_printf(a, "DELETE FROM %s WHERE \"%s\" >= $1::date AND \"%s\" < $2::date",
					    target(a, s, ""), s->time_column, s->time_column), 2, p);
	run_sql(pg, a, arena_printf(a, "INSERT INTO %s SELECT * FROM (%s) AS q", target(a, s, ""),
				    s->sql), 0, NULL);
}

static void build_merge(struct pg_exec *pg, struct arena *a, const struct exec_step *s)
{
	const char *keys = s->unique_key ? key_columns(a, s->unique_key) : NULL;
	const char *set;

	if (keys == NULL) {
		pg->error = "MERGE needs a unique_key of valid column names";
		return;
	}
	/* a MERGE always upserts: its FULL_REFRESH run type only means "no range" */
	ensure_table(pg, a, s, 0);
	run_sql(pg, a, arena_printf(a, "CREATE UNIQUE INDEX IF NOT EXISTS \"%s__il_key\" ON %s (%s)",
				    s->table, target(a, s, ""), keys), 0, NULL);
	if (pg->error != NULL || (set = update_list(pg, a, s)) == NULL)
		return;
	run_sql(pg, a, arena_printf(a, "INSERT INTO %s SELECT * FROM (%s) AS q ON CONFLICT (%s)"
				    " DO UPDATE SET %s", target(a, s, ""), s->sql, keys, set),
		0, NULL);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int pg_run(struct executor *ex, struct arena *a, const struct exec_step *s,
		  struct exec_result *res)
{
	struct pg_exec *pg = ex->state;
	struct timespec t0;

	memset(res, 0, sizeof(*res));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pg->error = NULL;
	pg->rows = -1;
	if (!exec_ident_ok(s->schema) || !exec_ident_ok(s->table)) {
		pg->error = "the target schema or table name is not a valid identifier";
	} else if (run_sql(pg, a, "BEGIN", 0, NULL) == 0) {
		if (s->materialization == MAT_VIEW)
			build_view(pg, a, s);
		else if (s->materialization == MAT_INSERT_OVERWRITE)
			build_insert_overwrite(pg, a, s);
		else if (s->materialization == MAT_MERGE)
			build_merge(pg, a, s);
		else
			build_table(pg, a, s);
		if (pg->error == NULL)
			run_sql(pg, a, "COMMIT", 0, NULL);
		else
			PQclear(PQexec(pg->conn, "ROLLBACK"));
	}
	res->ok = pg->error == NULL;
	res->error = pg->error;
	res->rows = pg->rows;
	res->runtime_seconds = seconds_since(&t0);
	return 0;
}

int exec_postgres_connect(struct executor **out, struct arena *a, const char *const *keys,
			  const char *const *vals, int expand_dbname, long statement_timeout_ms)
{
	struct executor *ex = arena_calloc(a, 1, sizeof(*ex));
	struct pg_exec *pg = arena_calloc(a, 1, sizeof(*pg));
	char timeout[64];

	if (ex == NULL || pg == NULL)
		return IL_ENOMEM;
	ex->name = "postgres";
	ex->run = pg_run;
	ex->close = pg_close;
	ex->state = pg;
	pg->conn = PQconnectdbParams(keys, vals, expand_dbname);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		log_error("warehouse connection failed: %s", PQerrorMessage(pg->conn));
		pg_close(ex);
		return IL_EUNAVAIL;
	}
	snprintf(timeout, sizeof(timeout), "SET statement_timeout = %ld", statement_timeout_ms);
	PQclear(PQexec(pg->conn, timeout));
	PQclear(PQexec(pg->conn, "SET client_min_messages = warning"));
	*out = ex;
	return 0;
}

int exec_postgres_open(struct executor **out, struct arena *a, const char *conninfo,
		       const char *user, const char *password, long statement_timeout_ms)
{
	const char *keys[4] = { "dbname", "user", "password", NULL };
	const char *vals[4] = { conninfo, user, password, NULL };

	if (user == NULL)
		keys[1] = NULL;
	return exec_postgres_connect(out, a, keys, vals, 1, statement_timeout_ms);
}
