/* dbx_target.c (exec): a Databricks workspace URL, parsed and checked before anything is sent */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exec/exec.h"
#include "exec/netguard.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"

#define DBX_MAX_URL 2048

/* Why the URL's characters or shape around the authority are refused, or NULL. */
static const char *check_shape(const char *url, const char *tail)
{
	const char *p;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return "must not contain spaces or control characters";
	if (strchr(url, '@') != NULL)
		return "must not contain credentials (user:password@)";
	if (strchr(tail, '?') != NULL)
		return "must not have a query (?…)";
	if (strchr(tail, '#') != NULL)
		return "must not have a fragment (#…)";
	if (*tail != '\0' && strcmp(tail, "/") != 0)
		return "must not have a path: give only https://host[:port]";
	return NULL;
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Splits "host", "host:port" or "[v6]:port" (n bytes) into u; NULL, why not, or "" (no memory). */
static const char *split_authority(struct exec_dbx_url *u, struct arena *a, const char *s,
				   size_t n)
{
	int bracket = s[0] == '[';
	const char *colon = NULL, *host = s + bracket, *close = NULL;
	size_t host_len = n;
	struct net_addr addr;
	int64_t port = 443;
	char *h;

	if (bracket) {
		if ((close = memchr(s, ']', n)) == NULL)
			return "has an unclosed [";
		host_len = (size_t)(close - host);
		if (close + 1 < s + n && close[1] != ':')
			return "has something after ] that is not a port";
		colon = close + 1 < s + n ? close + 1 : NULL;
	} else if ((colon = memchr(s, ':', n)) != NULL) {
		host_len = (size_t)(colon - s);
	}
	if (colon != NULL) {
		char *digits = arena_strndup(a, colon + 1, (size_t)(s + n - colon - 1));

		if (digits == NULL)
			return "";
		if (parse_i64(digits, 1, 65535, &port) < 0)
			return "port must be a number from 1 to 65535";
	}
	if ((h = arena_strndup(a, host, host_len)) == NULL)
		return "";
	lower(h);
	u->literal = net_addr_parse(&addr, h) == 0;
	if (bracket ? !(u->literal && addr.family == AF_INET6) :
	    !(u->literal ? addr.family == AF_INET : net_host_name_ok(h)))
		return "must name a host (a DNS name or an address)";
	u->host = h;
	u->port = (long)port;
	u->base = colon ? arena_printf(a, "https://%s%s%s:%ld", bracket ? "[" : "", h,
				       bracket ? "]" : "", u->port) :
		  arena_printf(a, "https://%s%s%s", bracket ? "[" : "", h, bracket ? "]" : "");
	return u->base != NULL ? NULL : "";
}

/* Why url is not https://host[:port][/], NULL, or "" when memory ran out. */
static const char *url_problem(struct exec_dbx_url *u, struct arena *a, const char *url)
{
	const char *auth = url + 8, *msg;
	size_t n;

	if (strlen(url) > DBX_MAX_URL)
		return "is longer than 2048 characters";
	if (strncmp(url, "https://", 8) != 0)
		return "must start with https:// (the token never travels in clear text)";
	n = strcspn(auth, "/?#");
	if ((msg = check_shape(url, auth + n)) != NULL)
		return msg;
	return n == 0 ? "must name a host" : split_authority(u, a, auth, n);
}

int exec_dbx_url_parse(struct exec_dbx_url *u, const char **why, struct arena *a, const char *url)
{
	const char *msg;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if ((msg = url_problem(u, a, url)) == NULL)
		return 0;
	if (*msg == '\0')
		return IL_ENOMEM;
	*why = arena_printf(a, "connection.host %s", msg);
	return *why != NULL ? IL_EINVALID : IL_ENOMEM;
}

int exec_dbx_target_check(struct exec_dbx_url *u, const char **address, const char **why,
			  struct arena *a, const char *url, const struct il_config *cfg)
{
	struct net_policy p;
	struct net_addr literal;
	int rc, listed;

	*address = NULL;
	if ((rc = exec_dbx_url_parse(u, why, a, url)) < 0)
		return rc;
	if ((rc = exec_outbound_policy(&p, a, cfg, EXEC_OUTBOUND_DATABRICKS)) < 0)
		return rc;
	listed = u->literal ? net_addr_parse(&literal, u->host) == 0 &&
			      net_allow_addr(&p.allow, &literal) :
		 net_allow_name(&p.allow, u->host);
	if (!listed) {
		*why = arena_printf(a, "connection.host %s is not in databricks_allowed_hosts",
				    u->host);
		return *why != NULL ? IL_EINVALID : IL_ENOMEM;
	}
	if ((rc = net_resolve_checked(address, why, a, &p, u->host)) == IL_EINVALID)
		*why = arena_printf(a, "connection.host: %s", *why);
	return rc;
}
