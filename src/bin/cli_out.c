/* cli_out.c: options, colour, JSON output and counts for every command */
#include "bin/cli_out.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/plan.h"

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *arg)
{
	for (; opts != NULL && opts->name != NULL; opts++)
		if (strcmp(opts->name, arg) == 0)
			return opts;
	return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts,
	      const char **pos, int max_pos)
{
	int i, n = 0, dashdash = 0;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct cli_opt *o = dashdash || arg[0] != '-' || arg[1] == '\0' ? NULL :
			find_opt(opts, arg);

		if (!dashdash && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
			cli_print_usage(stdout, cmd, 1);
			return CLI_PARSE_HELP;
		}
		if (!dashdash && strcmp(arg, "--") == 0) {
			dashdash = 1;
		} else if (o != NULL && o->flag != NULL) {
			*o->flag = 1;
		} else if (o != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ironlayer %s: option %s needs a value\n", cmd,
					arg);
				return cli_usage_error(cmd), -1;
			}
			*o->value = argv[++i];
		} else if (!dashdash && arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr, "ironlayer %s: unknown option '%s'\n", cmd, arg);
			return cli_usage_error(cmd), -1;
		} else if (n == max_pos) {
			fprintf(stderr, "ironlayer %s: unexpected argument '%s'\n", cmd, arg);
			return cli_usage_error(cmd), -1;
		} else {
			pos[n++] = arg;
		}
	}
	return n;
}

int cli_colour_for(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (no != NULL && *no != '\0')
		return 0;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fileno(f));
}

const char *cli_c(int on, enum cli_colour c)
{
	static const char *const codes[] = {
		"\033[0m", "\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[33m", "\033[36m"
	};

	return on ? codes[c] : "";
}

const char *cli_count(char *buf, size_t size, long long n, const char *singular,
		      const char *plural)
{
	if (n == 1)
		snprintf(buf, size, "1 %s", singular);
	else if (plural != NULL)
		snprintf(buf, size, "%lld %s", n, plural);
	else
		snprintf(buf, size, "%lld %ss", n, singular);
	return buf;
}

const char *cli_cost(char *buf, size_t size, double usd)
{
	char num[PLAN_NUMBER_LEN];

	if (plan_format_number(num, usd) < 0)
		snprintf(num, sizeof(num), "%g", usd);
	snprintf(buf, size, "$%s", num);
	return buf;
}

int cli_print_json(json_object *o)
{
	const char *text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE);

	if (puts(text ? text : "null") < 0 || fflush(stdout) != 0) {
		perror("ironlayer: stdout");
		return 1;
	}
	return 0;
}

const char *cli_str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

double cli_num(json_object *o, const char *key, double def)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_double(v);
}
