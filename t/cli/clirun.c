/* clirun.c: run the ironlayer CLI in a pipe, on a pseudo-terminal, or line by line */
#include "clirun.h"

#include <errno.h>
#include <pty.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return strdup("");
	do {
		if (n + 4097 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

void user_new(struct cli_user *u)
{
	char tmpl[512];

	snprintf(tmpl, sizeof(tmpl), "%s/cli-home.XXXXXX", getenv("IL_TEST_VAR"));
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	u->home = strdup(tmpl);
	ck_assert_int_ne(asprintf(&u->cred, "%s/ironlayer/credentials", u->home), -1);
}

void user_free(struct cli_user *u)
{
	free(u->home);
	free(u->cred);
}

/* The shell command for ARGS with the test's environment. */
static char *command(const struct cli_user *u, const char *env, const char *args)
{
	char *cmd;

	/* a library leak of `repo add`'s clone is suppressed (see t/api/lsan-cli.supp) */
	ck_assert_int_ne(asprintf(&cmd, "cd %s && env -u NO_COLOR -u IRONLAYER_TOKEN "
				  "-u IRONLAYER_PASSWORD IRONLAYER_CONFIG=/dev/null "
				  "LSAN_OPTIONS=suppressions=%s/t/api/lsan-cli.supp:print_suppressions=0 "
				  "IRONLAYER_URL=%s HOME=%s XDG_CONFIG_HOME=%s %s %s/ironlayer %s",
				  getenv("IL_TEST_VAR"), getenv("IL_TEST_SRCDIR"), getenv("IL_TEST_URL"),
				  u ? u->home : "/nonexistent", u ? u->home : "/nonexistent",
				  env ? env : "", getenv("IL_TEST_BUILDDIR"), args), -1);
	return cmd;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s;

	ck_assert_int_ne(vasprintf(&s, fmt, ap), -1);
	return s;
}

void cli(struct run *r, const struct cli_user *u, const char *env, const char *stdin_text,
	 const char *fmt, ...)
{
	char in[512], out[512], err[512], *args, *cmd, *full;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	args = vformat(fmt, ap);
	va_end(ap);
	snprintf(in, sizeof(in), "%s/cli.in", getenv("IL_TEST_VAR"));
	snprintf(out, sizeof(out), "%s/cli.out", getenv("IL_TEST_VAR"));
	snprintf(err, sizeof(err), "%s/cli.err", getenv("IL_TEST_VAR"));
	f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	fputs(stdin_text ? stdin_text : "", f);
	fclose(f);
	cmd = command(u, env, args);
	ck_assert_int_ne(asprintf(&full, "%s <%s >%s 2>%s", cmd, in, out, err), -1);
	st = system(full);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->out = slurp(out);
	r->err = slurp(err);
	free(full);
	free(cmd);
	free(args);
}

void cli_tty(struct run *r, const struct cli_user *u, const char *env, const char *fmt, ...)
{
	char *args, *cmd, *e, buf[4096];
	size_t n = 0;
	ssize_t got;
	va_list ap;
	int master, st;
	pid_t pid;

	va_start(ap, fmt);
	args = vformat(fmt, ap);
	va_end(ap);
	ck_assert_int_ne(asprintf(&e, "TERM=xterm %s", env ? env : ""), -1);
	cmd = command(u, e, args);
	r->out = calloc(1, 1);
	r->err = strdup("");
	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* a pty reports EIO once the child side is closed */
	while ((got = read(master, buf, sizeof(buf))) > 0 || (got < 0 && errno == EINTR)) {
		if (got <= 0)
			continue;
		r->out = realloc(r->out, n + (size_t)got + 1);
		memcpy(r->out + n, buf, (size_t)got);
		n += (size_t)got;
		r->out[n] = '\0';
	}
	close(master);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	free(cmd);
	free(e);
	free(args);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_timed(struct timed_line **lines, size_t *n, const struct cli_user *u, const char *fmt, ...)
{
	char *args, *cmd, line[8192];
	double t0 = now_s();
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	args = vformat(fmt, ap);
	va_end(ap);
	cmd = command(u, NULL, args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	*lines = NULL;
	*n = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		*lines = realloc(*lines, (*n + 1) * sizeof(**lines));
		line[strcspn(line, "\n")] = '\0';
		(*lines)[*n].text = strdup(line);
		(*lines)[(*n)++].at = now_s() - t0;
	}
	st = pclose(p);
	free(cmd);
	free(args);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void timed_free(struct timed_line *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
}

int line_with(struct timed_line *lines, size_t n, const char *needle)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(lines[i].text, needle) != NULL)
			return (int)i;
	return -1;
}

int has_escape(const char *s)
{
	return strchr(s, '\033') != NULL;
}
