/*
 * test_pg_connect.c: what a tenant's PostgreSQL server receives from a worker.
 * A one-connection fake server on 127.0.0.1 records the startup packet libpq
 * sends; the worker's environment is full of PG* settings that must not reach
 * it, and the host name given never resolves, so only the pinned address works.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec.h"
#include "suites.h"
#include "util/arena.h"
#include "util/error.h"

#define SSL_REQUEST 80877103u
#define GSSENC_REQUEST 80877104u

static int read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, buf + got, n - got)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes the startup packet's parameters to out as "key=value" lines. */
static void dump_parameters(int out, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != '\0') {
		const char *k = (const char *)p + i, *v;

		i += strlen(k) + 1;
		if (i >= n)
			break;
		v = (const char *)p + i;
		i += strlen(v) + 1;
		dprintf(out, "%s=%s\n", k, v);
	}
}

/* The child: one connection within 10 s, refuse encryption, record, fail the login. */
static void fake_server(int listener, int out)
{
	static const char error[] = "SFATAL\0C28000\0Mrecorded by the test\0";
	unsigned char hdr[8], body[8192], reply[64];
	struct pollfd pfd = { listener, POLLIN, 0 };
	uint32_t len, code;
	int c;

	if (poll(&pfd, 1, 10000) != 1 || (c = accept(listener, NULL, NULL)) < 0)
		_exit(1);
	for (;;) {
		if (read_full(c, hdr, 8) < 0)
			_exit(1);
		len = be32(hdr);
		code = be32(hdr + 4);
		if (len == 8 && (code == SSL_REQUEST || code == GSSENC_REQUEST)) {
			if (write(c, "N", 1) != 1)
				_exit(1);
			continue;
		}
		if (len < 8 || len - 8 > sizeof(body) || read_full(c, body, len - 8) < 0)
			_exit(1);
		dump_parameters(out, body, len - 8);
		break;
	}
	reply[0] = 'E';
	len = (uint32_t)(4 + sizeof(error));
	reply[1] = (unsigned char)(len >> 24);
	reply[2] = (unsigned char)(len >> 16);
	reply[3] = (unsigned char)(len >> 8);
	reply[4] = (unsigned char)len;
	memcpy(reply + 5, error, sizeof(error));
	if (write(c, reply, 5 + sizeof(error)) < 0)
		_exit(1);
	close(c);
	_exit(0);
}

/* A listener on 127.0.0.1 and its port. */
static int listen_loopback(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Everything the fake server wrote (parameters), as one string. */
static char *read_all(int fd)
{
	static char buf[8192];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return buf;
}

START_TEST(test_pg_connect__worker_environment_does_not_reach_the_tenant)
{
	struct arena *a = arena_new(0);
	struct exec_pg_target t;
	struct executor *ex = NULL;
	const char *why = NULL;
	char port[16], *seen;
	int listener, pipefd[2], p, status;
	pid_t pid;

	/* what a worker's environment might hold for its own database */
	setenv("PGOPTIONS", "-c ironlayer.leak=pgoptions", 1);
	setenv("PGAPPNAME", "leak-appname", 1);
	setenv("PGTZ", "Antarctica/Troll", 1);
	setenv("PGDATESTYLE", "SQL", 1);
	setenv("PGUSER", "postgres", 1);
	setenv("PGSERVICE", "no-such-service", 1);   /* libpq would fail before connecting */
	setenv("PGHOST", "/run/postgresql", 1);
	setenv("KRB5CCNAME", "FILE:/tmp/the-workers-ticket", 1);
	unsetenv("PGPASSFILE");

	listener = listen_loopback(&p);
	snprintf(port, sizeof(port), "%d", p);
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		fake_server(listener, pipefd[1]);
	}
	close(pipefd[1]);
	close(listener);

	memset(&t, 0, sizeof(t));
	t.host = "tenant-db.ironlayer.invalid";     /* never resolved: hostaddr is dialled */
	t.address = "127.0.0.1";
	t.port = port;
	t.dbname = "tenantdb";
	t.user = "tenant";
	t.password = "tenant-password";
	t.sslmode = "prefer";
	t.application_name = "ironlayer";
	t.connect_timeout = 5;
	ck_assert_int_eq(exec_postgres_open_target(&ex, &why, a, &t, 1000), IL_EUNAVAIL);
	ck_assert_ptr_null(ex);
	ck_assert_ptr_nonnull(why);
	seen = read_all(pipefd[0]);
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fake server got nothing");

	ck_assert_msg(strstr(seen, "user=tenant\n") != NULL, "%s", seen);
	ck_assert_msg(strstr(seen, "database=tenantdb\n") != NULL, "%s", seen);
	ck_assert_msg(strstr(seen, "application_name=ironlayer\n") != NULL, "%s", seen);
	ck_assert_msg(strstr(seen, "leak") == NULL, "%s", seen);
	ck_assert_msg(strstr(seen, "options=") == NULL, "%s", seen);
	ck_assert_msg(strstr(seen, "Antarctica") == NULL && strstr(seen, "datestyle") == NULL,
		      "%s", seen);
	ck_assert_msg(strstr(seen, "postgres") == NULL, "%s", seen);

	/* and the worker's own environment is back as it was */
	ck_assert_str_eq(getenv("PGOPTIONS"), "-c ironlayer.leak=pgoptions");
	ck_assert_str_eq(getenv("PGSERVICE"), "no-such-service");
	ck_assert_str_eq(getenv("KRB5CCNAME"), "FILE:/tmp/the-workers-ticket");
	ck_assert_ptr_null(getenv("PGPASSFILE"));
	ck_assert_ptr_null(getenv("PGSERVICEFILE"));
	unsetenv("PGOPTIONS");
	unsetenv("PGAPPNAME");
	unsetenv("PGTZ");
	unsetenv("PGDATESTYLE");
	unsetenv("PGUSER");
	unsetenv("PGSERVICE");
	unsetenv("PGHOST");
	unsetenv("KRB5CCNAME");
	arena_free(a);
}
END_TEST

Suite *suite_pg_connect(void)
{
	Suite *s = suite_create("pg_connect");
	TCase *tc = tcase_create("pg_connect");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pg_connect__worker_environment_does_not_reach_the_tenant);
	suite_add_tcase(s, tc);
	return s;
}
