/* pg_int.h (exec): what postgres.c and pg_wait.c share */
#ifndef IL_PG_INT_H
#define IL_PG_INT_H

#include <libpq-fe.h>

/* How a statement sent under a deadline ended. */
enum pgw_end {
	PGW_DONE,        /* it answered: *res holds the answer (maybe an error) */
	PGW_TIMED_OUT,   /* the deadline passed: a cancel was sent; drop the connection */
	PGW_BROKEN       /* the connection failed (PQerrorMessage says how); drop it */
};

/*
 * Sends one statement on c (switched to non-blocking mode) and waits on its
 * socket with poll() for the answer, never past deadline_ms (exec_now_ms()
 * clock; 0: no limit). On PGW_DONE *res is the statement's result, or its
 * first error result; the caller clears it. Whatever the statement's SQL sets
 * (statement_timeout included), the wait ends at the deadline.
 */
enum pgw_end pgw_exec(PGresult **res, PGconn *c, const char *sql, int n,
		      const char *const *params, long long deadline_ms);

/*
 * Asks the server to cancel what c runs (PQcancel, from a helper thread:
 * a server that never answers holds that thread, not the request, which
 * waits at most about a second for it). At most a few are ever in flight.
 */
void pgw_cancel(PGconn *c);

#endif
