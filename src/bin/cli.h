/* cli.h: the ironlayer command-line tool's subcommands */
#ifndef IL_CLI_H
#define IL_CLI_H

/*
 * Every subcommand has this shape: argv[0] is the subcommand's name, and the
 * return value is the process exit status (0 ok, 1 a problem the user can
 * fix, 2 usage).
 */
typedef int (*cli_fn)(int argc, char **argv);

/* --config FILE given before the subcommand, or NULL for the default. */
extern const char *cli_config_path;

int cli_migrate(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_repo(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_plan(int argc, char **argv);
int cli_models(int argc, char **argv);
int cli_lineage(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_rotate_master_key(int argc, char **argv);
int cli_routes(int argc, char **argv);

/* The API's client (cli_login.c, cli_remote.c, cli_lists.c, cli_apply.c). */
int cli_login(int argc, char **argv);
int cli_logout(int argc, char **argv);
int cli_remote(int argc, char **argv);
int cli_plans(int argc, char **argv);
int cli_approve(int argc, char **argv);
int cli_reject(int argc, char **argv);
int cli_apply(int argc, char **argv);
int cli_runs(int argc, char **argv);
int cli_envs(int argc, char **argv);

#endif
