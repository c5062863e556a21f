/* db.c: one libpq connection per process, parameterised queries, tenant transactions */
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/error.h"
#include "util/log.h"

void db_init(struct db *db, const char *dsn)
{
	db->conn = NULL;
	db->dsn = dsn;
	db->in_txn = 0;
	db->generation = 0;
}

void db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_txn = 0;
}

/* Quiets libpq's NOTICE messages (they would go to stderr unstructured). */
static void ignore_notice(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

static int connect_now(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = PQconnectdb(db->dsn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_error("database connection failed: %s", PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		return IL_EUNAVAIL;
	}
	PQsetNoticeReceiver(db->conn, ignore_notice, NULL);
	db->generation++;
	return 0;
}

static int ensure_connected(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	return connect_now(db);
}

static int map_sqlstate(const char *state)
{
	if (state == NULL)
		return IL_ERR;
	if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
		return IL_ECONFLICT;
	if (strcmp(state, "23503") == 0)
		return IL_ENOTFOUND;
	if (strncmp(state, "22", 2) == 0 || strcmp(state, "23514") == 0)
		return IL_EINVALID;
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0)
		return IL_EUNAVAIL;
	return IL_ERR;
}

static void clear_result(void *res)
{
	PQclear(res);
}

static PGresult *run(struct db *db, const char *sql, int n, const char *const *params)
{
	return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
}

int db_exec(PGresult **out, struct db *db, struct arena *a, const char *sql,
	    int nparams, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ensure_connected(db) < 0)
		return IL_EUNAVAIL;
	res = run(db, sql, nparams, params);
	if (PQstatus(db->conn) == CONNECTION_BAD && !db->in_txn) {
		/* the server went away since our last query: reconnect once */
		PQclear(res);
		if (connect_now(db) < 0)
			return IL_EUNAVAIL;
		res = run(db, sql, nparams, params);
	}
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out == NULL || arena_on_reset(a, clear_result, res) < 0) {
			if (out == NULL)
				PQclear(res);
			return out == NULL ? 0 : IL_ENOMEM;
		}
		*out = res;
		return 0;
	}
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		log_error("database connection lost: %s", PQerrorMessage(db->conn));
		rc = IL_EUNAVAIL;
	} else {
		rc = map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		if (rc == IL_ERR)
			log_error("query failed: %s", PQresultErrorMessage(res));
		else
			log_debug("query rejected: %s", PQresultErrorMessage(res));
	}
	PQclear(res);
	return rc;
}

int db_exec_one(PGresult **out, struct db *db, struct arena *a, const char *sql,
		int nparams, const char *const *params)
{
	int rc = db_exec(out, db, a, sql, nparams, params);

	if (rc == 0 && db_rows(*out) != 1)
		return IL_ENOTFOUND;
	return rc;
}

int db_exec_value(const char **value, struct db *db, struct arena *a, const char *sql,
		  int nparams, const char *const *params)
{
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, nparams, params);

	if (rc == 0)
		*value = db_val(res, 0, 0);
	return rc;
}

int db_begin(struct db *db, struct arena *a)
{
	int rc = db_exec(NULL, db, a, "BEGIN", 0, NULL);

	if (rc == 0)
		db->in_txn = 1;
	return rc;
}

int db_commit(struct db *db, struct arena *a)
{
	int rc = db_exec(NULL, db, a, "COMMIT", 0, NULL);

	db->in_txn = 0;
	return rc;
}

void db_rollback(struct db *db, struct arena *a)
{
	if (!db->in_txn)
		return;
	db->in_txn = 0;
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		db_exec(NULL, db, a, "ROLLBACK", 0, NULL);
}

/*
 * Sends BEGIN, the set_config and, when sql is not NULL, one more statement
 * together (libpq pipeline mode: one round trip) and reads every result;
 * *extra gets the last statement's result (the caller clears it). 0, or -1
 * when a statement failed or the connection broke.
 */
static int begin_pipelined(PGresult **extra, PGconn *c, const char *tenant_id,
			   const char *sql, int n, const char *const *params)
{
	static const char bind_sql[] = "SELECT set_config('app.tenant_id', $1, true)";
	const char *bind_params[1] = { tenant_id };
	int ok, nulls = 0, expect = sql ? 3 : 2, seen = 0;

	*extra = NULL;
	if (PQenterPipelineMode(c) != 1)
		return -1;
	ok = PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
	     PQsendQueryParams(c, bind_sql, 1, NULL, bind_params, NULL, NULL, 0) == 1 &&
	     (sql == NULL || PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0) == 1) &&
	     PQpipelineSync(c) == 1;
	while (ok) {
		PGresult *res = PQgetResult(c);
		ExecStatusType st;

		if (res == NULL) {
			/* one NULL ends each statement's results; more means a dead link */
			if (++nulls > expect || PQstatus(c) == CONNECTION_BAD)
				ok = 0;
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			ok = 0;   /* keep reading up to the sync */
		if (++seen == 3 && ok) {
			*extra = res;
		} else {
			PQclear(res);
		}
		if (!ok && PQstatus(c) == CONNECTION_BAD)
			break;
	}
	if (PQexitPipelineMode(c) != 1)
		ok = 0;
	if (!ok && *extra != NULL) {
		PQclear(*extra);
		*extra = NULL;
	}
	return ok ? 0 : -1;
}

int db_begin_tenant_and(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
			const char *sql, int nparams, const char *const *params)
{
	PGresult *res = NULL;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(db) < 0)
			return IL_EUNAVAIL;
		if (begin_pipelined(&res, db->conn, tenant_id, sql, nparams, params) == 0) {
			db->in_txn = 1;
			if (res != NULL && (out == NULL || arena_on_reset(a, clear_result, res) < 0)) {
				if (out == NULL)
					PQclear(res);
				res = NULL;
			}
			if (out != NULL)
				*out = res;
			return 0;
		}
		if (PQstatus(db->conn) != CONNECTION_BAD) {
			log_error("cannot open a tenant transaction: %s", PQerrorMessage(db->conn));
			db->in_txn = 1;   /* whatever opened is rolled back */
			db_rollback(db, a);
			return IL_ERR;
		}
		/* the server went away since our last query: reconnect once */
		log_warn("database connection lost; reconnecting");
		if (connect_now(db) < 0)
			return IL_EUNAVAIL;
	}
	return IL_EUNAVAIL;
}

int db_begin_tenant(struct db *db, struct arena *a, const char *tenant_id)
{
	return db_begin_tenant_and(NULL, db, a, tenant_id, NULL, 0, NULL);
}

int db_advisory_try_lock(int *got, struct db *db, struct arena *a, const char *key)
{
	static const char sql[] = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";
	const char *p[1] = { key };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 1, p);

	*got = rc == 0 && strcmp(db_val(res, 0, 0), "t") == 0;
	return rc;
}

int db_advisory_lock(struct db *db, struct arena *a, const char *key)
{
	static const char sql[] = "SELECT pg_advisory_lock(hashtextextended($1, 0))";
	const char *p[1] = { key };

	return db_exec(NULL, db, a, sql, 1, p);
}

int db_advisory_unlock(struct db *db, struct arena *a, const char *key)
{
	static const char sql[] = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";
	const char *p[1] = { key };

	return db_exec(NULL, db, a, sql, 1, p);
}

const char *db_val(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

long db_long(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);

	return v != NULL ? strtol(v, NULL, 10) : 0;
}

int db_rows(const PGresult *res)
{
	return PQntuples(res);
}
