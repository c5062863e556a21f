/* db.c: one libpq connection per process, parameterised queries, tenant transactions */
#include "db/db.h"

#include <stdint.h>
#include <stdio.h>
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
	db->nstmts = 0;
	db->next_id = 0;
}

/* A new connection knows none of the old one's prepared statements. */
static void forget_statements(struct db *db)
{
	int i;

	for (i = 0; i < db->nstmts; i++)
		free(db->stmts[i].sql);
	db->nstmts = 0;
	db->next_id = 0;
}

void db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_txn = 0;
	forget_statements(db);
}

/* Quiets libpq's NOTICE messages (they would go to stderr unstructured). */
static void ignore_notice(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

/*
 * Our statements filter with "$2::text IS NULL OR col = $2": a plan made for
 * the actual values always looks cheaper to PostgreSQL, so by default it
 * would plan every execution again and the prepared statement would save only
 * the parse. Every query is bound to one tenant's rows by an index on
 * tenant_id, which the generic plan uses as well.
 */
static int use_generic_plans(PGconn *c)
{
	PGresult *res = PQexecParams(c, "SET plan_cache_mode = force_generic_plan", 0, NULL,
				     NULL, NULL, NULL, 0);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		log_error("cannot set plan_cache_mode: %s", PQerrorMessage(c));
	PQclear(res);
	return ok ? 0 : IL_EUNAVAIL;
}

static int connect_now(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	forget_statements(db);
	db->conn = PQconnectdb(db->dsn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_error("database connection failed: %s", PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		return IL_EUNAVAIL;
	}
	PQsetNoticeReceiver(db->conn, ignore_notice, NULL);
	if (use_generic_plans(db->conn) < 0) {
		PQfinish(db->conn);
		db->conn = NULL;
		return IL_EUNAVAIL;
	}
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

/* One statement of a pipeline, and how it is sent. */
struct step {
	const char *sql;
	int n;
	const char *const *params;
	struct db_stmt *stmt;   /* NULL: sent as an unnamed statement */
	int prepare;            /* send the Parse (PQsendPrepare) first */
	PGresult *res;          /* its result once it succeeded (owned) */
};

/* How a pipeline ended. */
enum {
	STEPS_OK = 0,
	STEPS_FAILED = 1,  /* a statement failed; *failed holds its result */
	STEPS_STALE = 2,   /* a prepared statement went stale; running again re-prepares it */
	STEPS_BROKEN = 3   /* the connection broke */
};

/*
 * A hash of the statement's text, eight bytes at a time: every query looks its
 * statement up by text (callers may build SQL at run time, so its address
 * proves nothing), and a byte-wise hash of a kilobyte of SQL showed up in the
 * profile.
 */
static unsigned long hash_sql(const char *sql, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, sql + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, sql + i, len - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	return (unsigned long)(h ^ (h >> 29));
}

/*
 * Chooses how a statement goes out: by name when this connection has it
 * prepared, prepared first when it is new and the cache has room (or it went
 * stale: a fresh name, since the old one may still exist on the server),
 * unnamed otherwise.
 */
static void plan_step(struct db *db, struct step *s, const char *sql, int n,
		      const char *const *params, int cacheable)
{
	size_t len = strlen(sql);
	unsigned long h = hash_sql(sql, len);
	struct db_stmt *st = NULL;
	int i;

	*s = (struct step){ .sql = sql, .n = n, .params = params };
	if (!cacheable)
		return;
	for (i = 0; i < db->nstmts && st == NULL; i++)
		if (db->stmts[i].hash == h && db->stmts[i].len == len &&
		    memcmp(db->stmts[i].sql, sql, len) == 0)
			st = &db->stmts[i];
	if (st != NULL && st->ready) {
		s->stmt = st;
		return;
	}
	if (st == NULL) {
		char *copy;

		if (db->nstmts == DB_STMT_CACHE || (copy = strdup(sql)) == NULL)
			return;
		st = &db->stmts[db->nstmts++];
		*st = (struct db_stmt){ .hash = h, .len = len, .sql = copy };
	}
	st->id = db->next_id++;
	st->ready = 0;
	s->stmt = st;
	s->prepare = 1;
}

static void stmt_name(char *buf, size_t len, const struct db_stmt *st)
{
	snprintf(buf, len, "il_%u", st->id);
}

static int send_step(PGconn *c, const struct step *s)
{
	char name[24];

	if (s->stmt == NULL)
		return PQsendQueryParams(c, s->sql, s->n, NULL, s->params, NULL, NULL, 0) == 1;
	stmt_name(name, sizeof(name), s->stmt);
	if (s->prepare && PQsendPrepare(c, name, s->sql, s->n, NULL) != 1)
		return 0;
	return PQsendQueryPrepared(c, name, s->n, s->params, NULL, NULL, 0) == 1;
}

/* The next command's result in a pipeline and the NULL that ends it; NULL when the link broke. */
static PGresult *next_result(PGconn *c)
{
	PGresult *res = PQgetResult(c), *more;

	if (res == NULL)
		return NULL;
	while ((more = PQgetResult(c)) != NULL)
		PQclear(more);
	return res;
}

static int result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/*
 * A statement whose prepared form no longer fits: its result type changed
 * under it (ALTER TABLE by a migration: "cached plan must not change result
 * type") or the server forgot the name. Re-preparing it fixes both.
 */
static int stale_statement(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state != NULL && (strcmp(state, "0A000") == 0 || strcmp(state, "26000") == 0);
}

/*
 * Reads the results of one step (the Parse's, then the statement's). The
 * first failure goes to *failed; after it the server skips the rest up to the
 * sync. 0, or -1 when the link broke.
 */
static int read_step(PGconn *c, struct step *s, PGresult **failed, struct step **failed_step)
{
	PGresult *res;
	int k;

	for (k = s->prepare ? 0 : 1; k < 2; k++) {
		if ((res = next_result(c)) == NULL)
			return -1;
		if (result_ok(res) && *failed == NULL) {
			if (k == 1) {
				s->res = res;
				continue;
			}
			s->stmt->ready = 1;
			PQclear(res);
			continue;
		}
		if (*failed == NULL && PQresultStatus(res) != PGRES_PIPELINE_ABORTED) {
			*failed = res;
			*failed_step = s;
		} else {
			PQclear(res);
		}
		if (PQstatus(c) == CONNECTION_BAD)
			return -1;
	}
	return 0;
}

static void clear_steps(struct step *steps, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		PQclear(steps[i].res);
		steps[i].res = NULL;
	}
}

/*
 * A schema change seldom touches one statement only: every statement is
 * prepared again under a fresh name on its next use. (The old names stay on
 * the server until the connection closes; there are at most DB_STMT_CACHE.)
 */
static void mark_all_stale(struct db *db)
{
	int i;

	for (i = 0; i < db->nstmts; i++)
		db->stmts[i].ready = 0;
}

/*
 * Sends every step and one sync together (libpq pipeline mode: one round
 * trip) and reads every result. STEPS_OK leaves each step's result in
 * steps[i].res; otherwise none is kept and, for STEPS_FAILED, *failed holds
 * the failing result (the caller clears it).
 */
static int run_steps(struct db *db, struct step *steps, int n, PGresult **failed)
{
	PGconn *c = db->conn;
	struct step *bad = NULL;
	PGresult *sync;
	int i, ok = PQenterPipelineMode(c) == 1;

	*failed = NULL;
	for (i = 0; ok && i < n; i++)
		ok = send_step(c, &steps[i]);
	ok = ok && PQpipelineSync(c) == 1;
	for (i = 0; ok && i < n; i++)
		ok = read_step(c, &steps[i], failed, &bad) == 0;
	if (ok) {
		sync = PQgetResult(c);
		ok = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
		PQclear(sync);
	}
	ok = PQexitPipelineMode(c) == 1 && ok;
	if (ok && *failed == NULL)
		return STEPS_OK;
	clear_steps(steps, n);
	if (!ok || PQstatus(c) == CONNECTION_BAD) {
		PQclear(*failed);
		*failed = NULL;
		return STEPS_BROKEN;
	}
	/* a statement prepared in this very pipeline cannot be stale */
	if (bad->stmt != NULL && !bad->prepare && stale_statement(*failed)) {
		mark_all_stale(db);
		PQclear(*failed);
		*failed = NULL;
		return STEPS_STALE;
	}
	return STEPS_FAILED;
}

/* The code for a failed statement's result (logged, then cleared). */
static int failure_code(PGresult *res)
{
	int rc = map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));

	if (rc == IL_ERR)
		log_error("query failed: %s", PQresultErrorMessage(res));
	else
		log_debug("query rejected: %s", PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

/* Hands res to *out until the arena resets, or clears it when out is NULL. */
static int keep_result(PGresult **out, struct arena *a, PGresult *res)
{
	if (out == NULL) {
		PQclear(res);
		return 0;
	}
	if (res != NULL && arena_on_reset(a, clear_result, res) < 0)
		return IL_ENOMEM;
	*out = res;
	return 0;
}

/*
 * One statement. Outside a transaction a broken connection (the server
 * restarted since our last query) is reopened and a stale prepared statement
 * re-prepared, each once; inside one, the transaction is lost either way, so
 * the caller gets IL_EUNAVAIL and the next request starts afresh.
 */
static int exec_statement(PGresult **out, struct db *db, struct arena *a, const char *sql,
			  int nparams, const char *const *params, int cacheable)
{
	struct step s;
	PGresult *failed;
	int attempt;

	if (out != NULL)
		*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(db) < 0)
			return IL_EUNAVAIL;
		plan_step(db, &s, sql, nparams, params, cacheable);
		switch (run_steps(db, &s, 1, &failed)) {
		case STEPS_OK:
			return keep_result(out, a, s.res);
		case STEPS_FAILED:
			return failure_code(failed);
		case STEPS_STALE:
			log_warn("prepared statement went stale (schema change); re-preparing");
			if (db->in_txn)
				return IL_EUNAVAIL;   /* the transaction is lost: a clean 503 */
			continue;
		default:
			if (db->in_txn || attempt > 0) {
				log_error("database connection lost: %s", PQerrorMessage(db->conn));
				return IL_EUNAVAIL;
			}
			log_warn("database connection lost; reconnecting");
			if (connect_now(db) < 0)
				return IL_EUNAVAIL;
		}
	}
	return IL_EUNAVAIL;
}

int db_exec(PGresult **out, struct db *db, struct arena *a, const char *sql,
	    int nparams, const char *const *params)
{
	return exec_statement(out, db, a, sql, nparams, params, 1);
}

int db_exec_once(PGresult **out, struct db *db, struct arena *a, const char *sql,
		 int nparams, const char *const *params)
{
	return exec_statement(out, db, a, sql, nparams, params, 0);
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
 * BEGIN, the tenant binding and, when sql is not NULL, the request's first
 * statement, in one round trip; each by name once prepared. Reconnects or
 * re-prepares once (nothing was open before: the retry is safe).
 */
int db_begin_tenant_and(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
			const char *sql, int nparams, const char *const *params)
{
	static const char bind_sql[] = "SELECT set_config('app.tenant_id', $1, true)";
	const char *bind_params[1] = { tenant_id };
	struct step steps[3];
	PGresult *failed;
	int attempt, n = sql != NULL ? 3 : 2;

	if (out != NULL)
		*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(db) < 0)
			return IL_EUNAVAIL;
		plan_step(db, &steps[0], "BEGIN", 0, NULL, 1);
		plan_step(db, &steps[1], bind_sql, 1, bind_params, 1);
		if (sql != NULL)
			plan_step(db, &steps[2], sql, nparams, params, 1);
		switch (run_steps(db, steps, n, &failed)) {
		case STEPS_OK:
			db->in_txn = 1;
			PQclear(steps[0].res);
			PQclear(steps[1].res);
			return keep_result(out, a, sql != NULL ? steps[2].res : NULL);
		case STEPS_FAILED:
			log_error("cannot open a tenant transaction: %s", PQresultErrorMessage(failed));
			PQclear(failed);
			db->in_txn = 1;   /* whatever opened is rolled back */
			db_rollback(db, a);
			return IL_ERR;
		case STEPS_STALE:
			log_warn("prepared statement went stale (schema change); re-preparing");
			db->in_txn = 1;
			db_rollback(db, a);
			continue;
		default:
			/* the server went away since our last query: reconnect once */
			log_warn("database connection lost; reconnecting");
			if (connect_now(db) < 0)
				return IL_EUNAVAIL;
		}
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
