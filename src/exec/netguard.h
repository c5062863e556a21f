/* netguard.h (exec): which network addresses a tenant-supplied host may reach */
#ifndef IL_NETGUARD_H
#define IL_NETGUARD_H

#include <stddef.h>

#include "util/ipmatch.h"   /* struct net_addr, struct net_cidr and their parsers */

struct arena;

/* What an address is; only NET_PUBLIC is reachable unless the operator allows it. */
enum net_kind {
	NET_PUBLIC,
	NET_LOOPBACK,                 /* 127.0.0.0/8, ::1 */
	NET_PRIVATE,                  /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 */
	NET_SHARED,                   /* 100.64.0.0/10, carrier-grade NAT */
	NET_LINK_LOCAL,               /* 169.254/16 (cloud metadata), fe80::/10 */
	NET_UNSPECIFIED,              /* 0.0.0.0/8, :: */
	NET_MULTICAST,                /* 224.0.0.0/4, ff00::/8 */
	NET_BROADCAST,                /* 255.255.255.255 */
	NET_RESERVED                  /* 240/4, 192.0.0/24, 198.18/15, 100::/64, 64:ff9b:1::/48 */
};

/*
 * The kind of an address. IPv6 forms that carry an IPv4 address (mapped
 * ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16)
 * are the kind of the IPv4 address they carry.
 */
enum net_kind net_classify(const struct net_addr *addr);
/* "loopback", "private", … for messages. */
const char *net_kind_name(enum net_kind kind);

/* The numeric text of addr, in a (NULL when out of memory). */
const char *net_addr_text(struct arena *a, const struct net_addr *addr);


/*
 * An operator's allow list: entries separated by commas or blanks, each an
 * address or CIDR, a host name, or "*." and a domain (any name below it).
 */
struct net_allow {
	struct net_cidr *cidrs;
	size_t n_cidrs;
	const char **names;           /* lower case; "*.x" kept as written */
	size_t n_names;
};
/* Parses list into out (in a); 0, IL_EINVALID with *err naming the bad entry, or IL_ENOMEM. */
int net_allow_parse(struct net_allow *out, const char **err, struct arena *a, const char *list);
/* 1 when host (a name, any case) is on the list by name or pattern. */
int net_allow_name(const struct net_allow *allow, const char *host);
/* 1 when addr is inside one of the list's CIDRs. */
int net_allow_addr(const struct net_allow *allow, const struct net_addr *addr);

/* 1 when s is a host name we accept: letters, digits, '-' and '.', no empty label, ≤ 253. */
int net_host_name_ok(const char *s);

/* How one kind of outbound connection is checked. */
struct net_policy {
	struct net_allow allow;
	const char *allow_key;        /* the config key named in refusals */
	int names_exempt;             /* a name on the list lets its addresses through */
	const struct net_addr *own;   /* the server's own database addresses: refused */
	size_t n_own;
};

/*
 * Resolves host (a name or an address literal) and checks every address it
 * resolves to against p: an address passes when it is public and not one of
 * the server's own, or when the list allows it. Returns 0 with *address the
 * numeric text of the first address (the one to connect to, so no second
 * lookup can answer differently); IL_EINVALID with *why, a message for the
 * tenant, when the host does not resolve or any address is refused; IL_ENOMEM.
 */
int net_resolve_checked(const char **address, const char **why, struct arena *a,
			const struct net_policy *p, const char *host);

#endif
