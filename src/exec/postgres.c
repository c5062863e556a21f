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
#include "util/parse.h"

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
	int64_t rows;

	if (pg->error != NULL)
		return -1;
	if ((res = query(pg, a, sql, n, params)) == NULL)
		return -1;
	if (*PQcmdTuples(res) != '\0' &&
	    parse_i64(PQcmdTuples(res), 0, INT64_MAX, &rows) == 0)
		pg->rows = rows;
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
			    arena_printf(a, "cannot connect to the warehouse: "
					 "timed out after %ld s", timeout) :
			    "cannot connect to the warehouse";
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

/*
 * Runs the step's statements (BEGIN … COMMIT, from pg_step_statements: the
 * ones the SQL preview shows) until the first failure, whose message is the
 * run's error; then the transaction is rolled back.
 */
static void build(struct pg_exec *pg, struct arena *a, const struct step_sql *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (run_sql(pg, a, p->sql[i], 0, NULL) < 0)
			break;
	if (pg->error != NULL && i > 0)
		rollback(pg);
}

static int pg_run(struct executor *ex, struct arena *a, const struct exec_step *s,
		  struct exec_result *res)
{
	struct pg_exec *pg = ex->state;
	struct step_sql p;
	struct timespec t0;
	const char *why = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pg->error = NULL;
	pg->rows = -1;
	pg->deadline_ms = s->deadline_ms;
	pg->timeout_s = s->timeout_seconds;
	rc = pg_step_statements(&p, &why, a, s);
	if (rc == IL_ENOMEM)
		return rc;
	if (rc < 0)
		pg->error = why;
	else if (pg->conn != NULL || pg_connect(pg, a, s->deadline_ms) == 0)
		build(pg, a, &p);
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
