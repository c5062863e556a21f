/* db.c: one libpq connection per process, parameterised queries, tenant transactions */
#include "db/db.h"
#include "db/pipeline.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parse.h"

void db_init(struct db *db, const char *dsn)
{
	db->conn = NULL;
	db->dsn = dsn;
	db->in_txn = 0;
	db->generation = 0;
	db->nstmts = 0;
	db->next_id = 0;
	memset(&db->open, 0, sizeof(db->open));
	db->unread = 0;
	db->wrote = 0;
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
	db->unread = 0;
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
	db->unread = 0;
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
 * What goes out in front of a request's statements. A deferred opening (the
 * read's first pipeline) is the check, which binds the tenant itself, and no
 * BEGIN: every Execute up to a Sync runs in one implicit transaction, so the
 * binding (set_config(..., true): local to the transaction) holds for the
 * statements behind it and ends at the Sync, and a failing check aborts the
 * rest. Statements after that pipeline in the same request (db->open.rebind)
 * open a real transaction first, bound again, as db_begin_tenant_and does.
 */
enum opening { OPEN_NONE, OPEN_CHECKED, OPEN_REBOUND };
enum { CHECKED_CHECK, CHECKED_STEPS };
enum { REBOUND_BEGIN, REBOUND_BIND, REBOUND_STEPS };

static const char bind_sql[] = "SELECT set_config('app.tenant_id', $1, true)";

static enum opening opening_of(const struct db *db)
{
	if (db->open.pending)
		return OPEN_CHECKED;
	if (db->open.rebind && !db->in_txn)
		return OPEN_REBOUND;
	return OPEN_NONE;
}

/* Plans the opening's steps; returns how many. */
static int plan_opening(struct db *db, struct step *steps, enum opening kind,
			const char *const *bind_params)
{
	if (kind == OPEN_CHECKED) {
		db_pipe_plan(db, &steps[CHECKED_CHECK], db->open.check_sql, db->open.ncheck,
			  db->open.check_params, 1);
		steps[CHECKED_CHECK].keep = 1;
		return CHECKED_STEPS;
	}
	if (kind == OPEN_REBOUND) {
		db_pipe_plan(db, &steps[REBOUND_BEGIN], "BEGIN", 0, NULL, 1);
		db_pipe_plan(db, &steps[REBOUND_BIND], bind_sql, 1, bind_params, 1);
		return REBOUND_STEPS;
	}
	return 0;
}

/* ROLLBACK of an open transaction, keeping the request's state (db_rollback ends the request). */
static void rollback_txn(struct db *db, struct arena *a)
{
	int rebind = db->open.rebind;

	if (!db->in_txn)
		return;
	db->in_txn = 0;
	db->open.rebind = 0;   /* the ROLLBACK itself opens nothing */
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		db_exec(NULL, db, a, "ROLLBACK", 0, NULL);
	db->open.rebind = rebind;
}

/*
 * An opening failed at step bad. A deferred opening's implicit transaction
 * ended at its Sync: at the check (other than for a lost connection) the
 * caller is refused; after it, the check passed and the opener still learns
 * who called. A rebound opening's BEGIN left a transaction block: failing in
 * front of the caller's statements, it is rolled back here; failing at one
 * of them, the caller's rollback ends it.
 */
static int opening_failed(struct db *db, struct arena *a, enum opening kind,
			  struct step *steps, int bad, PGresult *failed)
{
	int rc = map_sqlstate(PQresultErrorField(failed, PG_DIAG_SQLSTATE));
	/* the steps in front of the check, or of the caller's statements */
	int nopen = kind == OPEN_CHECKED ? CHECKED_CHECK : REBOUND_STEPS;

	db->open.pending = 0;
	db->in_txn = kind == OPEN_REBOUND;
	if (kind == OPEN_CHECKED && bad == CHECKED_CHECK && rc != IL_EUNAVAIL) {
		log_info("session refused: %s", PQresultErrorMessage(failed));
		PQclear(failed);
		db->open.refused = 1;
		return IL_ERR;
	}
	if (bad < nopen) {
		log_error("cannot open a tenant transaction: %s", PQresultErrorMessage(failed));
		PQclear(failed);
		rollback_txn(db, a);
		db->open.refused = 2;   /* nothing else runs unbound */
		return IL_ERR;
	}
	db->open.rebind = 1;
	if (kind == OPEN_CHECKED && db->open.opened != NULL)
		db->open.opened(db->open.arg, steps[CHECKED_CHECK].res, 0);
	return failure_code(failed);
}

static void clear_opening(struct step *steps, int k)
{
	int i;

	for (i = 0; i < k; i++) {
		PQclear(steps[i].res);
		steps[i].res = NULL;
	}
}

/*
 * The opening went through: a deferred one leaves no transaction open (its
 * Sync ended it) and tells the opener what the check said; a rebound one
 * leaves its transaction open. Returns the opener's answer (see db_opened_fn).
 */
static int opening_done(struct db *db, enum opening kind, struct step *steps, int n)
{
	int rc = 0;

	if (kind == OPEN_REBOUND) {
		db->in_txn = 1;
	} else if (kind == OPEN_CHECKED) {
		db->open.pending = 0;
		db->open.rebind = 1;
		if (db->open.opened != NULL)
			rc = db->open.opened(db->open.arg, steps[CHECKED_CHECK].res, n > 0);
	}
	clear_opening(steps, kind == OPEN_CHECKED ? CHECKED_STEPS :
			     kind == OPEN_REBOUND ? REBOUND_STEPS : 0);
	return rc;
}

/*
 * Statements qs[0..n) in one round trip, behind a deferred opening when one
 * is pending. Outside a transaction (or behind the opening, which has
 * nothing open yet) a broken connection (the server restarted since our last
 * query) is reopened and a stale prepared statement re-prepared, each once;
 * inside one, the transaction is lost either way, so the caller gets
 * IL_EUNAVAIL and the next request starts afresh.
 */
static int exec_queries(PGresult **outs, struct db *db, struct arena *a,
			const struct db_query *qs, int n, int cacheable)
{
	struct step steps[CHECKED_STEPS + DB_BATCH_MAX];
	const char *bind_params[1];
	PGresult *failed;
	int attempt, i, k, bad = 0, rc;

	for (i = 0; outs != NULL && i < n; i++)
		outs[i] = NULL;
	for (attempt = 0; attempt < 3; attempt++) {
		enum opening opening = opening_of(db);

		if (db->open.refused)
			return IL_ERR;
		if (ensure_connected(db) < 0)
			return IL_EUNAVAIL;
		bind_params[0] = db->open.tenant_id;
		k = plan_opening(db, steps, opening, bind_params);
		for (i = 0; i < n; i++)
			db_pipe_plan(db, &steps[k + i], qs[i].sql, qs[i].nparams, qs[i].params,
				  cacheable);
		switch (db_pipe_run(db, steps, k + n, &failed, &bad)) {
		case STEPS_OK:
			if ((rc = opening_done(db, opening, steps, n)) != 0) {
				db_pipe_clear(steps + k, n, 1);
				if (rc < 0)
					return rc;
				/* the opener changed state: read it again */
				return exec_queries(outs, db, a, qs, n, cacheable);
			}
			for (i = 0; i < n; i++)
				if ((rc = keep_result(outs ? &outs[i] : NULL, a,
						      steps[k + i].res)) < 0) {
					db_pipe_clear(steps + k + i + 1, n - i - 1, 1);
					return rc;
				}
			return 0;
		case STEPS_FAILED:
			if (opening != OPEN_NONE) {
				rc = opening_failed(db, a, opening, steps, bad, failed);
				clear_opening(steps, k);
				return rc;
			}
			return failure_code(failed);
		case STEPS_STALE:
			log_warn("prepared statement went stale (schema change); re-preparing");
			if (opening == OPEN_REBOUND) {
				db->in_txn = 1;   /* BEGIN ran: roll it back, open again */
				rollback_txn(db, a);
				continue;
			}
			if (opening == OPEN_CHECKED)
				continue;   /* the Sync ended the implicit transaction */
			if (db->in_txn)
				return IL_EUNAVAIL;   /* the transaction is lost: a clean 503 */
			continue;
		default:
			if ((db->in_txn && opening == OPEN_NONE) || attempt > 0) {
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

static int exec_statement(PGresult **out, struct db *db, struct arena *a, const char *sql,
			  int nparams, const char *const *params, int cacheable)
{
	struct db_query q = { sql, nparams, params };

	return exec_queries(out, db, a, &q, 1, cacheable);
}

int db_exec_batch(PGresult **outs, struct db *db, struct arena *a, const struct db_query *qs,
		  int n)
{
	if (n < 1 || n > DB_BATCH_MAX)
		return IL_EINVALID;
	return exec_queries(outs, db, a, qs, n, 1);
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
	db->wrote = 0;
	db->open.rebind = 0;
	return rc;
}

void db_rollback(struct db *db, struct arena *a)
{
	/* a deferred opening never sent has nothing to undo; the request is over */
	db->open.pending = 0;
	db->open.refused = 0;
	db->open.rebind = 0;
	db->wrote = 0;
	rollback_txn(db, a);
}

/*
 * BEGIN, the tenant binding and, when sql is not NULL, the request's first
 * statement, in one round trip; each by name once prepared. Reconnects or
 * re-prepares once (nothing was open before: the retry is safe).
 */
int db_begin_tenant_and(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
			const char *sql, int nparams, const char *const *params)
{
	const char *bind_params[1] = { tenant_id };
	struct step steps[3];
	PGresult *failed;
	int attempt, n = sql != NULL ? 3 : 2;

	if (out != NULL)
		*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(db) < 0)
			return IL_EUNAVAIL;
		db_pipe_plan(db, &steps[0], "BEGIN", 0, NULL, 1);
		db_pipe_plan(db, &steps[1], bind_sql, 1, bind_params, 1);
		if (sql != NULL)
			db_pipe_plan(db, &steps[2], sql, nparams, params, 1);
		switch (db_pipe_run(db, steps, n, &failed, NULL)) {
		case STEPS_OK:
			db->in_txn = 1;
			db->wrote = 0;
			PQclear(steps[0].res);
			PQclear(steps[1].res);
			return keep_result(out, a, sql != NULL ? steps[2].res : NULL);
		case STEPS_FAILED:
			log_error("cannot open a tenant transaction: %s",
				  PQresultErrorMessage(failed));
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

int db_defer_tenant(struct db *db, const char *tenant_id, const char *check_sql, int ncheck,
		    const char *const *check_params, db_opened_fn opened, void *arg)
{
	int i;

	if (ncheck < 0 || ncheck > 4)
		return IL_EINVALID;
	db->open = (struct db_deferred){ .pending = 1, .tenant_id = tenant_id,
					 .check_sql = check_sql, .ncheck = ncheck,
					 .opened = opened, .arg = arg };
	for (i = 0; i < ncheck; i++)
		db->open.check_params[i] = check_params[i];
	db->wrote = 0;
	return 0;
}

int db_deferred_flush(struct db *db, struct arena *a)
{
	if (!db->open.pending)
		return 0;
	return exec_queries(NULL, db, a, NULL, 0, 1);
}

int db_refused(const struct db *db)
{
	return db->open.refused == 1;
}

void db_mark_written(struct db *db)
{
	db->wrote = 1;
}

int db_commit_nowait(struct db *db, struct arena *a)
{
	struct step s;

	if (db->open.pending)
		db_deferred_flush(db, a);
	db->open.rebind = 0;   /* the request is over: nothing after this is bound */
	if (!db->in_txn)
		return db->open.refused ? IL_ERR : 0;
	if (db->wrote || db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return db_commit(db, a);
	db_pipe_plan(db, &s, "COMMIT", 0, NULL, 1);
	if ((PQpipelineStatus(db->conn) == PQ_PIPELINE_OFF &&
	     PQenterPipelineMode(db->conn) != 1) ||
	    !db_pipe_send(db->conn, &s) || PQpipelineSync(db->conn) != 1) {
		/* the next statement finds the connection broken and opens another */
		log_error("cannot send COMMIT: %s", PQerrorMessage(db->conn));
		db_close(db);   /* the server ends the open transaction with the session */
		return IL_EUNAVAIL;
	}
	/* a Parse of COMMIT cannot fail; if the server forgot it, it is re-prepared */
	if (s.prepare)
		s.stmt->ready = 1;
	db->unread++;
	db->in_txn = 0;
	return 0;
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
	int64_t n = 0;

	return parse_i64(db_val(res, row, col), LONG_MIN, LONG_MAX, &n) == 0 ? (long)n : 0;
}

int db_rows(const PGresult *res)
{
	return PQntuples(res);
}
