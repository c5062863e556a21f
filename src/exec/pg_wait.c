/* pg_wait.c (exec): warehouse statements under a deadline the SQL cannot move */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "exec/exec.h"
#include "exec/pg_int.h"
#include "util/log.h"

/* How long the request waits for a cancel request to be delivered. */
#define PGW_CANCEL_WAIT_MS 1000
/* Cancel threads a worker lets hang on unresponsive servers before it stops sending. */
#define PGW_MAX_CANCELS 8

static atomic_int cancels_in_flight;

/* 1 when the socket is ready, 0 at the deadline, -1 on error. */
static int wait_socket(PGconn *c, int for_write, long long deadline_ms)
{
	struct pollfd pfd = { PQsocket(c), (short)(POLLIN | (for_write ? POLLOUT : 0)), 0 };

	if (pfd.fd < 0)
		return -1;
	for (;;) {
		long long left = deadline_ms > 0 ? deadline_ms - exec_now_ms() : -1;
		int n;

		if (deadline_ms > 0 && left <= 0)
			return 0;
		n = poll(&pfd, 1, left < 0 ? -1 : left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
		/* a signal (SIGTERM finishes the request in flight) or an early wake-up */
	}
}

static enum pgw_end stop_waiting(PGresult **res, PGconn *c, int waited)
{
	PQclear(*res);
	*res = NULL;
	if (waited != 0)
		return PGW_BROKEN;
	pgw_cancel(c);
	return PGW_TIMED_OUT;
}

/* Keeps the first error, else the last result. */
static void keep(PGresult **res, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	int is_error = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;

	if (*res == NULL || (is_error && (PQresultStatus(*res) == PGRES_COMMAND_OK ||
					  PQresultStatus(*res) == PGRES_TUPLES_OK))) {
		PQclear(*res);
		*res = r;
	} else {
		PQclear(r);
	}
}

enum pgw_end pgw_exec(PGresult **res, PGconn *c, const char *sql, int n,
		      const char *const *params, long long deadline_ms)
{
	PGresult *r;
	int rc, w;

	*res = NULL;
	if (PQsetnonblocking(c, 1) != 0 ||
	    PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0) != 1)
		return PGW_BROKEN;
	/* a long statement may not fit the socket at once: send the rest as it drains */
	while ((rc = PQflush(c)) == 1) {
		if ((w = wait_socket(c, 1, deadline_ms)) <= 0)
			return stop_waiting(res, c, w);
		if (PQconsumeInput(c) != 1)
			return PGW_BROKEN;
	}
	if (rc < 0)
		return PGW_BROKEN;
	for (;;) {
		while (PQisBusy(c)) {
			if ((w = wait_socket(c, 0, deadline_ms)) <= 0)
				return stop_waiting(res, c, w);
			if (PQconsumeInput(c) != 1)
				return stop_waiting(res, c, -1);
		}
		if ((r = PQgetResult(c)) == NULL)
			break;
		keep(res, r);
	}
	return *res != NULL ? PGW_DONE : PGW_BROKEN;
}

static void *cancel_thread(void *arg)
{
	PGcancel *cancel = arg;
	char err[256];

	/* blocking: connect, send the request, wait for the server to close */
	(void)PQcancel(cancel, err, sizeof(err));
	PQfreeCancel(cancel);
	atomic_fetch_sub(&cancels_in_flight, 1);
	return NULL;
}

void pgw_cancel(PGconn *c)
{
	PGcancel *cancel;
	struct timespec until;
	pthread_t t;

	if (atomic_load(&cancels_in_flight) >= PGW_MAX_CANCELS) {
		log_warn("warehouse cancel requests are still pending; only dropping the"
			 " connection");
		return;
	}
	if ((cancel = PQgetCancel(c)) == NULL)
		return;
	atomic_fetch_add(&cancels_in_flight, 1);
	if (pthread_create(&t, NULL, cancel_thread, cancel) != 0) {
		PQfreeCancel(cancel);
		atomic_fetch_sub(&cancels_in_flight, 1);
		log_warn("cannot start a thread to cancel a warehouse statement");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PGW_CANCEL_WAIT_MS / 1000;
	if (pthread_timedjoin_np(t, NULL, &until) != 0) {
		pthread_detach(t);
		log_warn("the warehouse did not take the cancel request within %d ms",
			 PGW_CANCEL_WAIT_MS);
	}
}
