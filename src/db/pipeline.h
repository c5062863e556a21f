/* pipeline.h (db, internal): statements of one round trip, for db.c only */
#ifndef IL_DB_PIPELINE_H
#define IL_DB_PIPELINE_H

#include <libpq-fe.h>

struct db;
struct db_stmt;

/* One statement of a pipeline, and how it is sent. */
struct step {
	const char *sql;
	int n;
	const char *const *params;
	struct db_stmt *stmt;   /* NULL: sent as an unnamed statement */
	int prepare;            /* send the Parse (PQsendPrepare) first */
	int keep;               /* its result survives a later step's failure */
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
 * Fills s for sql: by name when this connection has it prepared, prepared
 * first when it is new (cacheable and the cache has room), unnamed otherwise.
 */
void db_pipe_plan(struct db *db, struct step *s, const char *sql, int n,
		  const char *const *params, int cacheable);
/* Sends one step (its Parse first when it is to be prepared); 0 on failure. */
int db_pipe_send(PGconn *c, const struct step *s);
/* Clears the steps' results (but those marked keep, unless all is set). */
void db_pipe_clear(struct step *steps, int n, int all);
/*
 * Sends the steps and one sync in one round trip and reads every result;
 * STEPS_OK, STEPS_FAILED (*failed: the failing result, *bad_index: its step),
 * STEPS_STALE or STEPS_BROKEN.
 */
int db_pipe_run(struct db *db, struct step *steps, int n, PGresult **failed,
		int *bad_index);
/* Whether a result is a success (command or rows). */
int db_pipe_result_ok(const PGresult *res);

#endif
