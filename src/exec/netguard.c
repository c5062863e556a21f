/* netguard.c (exec): classify addresses, parse allow lists, resolve a host and check it */
#include "exec/netguard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/arena.h"
#include "util/error.h"

#define NET_LIST_SEPARATORS ", \t\r\n"

static enum net_kind classify_v4(const unsigned char *b)
{
	if (b[0] == 0)
		return NET_UNSPECIFIED;                 /* 0.0.0.0/8: "this network" */
	if (b[0] == 127)
		return NET_LOOPBACK;
	if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168))
		return NET_PRIVATE;
	if (b[0] == 100 && (b[1] & 0xc0) == 64)
		return NET_SHARED;
	if (b[0] == 169 && b[1] == 254)
		return NET_LINK_LOCAL;
	if (b[0] >= 224 && b[0] <= 239)
		return NET_MULTICAST;
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return NET_BROADCAST;
	if (b[0] >= 240 || (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
	    (b[0] == 198 && (b[1] & 0xfe) == 18))
		return NET_RESERVED;
	return NET_PUBLIC;
}

static int all_zero(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), or NULL. */
static const unsigned char *embedded_v4(const unsigned char *b)
{
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
		return b + 12;                          /* ::ffff:a.b.c.d */
	if (all_zero(b, 12))
		return b + 12;                          /* ::a.b.c.d (deprecated) */
	if (memcmp(b, nat64, 12) == 0)
		return b + 12;                          /* 64:ff9b::a.b.c.d */
	if (b[0] == 0x20 && b[1] == 0x02)
		return b + 2;                           /* 2002:aabb:ccdd::/48 */
	return NULL;
}

static enum net_kind classify_v6(const unsigned char *b)
{
	const unsigned char *v4;

	if (all_zero(b, 16))
		return NET_UNSPECIFIED;
	if (all_zero(b, 15) && b[15] == 1)
		return NET_LOOPBACK;
	if ((v4 = embedded_v4(b)) != NULL)
		return classify_v4(v4);
	if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
		return NET_PRIVATE;                     /* ULA fc00::/7, site-local fec0::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return NET_LINK_LOCAL;
	if (b[0] == 0xff)
		return NET_MULTICAST;
	if ((b[0] == 0x01 && b[1] == 0x00 && all_zero(b + 2, 6)) ||          /* 100::/64 */
	    (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
	     b[4] == 0x00 && b[5] == 0x01) ||                                 /* 64:ff9b:1::/48 */
	    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00))  /* Teredo */
		return NET_RESERVED;
	return NET_PUBLIC;
}

enum net_kind net_classify(const struct net_addr *addr)
{
	return addr->family == AF_INET ? classify_v4(addr->b) : classify_v6(addr->b);
}

const char *net_kind_name(enum net_kind kind)
{
	static const char *const names[] = {
		"public", "loopback", "private", "shared (carrier-grade NAT)", "link-local",
		"unspecified", "multicast", "broadcast", "reserved",
	};

	return (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

const char *net_addr_text(struct arena *a, const struct net_addr *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(addr->family, addr->b, buf, sizeof(buf)) == NULL)
		return NULL;
	return arena_strdup(a, buf);
}

int net_host_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_') || (label == 0 && c == '-') || ++label > 63)
			return 0;
	}
	return label > 0;
}

/* A copy of s (n bytes) in lower case. */
static char *lower_copy(struct arena *a, const char *s, size_t n)
{
	char *out = arena_strndup(a, s, n);
	size_t i;

	for (i = 0; out != NULL && i < n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return out;
}

/* Adds one entry of an allow list; 0, IL_EINVALID or IL_ENOMEM. */
static int allow_add(struct net_allow *out, struct arena *a, const char *entry)
{
	const char *name = strncmp(entry, "*.", 2) == 0 ? entry + 2 : entry;

	if (net_cidr_parse(&out->cidrs[out->n_cidrs], entry) == 0) {
		out->n_cidrs++;
		return 0;
	}
	if (strchr(entry, '/') != NULL || strchr(entry, ':') != NULL || !net_host_name_ok(name))
		return IL_EINVALID;
	out->names[out->n_names] = lower_copy(a, entry, strlen(entry));
	return out->names[out->n_names++] != NULL ? 0 : IL_ENOMEM;
}

int net_allow_parse(struct net_allow *out, const char **err, struct arena *a, const char *list)
{
	char *copy = arena_strdup(a, list ? list : ""), *tok, *save = NULL;
	size_t max = 1;
	const char *p;
	int rc;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (copy == NULL)
		return IL_ENOMEM;
	for (p = copy; *p != '\0'; p++)
		max += strchr(NET_LIST_SEPARATORS, *p) != NULL;
	out->cidrs = arena_calloc(a, max, sizeof(*out->cidrs));
	out->names = arena_calloc(a, max, sizeof(*out->names));
	if (out->cidrs == NULL || out->names == NULL)
		return IL_ENOMEM;
	for (tok = strtok_r(copy, NET_LIST_SEPARATORS, &save); tok != NULL;
	     tok = strtok_r(NULL, NET_LIST_SEPARATORS, &save)) {
		rc = allow_add(out, a, tok);
		if (rc == IL_EINVALID) {
			*err = arena_printf(a, "'%.100s' is neither an address, a CIDR, "
					    "a host name nor *.domain", tok);
			return *err != NULL ? IL_EINVALID : IL_ENOMEM;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int net_allow_name(const struct net_allow *allow, const char *host)
{
	size_t i, n = strlen(host);

	for (i = 0; i < allow->n_names; i++) {
		const char *e = allow->names[i];
		size_t m = strlen(e);

		if (strncmp(e, "*.", 2) == 0) {
			/* "*.example.com": any name ending in ".example.com", not the domain */
			if (n > m - 1 && strcasecmp(host + n - (m - 1), e + 1) == 0)
				return 1;
		} else if (strcasecmp(host, e) == 0) {
			return 1;
		}
	}
	return 0;
}

int net_allow_addr(const struct net_allow *allow, const struct net_addr *addr)
{
	size_t i;

	for (i = 0; i < allow->n_cidrs; i++)
		if (net_cidr_contains(&allow->cidrs[i], addr))
			return 1;
	return 0;
}

static int from_sockaddr(struct net_addr *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	out->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		memcpy(out->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static int is_own(const struct net_policy *p, const struct net_addr *addr)
{
	struct net_cidr exact;
	size_t i;

	for (i = 0; i < p->n_own; i++) {
		exact.addr = p->own[i];
		exact.prefix = p->own[i].family == AF_INET ? 32 : 128;
		if (net_cidr_contains(&exact, addr))
			return 1;
	}
	return 0;
}

/* Why addr may not be reached, or NULL; named_ok when the host's name is on the list. */
static const char *refusal(struct arena *a, const struct net_policy *p, const struct net_addr *addr,
			   int named_ok)
{
	enum net_kind kind = net_classify(addr);

	if (named_ok || net_allow_addr(&p->allow, addr))
		return NULL;
	if (kind != NET_PUBLIC)
		return arena_printf(a, "%s %s address", strchr("aeiou", net_kind_name(kind)[0]) ?
				    "an" : "a", net_kind_name(kind));
	if (is_own(p, addr))
		return "an address of this service's own databases";
	return NULL;
}

/* The message for a refused address of host. */
static const char *refused(struct arena *a, const struct net_policy *p, const char *host,
			   const char *text, const char *reason)
{
	struct net_addr literal;

	if (net_addr_parse(&literal, host) == 0)
		return arena_printf(a, "address %s is %s (not in %s)", text, reason, p->allow_key);
	return arena_printf(a, "host %s resolves to %s, %s (not in %s)", host, text, reason,
			    p->allow_key);
}

int net_resolve_checked(const char **address, const char **why, struct arena *a,
			const struct net_policy *p, const char *host)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct net_addr addr;
	const char *text = NULL, *reason;
	int rc, named_ok;

	*address = NULL;
	*why = NULL;
	if (!net_host_name_ok(host) && net_addr_parse(&addr, host) < 0) {
		*why = arena_printf(a, "host %.100s is not a host name or an address", host);
		return *why ? IL_EINVALID : IL_ENOMEM;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		*why = arena_printf(a, "host %s %s", host, rc == EAI_NONAME || rc == EAI_NODATA ?
				    "does not resolve" : "could not be resolved; try again");
		return *why ? IL_EINVALID : IL_ENOMEM;
	}
	named_ok = p->names_exempt && net_allow_name(&p->allow, host);
	rc = 0;
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
		if (from_sockaddr(&addr, ai->ai_addr) < 0)
			continue;
		if ((text = net_addr_text(a, &addr)) == NULL) {
			rc = IL_ENOMEM;
		} else if ((reason = refusal(a, p, &addr, named_ok)) != NULL) {
			*why = refused(a, p, host, text, reason);
			rc = *why != NULL ? IL_EINVALID : IL_ENOMEM;
		} else if (*address == NULL) {
			*address = text;
		}
	}
	freeaddrinfo(res);
	if (rc == 0 && *address == NULL) {
		*why = arena_printf(a, "host %s has no IPv4 or IPv6 address", host);
		rc = *why != NULL ? IL_EINVALID : IL_ENOMEM;
	}
	return rc;
}
