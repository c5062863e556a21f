/* postgres.c (exec): run plan steps in a PostgreSQL warehouse */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "exec/exec.h"
#include "exec/pg_int.h"
#include "exec/postgres_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strbuf.h"

struct pg_exec {
	PGconn *conn;         /* NULL after a drop, until the next step connects again */
	const char **keys, **vals;  /* how it connects (again): PQconnectdbParams' arrays */
	int expand_dbname;
	int tenant;           /* a tenant's server: the worker's environment hidden meanwhile */
	long statement_timeout_ms;
	long connect_timeout_s;
	long long deadline_ms;  /* of the step running (exec_now_ms clock); 0: none */
	long timeout_s;         /* the time the step was given, for the message */
	long long rows;       /* rows reported by the last data statement */
	const char *error;    /* the first failure's message */
};

/* Closes the connection; the warehouse rolls back whatever was in flight. */
static void drop(struct pg_exec *pg)
{
	if (pg->conn != NULL) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
}

static void pg_close(struct executor *ex)
{
	if (ex->state != NULL)
		drop(ex->state);
}

/*
 * One statement under the step's deadline: its result (cleared by the
 * caller), or NULL with pg->error set. A timeout or a broken link drops the
 * connection.
 */
static PGresult *query(struct pg_exec *pg, struct arena *a, const char *sql, int n,
		       const char *const *params)
{
	PGresult *res = NULL;
	ExecStatusType st;
	const char *msg;
	enum pgw_end end;

	if (pg->conn == NULL) {
		pg->error = "the warehouse connection was closed";
		return NULL;
	}
	end = pgw_exec(&res, pg->conn, sql, n, params, pg->deadline_ms);
	if (end == PGW_DONE) {
		st = PQresultStatus(res);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return res;
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		pg->error = exec_error_text(a, msg ? msg : PQerrorMessage(pg->conn));
		PQclear(res);
		return NULL;
	}
	if (end == PGW_TIMED_OUT)
		pg->error = arena_printf(a, "timed out after %ld s; the statement was cancelled",
					 pg->timeout_s);
	else
		pg->error = exec_error_text(a, PQerrorMessage(pg->conn));
	drop(pg);
	return NULL;
}

/* Runs one statement; records its row count, or its error (and returns -1). */
static int run_sql(struct pg_exec *pg, struct arena *a, const char *sql, int n,
		   const char *const *params)
{
	PGresult *res;

	if (pg->error != NULL)
		return -1;
	if ((res = query(pg, a, sql, n, params)) == NULL)
		return -1;
	if (*PQcmdTuples(res) != '\0')
		pg->rows = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

/* Ends the step's transaction after a failure, keeping the failure's message. */
static void rollback(struct pg_exec *pg)
{
	PGresult *res = NULL;

	if (pg->conn == NULL)
		return;
	if (pgw_exec(&res, pg->conn, "ROLLBACK", 0, NULL, pg->deadline_ms) != PGW_DONE ||
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		drop(pg);
	PQclear(res);
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
	PGresult *res = query(pg, a, sql, 1, p);
	const char *out = NULL;

	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		out = arena_strdup(a, PQgetvalue(res, 0, 0));
	else
		pg->error = "the target table has no columns";
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
	PGresult *res = pg->error == NULL ? query(pg, a, sql, 1, p) : NULL;
	const char *out = NULL;

	if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
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

/*
 * The session's settings: the warehouse's own statement_timeout (a first
 * line the SQL may lift; the deadline is the one it cannot) and, from
 * PostgreSQL 14, a check that the client is still there, so a query whose
 * worker died stops within seconds instead of running on.
 */
static int set_up_session(struct pg_exec *pg, struct arena *a)
{
	static const char settings_sql[] =
		"SELECT set_config('statement_timeout', $1, false),"
		" set_config('client_min_messages', 'warning', false)";
	static const char check_sql[] =
		"SELECT set_config('client_connection_check_interval', '1000', false)";
	const char *p[1] = { arena_printf(a, "%ld", pg->statement_timeout_ms) };
	PGresult *res = query(pg, a, settings_sql, 1, p);

	PQclear(res);
	if (res != NULL && PQserverVersion(pg->conn) >= 140000) {
		res = query(pg, a, check_sql, 0, NULL);
		PQclear(res);
	}
	return res != NULL ? 0 : -1;
}

/* PQconnectdbParams with the executor's keywords, the worker's environment hidden for a tenant. */
static PGconn *dial(struct pg_exec *pg, struct arena *a)
{
	struct exec_pg_ambient saved;
	PGconn *c;

	if (pg->tenant && exec_pg_hide_ambient(&saved, a) < 0)
		return NULL;
	c = PQconnectdbParams(pg->keys, pg->vals, pg->expand_dbname);
	if (pg->tenant)
		exec_pg_restore_ambient(&saved);
	return c;
}

/*
 * Connects, giving up after connect_timeout_s seconds (or what is left
 * before the deadline, when that is sooner): the connect_timeout keyword
 * comes last, so no other value counts. 0, or -1 with pg->error set.
 */
static int pg_connect(struct pg_exec *pg, struct arena *a, long long deadline_ms)
{
	long long t0 = exec_now_ms(), left = deadline_ms > 0 ? deadline_ms - t0 : 0;
	long timeout = pg->connect_timeout_s, saved_timeout = pg->timeout_s;
	long long saved_deadline = pg->deadline_ms;
	size_t last;

	if (left > 0 && left / 1000 + 1 < timeout)
		timeout = left / 1000 + 1;
	if (timeout < 2)
		timeout = 2;    /* libpq's least */
	for (last = 0; pg->keys[last + 1] != NULL; last++)
		;
	pg->vals[last] = arena_printf(a, "%ld", timeout);
	pg->conn = pg->vals[last] != NULL ? dial(pg, a) : NULL;
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		log_error("warehouse connection failed: %s",
			  pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		drop(pg);
		pg->error = exec_now_ms() - t0 >= timeout * 1000 - 500 ?
			    arena_printf(a, "cannot connect to the warehouse: timed out after %ld s",
					 timeout) : "cannot connect to the warehouse";
		return -1;
	}
	/* the set-up shares the connection's time */
	pg->deadline_ms = t0 + timeout * 1000;
	pg->timeout_s = timeout;
	if (set_up_session(pg, a) < 0) {
		log_error("warehouse session set-up failed: %s", pg->error);
		/* a session that works without its settings is still bound by the deadlines */
		pg->error = pg->conn != NULL ? NULL :
			    arena_printf(a, "cannot set up the warehouse session: %s", pg->error);
	}
	pg->deadline_ms = saved_deadline;
	pg->timeout_s = saved_timeout;
	return pg->conn != NULL ? 0 : -1;
}

static void build(struct pg_exec *pg, struct arena *a, const struct exec_step *s)
{
	if (run_sql(pg, a, "BEGIN", 0, NULL) < 0)
		return;
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
		rollback(pg);
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
	pg->deadline_ms = s->deadline_ms;
	pg->timeout_s = s->timeout_seconds;
	if (!exec_ident_ok(s->schema) || !exec_ident_ok(s->table))
		pg->error = "the target schema or table name is not a valid identifier";
	else if (pg->conn != NULL || pg_connect(pg, a, s->deadline_ms) == 0)
		build(pg, a, s);
	res->ok = pg->error == NULL;
	res->error = pg->error;
	res->rows = pg->rows;
	res->runtime_seconds = seconds_since(&t0);
	return 0;
}

/* Copies keys and vals, with connect_timeout last (its value set at each connect). */
static int keep_params(struct pg_exec *pg, struct arena *a, const char *const *keys,
		       const char *const *vals)
{
	size_t i, n = 0, count;

	for (count = 0; keys[count] != NULL; count++)
		;
	pg->keys = arena_calloc(a, count + 2, sizeof(*pg->keys));
	pg->vals = arena_calloc(a, count + 2, sizeof(*pg->vals));
	if (pg->keys == NULL || pg->vals == NULL)
		return IL_ENOMEM;
	for (i = 0; i < count; i++) {
		if (strcmp(keys[i], "connect_timeout") == 0)
			continue;
		pg->keys[n] = keys[i];
		pg->vals[n++] = vals[i];
	}
	pg->keys[n] = "connect_timeout";
	return 0;
}

int exec_postgres_connect(struct executor **out, const char **why, struct arena *a,
			  const struct exec_pg_dial *d)
{
	struct executor *ex = arena_calloc(a, 1, sizeof(*ex));
	struct pg_exec *pg = arena_calloc(a, 1, sizeof(*pg));

	*why = NULL;
	if (ex == NULL || pg == NULL || keep_params(pg, a, d->keys, d->vals) < 0)
		return IL_ENOMEM;
	ex->name = "postgres";
	ex->run = pg_run;
	ex->close = pg_close;
	ex->state = pg;
	pg->expand_dbname = d->expand_dbname;
	pg->tenant = d->tenant;
	pg->statement_timeout_ms = d->statement_timeout_ms;
	pg->connect_timeout_s = d->connect_timeout_s;
	if (pg_connect(pg, a, 0) < 0) {
		*why = pg->error;
		return IL_EUNAVAIL;
	}
	*out = ex;
	return 0;
}

int exec_postgres_open(struct executor **out, const char **why, struct arena *a,
		       const char *conninfo, const char *user, const char *password,
		       long statement_timeout_ms, long connect_timeout_s)
{
	const char *keys[4] = { "dbname", "user", "password", NULL };
	const char *vals[4] = { conninfo, user, password, NULL };
	struct exec_pg_dial d = { keys, vals, 1, 0, statement_timeout_ms, connect_timeout_s };

	if (user == NULL)
		keys[1] = NULL;
	return exec_postgres_connect(out, why, a, &d);
}
