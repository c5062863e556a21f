/* pg_target.c (exec): a tenant's PostgreSQL connection string, parsed, checked and pinned */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/x509.h>

#include "exec/exec.h"
#include "exec/netguard.h"
#include "exec/postgres_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"

#define PG_MAX_DSN 4096
#define PG_CONNECT_TIMEOUT_DEFAULT 10L
#define PG_CONNECT_TIMEOUT_MAX 30L
/* A path that can never exist (/dev/null is not a directory): libpq skips such files. */
#define NOWHERE "/dev/null/ironlayer-none"

/* The only keywords a tenant's connection string may use. */
static const char *const allowed_keys[] = {
	"host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "connect_timeout",
	"application_name",
};
#define ALLOWED_TEXT "host or hostaddr, port, dbname, user, password, sslmode, " \
	"connect_timeout, application_name"

static const char *const sslmodes[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full",
};

static int in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* Where the value of an allowed keyword goes in t. */
static const char **slot(struct exec_pg_target *t, const char *key, const char **hostaddr,
			 const char **timeout)
{
	if (strcmp(key, "host") == 0)
		return &t->host;
	if (strcmp(key, "hostaddr") == 0)
		return hostaddr;
	if (strcmp(key, "port") == 0)
		return &t->port;
	if (strcmp(key, "dbname") == 0)
		return &t->dbname;
	if (strcmp(key, "user") == 0)
		return &t->user;
	if (strcmp(key, "password") == 0)
		return &t->password;
	if (strcmp(key, "sslmode") == 0)
		return &t->sslmode;
	if (strcmp(key, "connect_timeout") == 0)
		return timeout;
	return &t->application_name;
}

/* Copies the allowed keywords into t; the first other keyword given is refused. */
static const char *take_options(struct exec_pg_target *t, const char **hostaddr,
				const char **timeout, struct arena *a, const PQconninfoOption *opts)
{
	const PQconninfoOption *o;
	size_t n = sizeof(allowed_keys) / sizeof(allowed_keys[0]);

	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (!in_list(o->keyword, allowed_keys, n))
			return arena_printf(a, "connection keyword %s is not allowed (allowed: "
					    ALLOWED_TEXT ")", o->keyword);
		*slot(t, o->keyword, hostaddr, timeout) = arena_strdup(a, o->val);
	}
	return NULL;
}

/* Why the host (a name or address to send as host=) is unusable, or NULL. */
static const char *check_host(struct arena *a, const char *host)
{
	struct net_addr literal;

	if (*host == '\0')
		return "connection needs a host (a name or an address)";
	if (*host == '/' || *host == '@')
		return "connection host must be a network host: unix sockets are not allowed";
	if (strchr(host, ',') != NULL)
		return "connection must name exactly one host";
	if (!net_host_name_ok(host) && net_addr_parse(&literal, host) < 0)
		return arena_printf(a, "connection host %.100s is not a host name or an address",
				    host);
	return NULL;
}

static const char *check_port(const char *port)
{
	int64_t v;

	return parse_i64(port, 1, 65535, &v) < 0 ? "connection port must be one number from 1 "
	       "to 65535" : NULL;
}

/* Fills the defaults and checks every field but the address; NULL or why not. */
static const char *check_fields(struct exec_pg_target *t, struct arena *a, const char *hostaddr,
				const char *timeout)
{
	struct net_addr literal;
	int64_t secs = 0;
	const char *why;

	if (t->host == NULL && hostaddr == NULL)
		return "connection needs a host (a name or an address)";
	if (t->host != NULL && (why = check_host(a, t->host)) != NULL)
		return why;
	if (hostaddr != NULL && net_addr_parse(&literal, hostaddr) < 0)
		return "connection hostaddr must be one numeric IPv4 or IPv6 address";
	if (t->port != NULL && (why = check_port(t->port)) != NULL)
		return why;
	if (t->user == NULL || *t->user == '\0')
		return "connection needs a user";
	if (t->password == NULL || *t->password == '\0')
		return "connection needs a password (the server has no credentials of its own to "
		       "lend)";
	if (t->dbname != NULL && *t->dbname == '\0')
		return "connection dbname must not be empty";
	if (t->sslmode != NULL &&
	    !in_list(t->sslmode, sslmodes, sizeof(sslmodes) / sizeof(sslmodes[0])))
		return "connection sslmode must be disable, allow, prefer, require, verify-ca or "
		       "verify-full";
	if (timeout != NULL && parse_i64(timeout, 0, 1000000, &secs) < 0)
		return "connection connect_timeout must be a number of seconds";
	if (t->application_name != NULL && strlen(t->application_name) > 63)
		return "connection application_name is longer than 63 characters";
	t->connect_timeout = secs <= 0 ? PG_CONNECT_TIMEOUT_DEFAULT :
			     secs > PG_CONNECT_TIMEOUT_MAX ? PG_CONNECT_TIMEOUT_MAX : (long)secs;
	if (t->port == NULL)
		t->port = "5432";
	if (t->dbname == NULL)
		t->dbname = t->user;
	if (t->sslmode == NULL)
		t->sslmode = "prefer";
	if (t->application_name == NULL)
		t->application_name = "ironlayer";
	return NULL;
}

/* The options of dsn, or NULL with *why (or without it when out of memory). */
static PQconninfoOption *parse_dsn(const char **why, const char *dsn)
{
	PQconninfoOption *opts;
	char *err = NULL;

	if (strlen(dsn) > PG_MAX_DSN) {
		*why = "connection is longer than 4096 bytes";
		return NULL;
	}
	opts = PQconninfoParse(dsn, &err);
	if (opts == NULL && err != NULL)
		*why = "connection is not a libpq connection string (key=value pairs or a "
		       "postgresql:// URI with known keywords)";
	PQfreemem(err);
	return opts;
}

int exec_pg_target_check(struct exec_pg_target *t, const char **why, struct arena *a,
			 const char *dsn, const struct il_config *cfg)
{
	const char *hostaddr = NULL, *timeout = NULL;
	PQconninfoOption *opts;
	struct net_policy p;
	int rc;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	if ((opts = parse_dsn(why, dsn)) == NULL)
		return *why != NULL ? IL_EINVALID : IL_ENOMEM;
	*why = take_options(t, &hostaddr, &timeout, a, opts);
	PQconninfoFree(opts);
	if (*why == NULL)
		*why = check_fields(t, a, hostaddr, timeout);
	if (*why != NULL)
		return IL_EINVALID;
	if ((rc = exec_outbound_policy(&p, a, cfg, EXEC_OUTBOUND_WAREHOUSE)) < 0)
		return rc;
	/* with hostaddr, libpq connects there and uses host only for TLS: check what is dialled */
	return net_resolve_checked(&t->address, why, a, &p, hostaddr ? hostaddr : t->host);
}

/* ---- connecting without the worker's ambient credentials ---------------- */

extern char **environ;

/* Set while a tenant connects: files that do not exist, GSS proxying off. */
static const char *const planted[][2] = {
	{ "PGPASSFILE", NOWHERE },
	{ "PGSERVICEFILE", NOWHERE },
	{ "PGSYSCONFDIR", NOWHERE },
	{ "KRB5CCNAME", "FILE:" NOWHERE },
	{ "KRB5_CLIENT_KTNAME", "FILE:" NOWHERE },
	{ "KRB5_KTNAME", "FILE:" NOWHERE },
	{ "GSS_USE_PROXY", "no" },
};
#define N_PLANTED (sizeof(planted) / sizeof(planted[0]))

static int ambient_name(const char *entry)
{
	return strncmp(entry, "PG", 2) == 0 || strncmp(entry, "KRB5", 4) == 0 ||
	       strncmp(entry, "GSS", 3) == 0;
}

int exec_pg_hide_ambient(struct exec_pg_ambient *saved, struct arena *a)
{
	size_t i, n = 0;

	for (i = 0; environ[i] != NULL; i++)
		n += ambient_name(environ[i]);
	saved->names = arena_calloc(a, n + 1, sizeof(char *));
	saved->values = arena_calloc(a, n + 1, sizeof(char *));
	saved->n = 0;
	if (saved->names == NULL || saved->values == NULL)
		return IL_ENOMEM;
	for (i = 0; environ[i] != NULL && saved->n < n; i++) {
		const char *eq = strchr(environ[i], '=');

		if (!ambient_name(environ[i]) || eq == NULL)
			continue;
		saved->names[saved->n] = arena_strndup(a, environ[i], (size_t)(eq - environ[i]));
		saved->values[saved->n] = arena_strdup(a, eq + 1);
		if (saved->names[saved->n] == NULL || saved->values[saved->n] == NULL)
			return IL_ENOMEM;
		saved->n++;
	}
	for (i = 0; i < saved->n; i++)
		unsetenv(saved->names[i]);
	for (i = 0; i < N_PLANTED; i++)
		setenv(planted[i][0], planted[i][1], 1);
	return 0;
}

void exec_pg_restore_ambient(const struct exec_pg_ambient *saved)
{
	size_t i;

	for (i = 0; i < N_PLANTED; i++)
		unsetenv(planted[i][0]);
	for (i = 0; i < saved->n; i++)
		setenv(saved->names[i], saved->values[i], 1);
}

/* 1 when this libpq knows keyword (older ones lack e.g. sslcrldir). */
static int libpq_knows(const PQconninfoOption *defs, const char *keyword)
{
	const PQconninfoOption *o;

	for (o = defs; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return 1;
	return 0;
}

/* The keywords of a tenant connection: the checked ones and a safe value for the rest. */
static size_t target_params(const char **keys, const char **vals, struct arena *a,
			    const struct exec_pg_target *t, const PQconninfoOption *defs)
{
	int verify = strncmp(t->sslmode, "verify-", 7) == 0;
	const char *fixed[][2] = {
		{ "hostaddr", t->address }, { "host", t->host ? t->host : t->address },
		{ "port", t->port }, { "dbname", t->dbname }, { "user", t->user },
		{ "password", t->password }, { "sslmode", t->sslmode },
		{ "application_name", t->application_name },
		{ "connect_timeout", arena_printf(a, "%ld", t->connect_timeout) },
		/* nothing read from the worker's files: the tenant's server sees none of them */
		{ "passfile", NOWHERE }, { "sslcert", NOWHERE }, { "sslkey", NOWHERE },
		{ "sslcrl", NOWHERE }, { "sslcrldir", NOWHERE },
		/* verify-* checks against the public CAs; otherwise no root file (libpq
		 * would turn require into verify-ca when one exists) */
		{ "sslrootcert", verify ? X509_get_default_cert_file() : NOWHERE },
		{ "gssencmode", "disable" }, { "krbsrvname", "postgres" },
		{ "target_session_attrs", "any" }, { "client_encoding", "UTF8" },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!libpq_knows(defs, fixed[i][0]))
			continue;
		keys[n] = fixed[i][0];
		vals[n++] = fixed[i][1];
	}
	keys[n] = NULL;
	vals[n] = NULL;
	return n;
}

int exec_postgres_open_target(struct executor **out, const char **why, struct arena *a,
			      const struct exec_pg_target *t, long statement_timeout_ms)
{
	const char *keys[32], *vals[32];
	PQconninfoOption *defs = NULL;
	struct exec_pg_ambient saved = { NULL, NULL, 0 };
	struct exec_pg_dial d = { keys, vals, 0, 1, statement_timeout_ms, t->connect_timeout };
	int rc;

	*out = NULL;
	*why = NULL;
	if (t->address == NULL || t->user == NULL || t->password == NULL || t->sslmode == NULL)
		return IL_EINVALID;
	/* libpq's defaults come from the environment too: read them once it is clean */
	if ((rc = exec_pg_hide_ambient(&saved, a)) == 0 && (defs = PQconndefaults()) == NULL)
		rc = IL_ENOMEM;
	if (rc == 0) {
		target_params(keys, vals, a, t, defs);
		PQconninfoFree(defs);
	}
	exec_pg_restore_ambient(&saved);
	/* it hides the environment again whenever it connects */
	return rc == 0 ? exec_postgres_connect(out, why, a, &d) : rc;
}
