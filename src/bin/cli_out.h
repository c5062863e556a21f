/* cli_out.h: how the CLI talks: options, colour on terminals, JSON, counts */
#ifndef IL_CLI_OUT_H
#define IL_CLI_OUT_H

#include <stdio.h>

#include <json-c/json.h>

/* One option of a command: a flag (flag != NULL) or one taking a value. */
struct cli_opt {
	const char *name;            /* "--env" */
	const char **value;          /* set to the next argument */
	int *flag;                   /* set to 1 */
};

#define CLI_PARSE_HELP (-2)

/*
 * Parses argv[1..argc) of command cmd: options from opts (ending with a
 * zero entry), the other arguments into pos (at most max_pos). Returns how
 * many positional arguments there were; CLI_PARSE_HELP after printing the
 * command's help for --help or -h; -1 after naming the problem (an unknown
 * option, a missing value, too many arguments) and the usage on stderr.
 */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts,
	      const char **pos, int max_pos);

/* ironlayer.c: prints cmd's usage (and its help when full) to f. */
void cli_print_usage(FILE *f, const char *cmd, int full);
/* The usage on stderr; returns 2, the exit status of a usage error. */
int cli_usage_error(const char *cmd);

/* Colour codes, "" when off. */
enum cli_colour { C_RESET, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_CYAN };

/*
 * Whether f gets colour: it is a terminal, NO_COLOR is not set (to
 * anything, https://no-color.org) and TERM is not "dumb".
 */
int cli_colour_for(FILE *f);
/* The escape sequence for c when on, else "". */
const char *cli_c(int on, enum cli_colour c);

/* "1 error", "2 errors", "0 errors"; plural NULL means singular + "s". */
const char *cli_count(char *buf, size_t size, long long n, const char *singular,
		      const char *plural);
/* "$0.21", "$0.000013": the plan JSON's number rule with a dollar sign. */
const char *cli_cost(char *buf, size_t size, double usd);

/* o as indented JSON on stdout with a newline; 0, or 1 when stdout failed. */
int cli_print_json(json_object *o);
/* A member's string value, or NULL (also when it is not a string). */
const char *cli_str(json_object *o, const char *key);
/* A member's number (int or double), or def. */
double cli_num(json_object *o, const char *key, double def);

#endif
