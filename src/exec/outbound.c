/* outbound.c (exec): the policies for tenant connections, from the config */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "exec/exec.h"
#include "exec/netguard.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

#define OWN_MAX 64   /* addresses of the server's own databases we keep */

struct own_list {
	struct net_addr *addr;
	size_t n;
};

static void own_add_resolved(struct own_list *own, const char *host)
{
	struct addrinfo hints, *res = NULL, *ai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return;               /* the server cannot reach it by that name either */
	for (ai = res; ai != NULL && own->n < OWN_MAX; ai = ai->ai_next) {
		struct net_addr *x = &own->addr[own->n];

		memset(x, 0, sizeof(*x));
		x->family = ai->ai_family;
		if (ai->ai_family == AF_INET)
			memcpy(x->b, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(x->b, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		own->n++;
	}
	freeaddrinfo(res);
}

/* Adds the TCP addresses of a comma-separated libpq host or hostaddr list. */
static void own_add_hosts(struct own_list *own, struct arena *a, const char *list)
{
	char *copy = arena_strdup(a, list), *tok, *save = NULL;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*tok == '/' || *tok == '@' || *tok == '\0')
			continue;     /* a unix socket: tenants never get one */
		own_add_resolved(own, tok);
	}
}

/* The hosts one of the server's own connection strings connects to (with libpq's env defaults). */
static void own_add_dsn(struct own_list *own, struct arena *a, const char *dsn)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL;
	char *err = NULL;

	if (dsn == NULL || *dsn == '\0')
		return;
	opts = PQconninfoParse(dsn, &err);
	PQfreemem(err);
	if (opts == NULL)
		return;
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0 && o->val != NULL && *o->val != '\0')
			host = arena_strdup(a, o->val);
		else if (strcmp(o->keyword, "hostaddr") == 0 && o->val != NULL && *o->val != '\0')
			hostaddr = arena_strdup(a, o->val);
	}
	PQconninfoFree(opts);
	/* the server's own libpq falls back to its environment for what the string leaves out */
	if (host == NULL && hostaddr == NULL) {
		host = getenv("PGHOST");
		hostaddr = getenv("PGHOSTADDR");
	}
	if (host != NULL)
		own_add_hosts(own, a, host);
	if (hostaddr != NULL)
		own_add_hosts(own, a, hostaddr);
}

int exec_outbound_policy(struct net_policy *p, struct arena *a, const struct il_config *cfg,
			 enum exec_outbound kind)
{
	const char *dsns[4] = { cfg->database_url, cfg->migrate_database_url, cfg->warehouse_dsn,
				cfg->warehouse_admin_dsn };
	struct own_list own = { arena_calloc(a, OWN_MAX, sizeof(struct net_addr)), 0 };
	const char *err = NULL;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	if (own.addr == NULL)
		return IL_ENOMEM;
	p->allow_key = kind == EXEC_OUTBOUND_WAREHOUSE ? "warehouse_allowed_hosts" :
		       "databricks_allowed_hosts";
	p->names_exempt = kind == EXEC_OUTBOUND_WAREHOUSE;
	rc = net_allow_parse(&p->allow, &err, a, kind == EXEC_OUTBOUND_WAREHOUSE ?
			     cfg->warehouse_allowed_hosts : cfg->databricks_allowed_hosts);
	if (rc == IL_EINVALID)
		log_error("%s: %s", p->allow_key, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < 4; i++)
		own_add_dsn(&own, a, dsns[i]);
	p->own = own.addr;
	p->n_own = own.n;
	return 0;
}

int exec_outbound_check_config(const struct il_config *cfg, char *err, size_t errlen)
{
	struct arena *a = arena_new(0);
	const char *keys[2] = { "warehouse_allowed_hosts", "databricks_allowed_hosts" };
	const char *lists[2] = { cfg->warehouse_allowed_hosts, cfg->databricks_allowed_hosts };
	struct net_allow allow;
	const char *why = NULL;
	int i, rc = 0;

	if (a == NULL)
		return IL_ENOMEM;
	for (i = 0; i < 2 && rc == 0; i++)
		if ((rc = net_allow_parse(&allow, &why, a, lists[i])) < 0)
			snprintf(err, errlen, "%s: %s", keys[i], why ? why : "out of memory");
	if (rc == 0 && *cfg->databricks_ca_file != '\0' &&
	    access(cfg->databricks_ca_file, R_OK) != 0) {
		snprintf(err, errlen, "databricks_ca_file: cannot read %s",
			 cfg->databricks_ca_file);
		rc = IL_EINVALID;
	}
	arena_free(a);
	return rc;
}
