/* ipmatch.h: is an IP address in a list of addresses and networks (CIDR)? */
#ifndef IL_IPMATCH_H
#define IL_IPMATCH_H

/*
 * pattern is an IPv4 or IPv6 address, optionally "/prefix". Returns 1 when
 * addr (an address in text form) lies inside it, 0 when not (or when addr is
 * not an address), -1 when pattern is malformed. addr NULL only checks
 * pattern (0 or -1). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as
 * its IPv4 address.
 */
int ip_match(const char *pattern, const char *addr);

/* 1 when addr matches an entry of the comma- or space-separated list. */
int ip_in_list(const char *list, const char *addr);

#endif
