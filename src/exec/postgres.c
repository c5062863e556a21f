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
static int run_sql(struct pg_exec *pg, struct arena *a, const char *sql)
{
	PGresult *res;
	ExecStatusType st;
	const char *msg;

	if (pg->error != NULL)
		return -1;
	res = PQexecParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
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

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Runs the step's statements (BEGIN … COMMIT, from pg_step_statements, the
 * ones the SQL preview shows) until the first failure, whose message is the
 * run's error; then the transaction is rolled back.
 */
static int pg_run(struct executor *ex, struct arena *a, const struct exec_step *s,
		  struct exec_result *res)
{
	struct pg_exec *pg = ex->state;
	struct step_sql p;
	struct timespec t0;
	const char *why = NULL;
	int i, rc;

	memset(res, 0, sizeof(*res));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pg->error = NULL;
	pg->rows = -1;
	rc = pg_step_statements(&p, &why, a, s);
	if (rc == IL_ENOMEM)
		return rc;
	if (rc < 0)
		pg->error = why;
	for (i = 0; rc == 0 && i < p.n; i++)
		if (run_sql(pg, a, p.sql[i]) < 0)
			break;
	if (rc == 0 && pg->error != NULL && i > 0)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
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
