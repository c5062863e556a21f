/* test_httpc.c: the outbound client's policy against a loopback server */
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "util/arena.h"
#include "util/httpc.h"

/* A listener on 127.0.0.1, any port; returns the socket and sets *port. */
static int listen_loopback(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A child answering one connection with head, then body_len bytes of 'x'. */
static pid_t serve_once(int fd, const char *head, size_t body_len)
{
	pid_t pid = fork();
	char buf[4096], chunk[4096];
	int c;

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	if ((c = accept(fd, NULL, NULL)) < 0)
		_exit(1);
	if (read(c, buf, sizeof(buf)) <= 0)
		_exit(1);
	memset(chunk, 'x', sizeof(chunk));
	if (write(c, head, strlen(head)) < 0)
		_exit(1);
	while (body_len > 0) {
		size_t n = body_len < sizeof(chunk) ? body_len : sizeof(chunk);
		ssize_t w = write(c, chunk, n);

		if (w <= 0)
			break;
		body_len -= (size_t)w;
	}
	close(c);
	_exit(0);
}

static void reap(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

START_TEST(test_httpc__https_only_refuses_http_before_connecting)
{
	struct arena *a = arena_new(0);
	struct httpc_options o = { .timeout_seconds = 5, .max_response = 1024 };
	struct httpc_response r;
	struct pollfd p;
	int port, fd = listen_loopback(&port);
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	ck_assert_int_eq(httpc_fetch(&r, a, &o, url, NULL, 0), 0);
	ck_assert_int_eq(r.result, HTTPC_FAILED);
	ck_assert_int_eq(r.status, 0);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 0);   /* nobody knocked */
	close(fd);
	arena_free(a);
}
END_TEST

START_TEST(test_httpc__body_over_the_cap_is_refused)
{
	struct arena *a = arena_new(0);
	struct httpc_options o = { .allow_http = 1, .timeout_seconds = 5, .max_response = 1000 };
	struct httpc_response r;
	int port, fd = listen_loopback(&port);
	pid_t pid = serve_once(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
			       "Connection: close\r\n\r\n", 100000);
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	ck_assert_int_eq(httpc_fetch(&r, a, &o, url, "{}", 2), 0);
	ck_assert_int_eq(r.result, HTTPC_TOO_LARGE);
	reap(pid);
	close(fd);
	arena_free(a);
}
END_TEST

START_TEST(test_httpc__redirect_is_returned_not_followed)
{
	struct arena *a = arena_new(0);
	struct httpc_options o = { .allow_http = 1, .timeout_seconds = 5, .max_response = 1000 };
	struct httpc_response r;
	int port, fd = listen_loopback(&port);
	pid_t pid = serve_once(fd, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/y\r\n"
			       "Content-Length: 5\r\nConnection: close\r\n\r\n", 5);
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	ck_assert_int_eq(httpc_fetch(&r, a, &o, url, NULL, 0), 0);
	ck_assert_int_eq(r.result, HTTPC_OK);
	ck_assert_int_eq(r.status, 302);
	ck_assert_str_eq(r.body, "xxxxx");
	ck_assert_uint_eq(r.body_len, 5);
	reap(pid);
	close(fd);
	arena_free(a);
}
END_TEST

Suite *suite_httpc(void)
{
	Suite *s = suite_create("httpc");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, test_httpc__https_only_refuses_http_before_connecting);
	tcase_add_test(tc, test_httpc__body_over_the_cap_is_refused);
	tcase_add_test(tc, test_httpc__redirect_is_returned_not_followed);
	suite_add_tcase(s, tc);
	return s;
}
