/* db.h: one libpq connection per process, parameterised queries, tenant transactions */
#ifndef IL_DB_H
#define IL_DB_H

#include <stddef.h>

#include <libpq-fe.h>

struct arena;

/* Statements prepared on the current connection (at most this many). */
#define DB_STMT_CACHE 128

/* One named server-side prepared statement, keyed by its SQL text. */
struct db_stmt {
	unsigned long hash;
	size_t len;
	char *sql;          /* owned copy */
	unsigned id;        /* server-side name is "il_<id>" */
	int ready;          /* prepared on the current connection */
};

/*
 * Called once a deferred opening (db_defer_tenant) went through, with the
 * check's result. can_rerun: statements rode along in the same round trip.
 * Returns 0 to go on, 1 when it changed the tenant's state (then those
 * statements run again, so they see the change), or a negative il_err code.
 */
typedef int (*db_opened_fn)(void *arg, const PGresult *check, int can_rerun);

/* Most statements one db_exec_batch sends. */
#define DB_BATCH_MAX 4

/*
 * A request bound to a tenant whose opening waits for the request's first
 * statement, so that the tenant binding, the caller's check and that
 * statement travel in one round trip (db_defer_tenant), in one implicit
 * transaction: no BEGIN or COMMIT; the binding ends at the pipeline's Sync.
 */
struct db_deferred {
	int pending;        /* binding and check not sent yet */
	/* 1: the check failed, 2: the opening failed; nothing more runs in this request */
	int refused;
	/*
	 * The opening went through and its implicit transaction ended: the
	 * request's next statement opens a transaction bound again (BEGIN and
	 * the binding in front of it, one round trip). Cleared when the request
	 * ends (db_commit_nowait, db_commit, db_rollback).
	 */
	int rebind;
	const char *tenant_id;
	const char *check_sql;
	int ncheck;
	const char *check_params[4];
	db_opened_fn opened;
	void *arg;
};

/*
 * A lazily opened connection. After the server restarts, the next query
 * reconnects transparently (once, and only outside a transaction). Every
 * statement is prepared on its first use on a connection and executed by
 * name after that, so PostgreSQL parses and plans it once per connection;
 * a new connection starts with an empty cache.
 */
struct db {
	PGconn *conn;
	const char *dsn;    /* borrowed from the config */
	int in_txn;
	/*
	 * Counts the connections opened: when it moves, the session before it
	 * is gone, and with it every session-level advisory lock it held.
	 */
	unsigned long generation;
	int nstmts;
	unsigned next_id;   /* names are never reused on one connection */
	struct db_stmt stmts[DB_STMT_CACHE];
	struct db_deferred open;
	/* COMMITs sent by db_commit_nowait whose replies are not read yet */
	int unread;
	/* the open transaction changed rows (db_commit_nowait then waits) */
	int wrote;
};

void db_init(struct db *db, const char *dsn);
void db_close(struct db *db);

/*
 * Runs one statement through PQexecParams. *out is a result that the arena
 * clears at reset (pass NULL to discard it). Returns 0; IL_ECONFLICT for a
 * unique or exclusion violation; IL_ENOTFOUND for a foreign key violation;
 * IL_EINVALID for data the database rejected (bad uuid, check constraint);
 * IL_EUNAVAIL when the server cannot be reached; IL_ERR otherwise. Server
 * messages go to the log only.
 */
int db_exec(PGresult **out, struct db *db, struct arena *a, const char *sql,
	    int nparams, const char *const *params);

/*
 * db_exec without a named prepared statement: for statements that run once
 * (migrations), which would only fill the cache.
 */
int db_exec_once(PGresult **out, struct db *db, struct arena *a, const char *sql,
		 int nparams, const char *const *params);

/* db_exec for a query that must return exactly one row: IL_ENOTFOUND otherwise. */
int db_exec_one(PGresult **out, struct db *db, struct arena *a, const char *sql,
		int nparams, const char *const *params);

/* db_exec_one for a query whose one row has one column: *value borrows it. */
int db_exec_value(const char **value, struct db *db, struct arena *a, const char *sql,
		  int nparams, const char *const *params);

/* BEGIN / COMMIT / ROLLBACK; rollback is safe to call when no transaction is open. */
int db_begin(struct db *db, struct arena *a);
int db_commit(struct db *db, struct arena *a);
void db_rollback(struct db *db, struct arena *a);
/*
 * BEGIN, then bind the transaction to a tenant: set_config('app.tenant_id',
 * tenant_id, true), which every row-level security policy reads.
 */
int db_begin_tenant(struct db *db, struct arena *a, const char *tenant_id);
/*
 * db_begin_tenant, and then sql in the same transaction, all in one round
 * trip; *out gets sql's result (cleared at arena reset). On failure nothing
 * stays open.
 */
int db_begin_tenant_and(PGresult **out, struct db *db, struct arena *a, const char *tenant_id,
			const char *sql, int nparams, const char *const *params);

/*
 * Defers the opening of a tenant-bound request: the next statement (db_exec,
 * db_exec_batch, ...) goes out in one pipeline behind check_sql, a statement
 * that binds the transaction to tenant_id itself (set_config('app.tenant_id',
 * tenant_id, true), evaluated before anything it reads under row-level
 * security) and must fail (RAISE) when the caller may not go on: then the
 * statements behind it never run, db_refused() is true, and every later
 * statement of the request fails at once. That pipeline is one implicit
 * transaction (no BEGIN): the binding ends at its Sync. Later statements of the request each
 * open a transaction bound to the same tenant (BEGIN and the binding in
 * front of the first). The strings must live until the request ends (its
 * arena).
 */
int db_defer_tenant(struct db *db, const char *tenant_id, const char *check_sql, int ncheck,
		    const char *const *check_params, db_opened_fn opened, void *arg);
/* Runs a still deferred opening by itself (one round trip); 0 when nothing was pending. */
int db_deferred_flush(struct db *db, struct arena *a);
/* The deferred check refused the caller. */
int db_refused(const struct db *db);
/* Records that the open transaction changed rows (so its COMMIT is awaited). */
void db_mark_written(struct db *db);
/*
 * Ends a deferred request: nothing when its statements ran in the opening's
 * implicit transaction; otherwise the COMMIT of a transaction that changed
 * nothing, sent without waiting for its reply (the next statement's round
 * trip reads it). A transaction that wrote (or a connection that cannot
 * pipeline) gets a plain db_commit.
 */
int db_commit_nowait(struct db *db, struct arena *a);

/* One statement of db_exec_batch. */
struct db_query {
	const char *sql;
	int nparams;
	const char *const *params;
};
/*
 * Runs n (at most DB_BATCH_MAX) statements in one round trip; outs[i] gets
 * the result of qs[i] (cleared at arena reset). The first failure fails all.
 */
int db_exec_batch(PGresult **outs, struct db *db, struct arena *a, const struct db_query *qs,
		  int n);

/*
 * Session-level advisory locks keyed by text (hashed): held across
 * transactions, released by unlock or when the connection closes, so a
 * crashed worker never keeps one. try_lock sets *got.
 */
int db_advisory_try_lock(int *got, struct db *db, struct arena *a, const char *key);
int db_advisory_lock(struct db *db, struct arena *a, const char *key);
int db_advisory_unlock(struct db *db, struct arena *a, const char *key);

/* Shortcuts for reading results (borrowed strings, NULL for SQL NULL). */
const char *db_val(const PGresult *res, int row, int col);
int db_rows(const PGresult *res);
/* A column as a number (0 for NULL or junk; the SQL decides the type). */
long db_long(const PGresult *res, int row, int col);

#endif
