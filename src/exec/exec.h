/* exec.h: executors run one plan step's SQL against a warehouse */
#ifndef IL_EXEC_H
#define IL_EXEC_H

#include <stddef.h>

#include "core/model.h"

struct arena;
struct il_config;
struct net_policy;

/* What an executor needs to run one step; strings are borrowed. */
struct exec_step {
	const char *model;            /* schema.name */
	const char *schema;           /* the target schema (already prefixed), validated */
	const char *table;            /* the part after the dot, validated */
	const char *catalog;          /* Databricks only; NULL for PostgreSQL */
	enum materialization materialization;
	const char *time_column;      /* INSERT_OVERWRITE */
	const char *unique_key;       /* MERGE: one column or "a, b" */
	int full_refresh;             /* run_type FULL_REFRESH */
	const char *start, *end;      /* YYYY-MM-DD, [start, end); NULL without a range */
	const char *sql;              /* the rendered SELECT */
	const char *run_id;           /* for naming and tracing */
	/*
	 * When the step must be over, on the exec_now_ms() clock (0: no limit),
	 * and the seconds that gives it, for the message. The executor stops
	 * waiting then, asks the warehouse to cancel, and fails the step with
	 * "timed out after N s": nothing the step's SQL does moves it.
	 */
	long long deadline_ms;
	long timeout_seconds;
};

/* What came back; strings live in the arena given to run(). */
struct exec_result {
	int ok;
	double runtime_seconds;
	long long rows;               /* -1 when the warehouse did not say */
	const char *error;            /* the warehouse's message, truncated, on failure */
	const char *statement_id;     /* Databricks statement id, or NULL */
};

struct executor {
	const char *name;             /* "postgres" or "databricks" */
	/*
	 * Runs the step to completion (or failure). Returns 0 with *res filled
	 * either way; a negative code only when the executor itself broke.
	 */
	int (*run)(struct executor *ex, struct arena *a, const struct exec_step *s,
		   struct exec_result *res);
	/* Releases connections; accepts a partly opened executor. */
	void (*close)(struct executor *ex);
	void *state;
};

/* The statements one step runs, in order; see exec_step_statements. */
#define EXEC_MAX_STATEMENTS 10
struct step_sql {
	const char *sql[EXEC_MAX_STATEMENTS];
	int with_schema[EXEC_MAX_STATEMENTS];   /* Databricks: the step's schema is the default */
	int n;
};

/*
 * The exact statements step s runs on the executor named executor
 * ("postgres" or "databricks"), in order. Apply sends these and the SQL
 * preview shows them, so both come from here. Pure: nothing is connected to
 * or run. 0; IL_EINVALID with *why set when the executor refuses the step
 * (a name, key, range or SQL it cannot use); IL_ENOMEM.
 */
int exec_step_statements(struct step_sql *out, const char **why, struct arena *a,
			 const char *executor, const struct exec_step *s);

/* Longest warehouse error message kept in a run record. */
#define EXEC_MAX_ERROR 2000

/* Milliseconds on a monotonic clock: the clock of exec_step.deadline_ms. */
long long exec_now_ms(void);

/* 1 when s is a lower-case identifier we splice into SQL: [a-z_][a-z0-9_]{0,62}. */
int exec_ident_ok(const char *s);
/* A step's SELECT without trailing blanks and semicolons (maybe ""), so it
 * can be wrapped; NULL when out of memory. */
const char *exec_select_body(struct arena *a, const char *sql);
/* 1 for a real YYYY-MM-DD date (a plan's range bound spliced into SQL). */
int exec_date_ok(const char *s);
/* s as a double-quoted identifier (for validated names only), in a. */
const char *exec_quote_ident(struct arena *a, const char *s);
/* Copies msg cut to EXEC_MAX_ERROR bytes (on a UTF-8 boundary), without trailing blanks. */
const char *exec_error_text(struct arena *a, const char *msg);

/*
 * Renders a model body for execution: {{ ref('x') }} becomes the quoted
 * qualified name of x in the environment (qualify gets the ref argument as
 * written and returns NULL when it names no model), {{ start_date }} /
 * {{ end_date }} become quoted ISO dates (also when the template stands
 * alone inside a string literal), and any other template is an error.
 * Returns 0, or IL_EINVALID with *err set.
 */
typedef const char *(*exec_qualify_fn)(void *payload, const char *model);
int exec_render(const char **out, const char **err, struct arena *a, const char *body,
		size_t len, const char *start, const char *end, exec_qualify_fn qualify,
		void *payload);

/*
 * Outbound policies for tenant connections (outbound.c). A tenant's own
 * PostgreSQL host is checked against warehouse_allowed_hosts (a host name on
 * it lets its addresses through); a Databricks host against
 * databricks_allowed_hosts (names say which hosts may be named; only address
 * and CIDR entries let non-public addresses through).
 */
enum exec_outbound { EXEC_OUTBOUND_WAREHOUSE, EXEC_OUTBOUND_DATABRICKS };
/*
 * The policy for kind, in a: the allow list, and the addresses of the
 * server's own databases (the TCP hosts of database_url, migrate_database_url,
 * warehouse_dsn and warehouse_admin_dsn), which are refused unless listed.
 * 0, IL_EINVALID (the list is invalid; logged) or IL_ENOMEM.
 */
int exec_outbound_policy(struct net_policy *p, struct arena *a, const struct il_config *cfg,
			 enum exec_outbound kind);
/* Checks the outbound keys of cfg at startup; -1 with a one-line err when invalid. */
int exec_outbound_check_config(const struct il_config *cfg, char *err, size_t errlen);

/* A Databricks workspace URL taken apart (dbx_target.c). */
struct exec_dbx_url {
	const char *host;             /* lower case, without brackets */
	long port;                    /* 443 unless given */
	const char *base;             /* https://host[:port]: where requests go */
	int literal;                  /* host is an IP address */
};
/*
 * Accepts only https://host[:port] with an optional trailing "/": no
 * credentials, path, query or fragment. 0; IL_EINVALID with *why (for the
 * tenant, starting "connection.host"); IL_ENOMEM.
 */
int exec_dbx_url_parse(struct exec_dbx_url *u, const char **why, struct arena *a,
		       const char *url);
/*
 * exec_dbx_url_parse, then the host must be on databricks_allowed_hosts and
 * every address it resolves to must pass the policy. 0 with *address the
 * numeric address to connect to; IL_EINVALID with *why; IL_ENOMEM.
 */
int exec_dbx_target_check(struct exec_dbx_url *u, const char **address, const char **why,
			  struct arena *a, const char *url, const struct il_config *cfg);

/* Databricks SQL Statement Execution API (databricks.c). */
struct exec_databricks_opts {
	const char *host;             /* https://host[:port] (see exec_dbx_url_parse) */
	const char *address;          /* the checked address connections go to (pinned) */
	const char *ca_file;          /* CA bundle to verify TLS with; NULL or "" = the system's */
	const char *token;            /* bearer token: never logged */
	const char *warehouse_id;
	/* per statement (capped by the step's deadline), then cancel */
	long timeout_seconds;
	long poll_interval_ms;
	int max_retries;              /* on 429 and 5xx, with backoff */
};
/* An executor in arena a; close() releases it. 0, IL_EINVALID or IL_ENOMEM. */
int exec_databricks_open(struct executor **out, struct arena *a,
			 const struct exec_databricks_opts *opts);

/*
 * PostgreSQL warehouse (postgres.c): conninfo is a libpq connection string
 * or URI from the operator's config (never a tenant's: see
 * exec_postgres_open_target); user and password, when not NULL, replace the
 * ones it names, and connecting gives up after connect_timeout_s seconds
 * whatever it says. Every statement is sent asynchronously and waited for
 * until the step's deadline (exec_step.deadline_ms); a connection dropped
 * after a timeout is opened again for the next step. 0, IL_EUNAVAIL (cannot
 * connect: *why says so for a run record, details are logged) or IL_ENOMEM.
 */
int exec_postgres_open(struct executor **out, const char **why, struct arena *a,
		       const char *conninfo, const char *user, const char *password,
		       long statement_timeout_ms, long connect_timeout_s);

/* A tenant's own PostgreSQL connection, checked (pg_target.c); strings in the arena. */
struct exec_pg_target {
	const char *host;             /* the name given (for TLS checks), or NULL */
	const char *address;          /* the checked numeric address: the only one dialled */
	const char *port;
	const char *dbname;
	const char *user;
	const char *password;
	const char *sslmode;
	const char *application_name;
	long connect_timeout;         /* seconds, at most 30 */
};
/*
 * Parses a tenant's DSN (key=value or URI) with PQconninfoParse. Only host
 * or hostaddr, port, dbname, user, password, sslmode, connect_timeout and
 * application_name; a user and a password; one TCP host, whose every
 * address must pass warehouse_allowed_hosts' policy. 0; IL_EINVALID with
 * *why (for the tenant: names the keyword or the address); IL_ENOMEM.
 */
int exec_pg_target_check(struct exec_pg_target *t, const char **why, struct arena *a,
			 const char *dsn, const struct il_config *cfg);
/*
 * Connects to a checked target: hostaddr pinned to t->address, GSS
 * encryption off, every option that would read a file of the worker's set to
 * a path that cannot exist, and the worker's PG*, KRB5* and GSS* environment
 * hidden while it connects (and whenever it connects again). Giving up after
 * t->connect_timeout seconds; statements as exec_postgres_open. 0,
 * IL_EUNAVAIL (*why for a run record; details logged), IL_EINVALID or
 * IL_ENOMEM.
 */
int exec_postgres_open_target(struct executor **out, const char **why, struct arena *a,
			      const struct exec_pg_target *t, long statement_timeout_ms);
/* At most this many schemas of warehouse_shared_schemas are shared (the rest are ignored). */
#define EXEC_MAX_SHARED_SCHEMAS 32

/* A tenant of the shared PostgreSQL warehouse; names must be valid identifiers. */
struct exec_pg_tenant {
	const char *role;             /* its login role, also the name of its database */
	const char *password;         /* set when the role is created */
	long connection_limit;        /* the role's CONNECTION LIMIT */
	const char *template_db;      /* the tenant database is created from it */
	const char *shared_server;    /* the template's postgres_fdw server (warehouse database) */
	const char *shared_reader;    /* the login of that server's user mapping */
	const char *shared_schemas;   /* comma-separated, in the warehouse database */
	const char *const *schemas;   /* the tenant's own schemas to create */
	size_t n_schemas;
};

/*
 * Prepares the shared warehouse for a tenant through the admin connection:
 * the login role (created with password when missing; NOINHERIT, member of
 * nothing, no CREATEDB/CREATEROLE, the connection limit), its database (from
 * the template, owned by the role, no PUBLIC privileges), the shared schemas
 * that exist in the warehouse database as admin-owned schemas of foreign
 * tables it may only SELECT (tables new in the source are imported), and each
 * schema in schemas[] owned by the role. 0, or IL_EINVALID / IL_EUNAVAIL /
 * IL_ERR with *err for the log.
 */
int exec_postgres_provision(const char **err, struct arena *a, const char *admin_conninfo,
			    const struct exec_pg_tenant *t);

/* conninfo (key=value or URI) with its dbname replaced, as key='value' text; NULL if unparsable. */
const char *exec_conninfo_dbname(struct arena *a, const char *conninfo, const char *dbname);

#endif
