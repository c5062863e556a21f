/* clirun.h: run the ironlayer CLI as a user would: in a pipe, on a terminal, line by line */
#ifndef IL_T_CLIRUN_H
#define IL_T_CLIRUN_H

#include <stddef.h>

#include "../api/harness.h"

/* What one run of the CLI did. */
struct run {
	int status;          /* exit status, -1 when it did not exit */
	char *out;           /* stdout (with stderr too for runs on a terminal) */
	char *err;           /* stderr */
};

/*
 * A fresh user of the CLI: an empty $XDG_CONFIG_HOME of its own, and the
 * test stack's URL as $IRONLAYER_URL. Free with user_free.
 */
struct cli_user {
	char *home;          /* XDG_CONFIG_HOME */
	char *cred;          /* home/ironlayer/credentials */
};
void user_new(struct cli_user *u);
void user_free(struct cli_user *u);

/*
 * Runs `ironlayer ARGS` as user u (NULL: no home) with extra environment
 * assignments env ("NO_COLOR=1", may be NULL) and stdin_text on stdin;
 * stdout and stderr apart. ARGS is a shell fragment (quote what needs it).
 */
void cli(struct run *r, const struct cli_user *u, const char *env, const char *stdin_text,
	 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same on a pseudo-terminal (TERM=xterm): everything it wrote, in r->out. */
void cli_tty(struct run *r, const struct cli_user *u, const char *env, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void run_free(struct run *r);

/* One line of output and when it came, in seconds from the start. */
struct timed_line {
	char *text;
	double at;
};
/* Runs like cli() and records when each stdout line arrived; returns the exit status. */
int cli_timed(struct timed_line **lines, size_t *n, const struct cli_user *u, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void timed_free(struct timed_line *lines, size_t n);

/* The index of the first line containing needle, or -1. */
int line_with(struct timed_line *lines, size_t n, const char *needle);
/* 1 when s holds an ANSI escape sequence. */
int has_escape(const char *s);
/* The whole of a file (malloc'd), "" when missing. */
char *slurp(const char *path);

/* The suites (test_workflow.c, test_output.c, test_preview.c, test_json.c). */
Suite *suite_workflow(void);
Suite *suite_output(void);
Suite *suite_preview(void);
Suite *suite_json(void);

#endif
