/* ipmatch.h: IP addresses and networks (CIDR): the one parser, and matching */
#ifndef IL_IPMATCH_H
#define IL_IPMATCH_H

/* An IPv4 or IPv6 address, network byte order (IPv4 in the first 4 bytes). */
struct net_addr {
	int family;                   /* AF_INET or AF_INET6 */
	unsigned char b[16];
};

/* A numeric address (no name lookup); 0 or -1. */
int net_addr_parse(struct net_addr *out, const char *text);

struct net_cidr {
	struct net_addr addr;
	int prefix;                   /* 0..32 or 0..128 */
};
/*
 * "10.0.0.0/8", "fd00::/8", or one address (a /32 or /128); the bits past
 * the prefix must be zero ("10.1.2.3/8" is a typo, not a range). 0 or -1.
 */
int net_cidr_parse(struct net_cidr *out, const char *text);
/* 1 when addr is inside c (an IPv4-mapped address matches an IPv4 range). */
int net_cidr_contains(const struct net_cidr *c, const struct net_addr *addr);

/*
 * pattern is an IPv4 or IPv6 address, optionally "/prefix" (bits past it
 * ignored). Returns 1 when addr (an address in text form) lies inside it, 0
 * when not (or when addr is not an address), -1 when pattern is malformed.
 * addr NULL only checks pattern (0 or -1). An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) counts as its IPv4 address, in pattern and addr alike.
 */
int ip_match(const char *pattern, const char *addr);

/* 1 when addr matches an entry of the comma- or space-separated list. */
int ip_in_list(const char *list, const char *addr);

#endif
