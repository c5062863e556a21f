/* pipeline.c (db): the statements of one round trip: the connection's
 * prepared-statement cache, libpq's pipeline mode, and reading the results */
#include "db/pipeline.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "util/log.h"

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
void db_pipe_plan(struct db *db, struct step *s, const char *sql, int n,
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

int db_pipe_send(PGconn *c, const struct step *s)
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

int db_pipe_result_ok(const PGresult *res)
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
		if (db_pipe_result_ok(res) && *failed == NULL) {
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

/* Clears the steps' results (but those marked keep, unless all is set). */
void db_pipe_clear(struct step *steps, int n, int all)
{
	int i;

	for (i = 0; i < n; i++) {
		if (steps[i].keep && !all)
			continue;
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

/* Whether a command changed rows (its tag); SELECT of a writing function is marked by hand. */
static int wrote_rows(const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *)res);

	return strncmp(tag, "INSERT", 6) == 0 || strncmp(tag, "UPDATE", 6) == 0 ||
	       strncmp(tag, "DELETE", 6) == 0 || strncmp(tag, "MERGE", 5) == 0;
}

/*
 * Reads the replies of the COMMITs db_commit_nowait sent (each ends with its
 * sync). A failed COMMIT of a read-only transaction loses nothing: logged.
 * 0, or -1 when the link broke.
 */
static int drain_unread(struct db *db)
{
	PGconn *c = db->conn;
	int nulls = 0;

	while (db->unread > 0) {
		PGresult *res = PQgetResult(c);

		if (res == NULL) {
			/* a NULL ends each command's results; two in a row: nothing comes */
			if (PQstatus(c) == CONNECTION_BAD || ++nulls > 1)
				return -1;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
			db->unread--;
		else if (!db_pipe_result_ok(res))
			log_error("deferred COMMIT failed: %s", PQresultErrorMessage(res));
		PQclear(res);
	}
	return 0;
}

/*
 * Sends every step and one sync together (libpq pipeline mode: one round
 * trip) and reads every result, after the replies of earlier COMMITs not
 * read yet. STEPS_OK leaves each step's result in steps[i].res; otherwise
 * only the results of steps marked keep that succeeded stay and, for
 * STEPS_FAILED, *failed holds the failing result (the caller clears it) and
 * *bad_index its step.
 */
int db_pipe_run(struct db *db, struct step *steps, int n, PGresult **failed,
		int *bad_index)
{
	PGconn *c = db->conn;
	struct step *bad = NULL;
	PGresult *sync;
	int i, ok = PQpipelineStatus(c) != PQ_PIPELINE_OFF || PQenterPipelineMode(c) == 1;

	*failed = NULL;
	for (i = 0; ok && i < n; i++)
		ok = db_pipe_send(c, &steps[i]);
	ok = ok && PQpipelineSync(c) == 1;
	ok = ok && drain_unread(db) == 0;
	for (i = 0; ok && i < n; i++)
		ok = read_step(c, &steps[i], failed, &bad) == 0;
	if (ok) {
		sync = PQgetResult(c);
		ok = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
		PQclear(sync);
	}
	ok = PQexitPipelineMode(c) == 1 && ok;
	if (ok && *failed == NULL) {
		for (i = 0; i < n; i++)
			db->wrote |= wrote_rows(steps[i].res);
		return STEPS_OK;
	}
	db_pipe_clear(steps, n, !ok || *failed == NULL);
	if (!ok || PQstatus(c) == CONNECTION_BAD) {
		db_pipe_clear(steps, n, 1);
		PQclear(*failed);
		*failed = NULL;
		return STEPS_BROKEN;
	}
	if (bad_index != NULL)
		*bad_index = (int)(bad - steps);
	/* a statement prepared in this very pipeline cannot be stale */
	if (bad->stmt != NULL && !bad->prepare && stale_statement(*failed)) {
		db_pipe_clear(steps, n, 1);
		mark_all_stale(db);
		PQclear(*failed);
		*failed = NULL;
		return STEPS_STALE;
	}
	return STEPS_FAILED;
}
