/* ipmatch.c: IP addresses and networks (CIDR): the one parser, and matching */
#include "util/ipmatch.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "util/parse.h"

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int net_addr_parse(struct net_addr *out, const char *text)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->b) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->b) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* An IPv4-mapped IPv6 address becomes the IPv4 address it maps. */
static void unmap(struct net_addr *a)
{
	if (a->family != AF_INET6 || memcmp(a->b, v4_mapped, sizeof(v4_mapped)) != 0)
		return;
	memmove(a->b, a->b + 12, 4);
	memset(a->b + 4, 0, 12);
	a->family = AF_INET;
}

/* What a pattern of ip_match may be that a network of net_cidr_parse may not. */
enum cidr_loose {
	CIDR_STRICT = 0,
	CIDR_LOOSE = 1                /* a mapped address counts as IPv4; host bits ignored */
};

static int cidr_parse(struct net_cidr *out, const char *text, enum cidr_loose loose)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	int max, i;
	int64_t prefix;

	if (n == 0 || n >= INET6_ADDRSTRLEN)
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (net_addr_parse(&out->addr, buf) < 0)
		return -1;
	if (loose)
		unmap(&out->addr);
	max = out->addr.family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash == NULL)
		return 0;
	if (slash[1] < '0' || slash[1] > '9' || parse_i64(slash + 1, 0, max, &prefix) < 0)
		return -1;
	out->prefix = (int)prefix;
	for (i = out->prefix; !loose && i < max; i++)
		if (out->addr.b[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

int net_cidr_parse(struct net_cidr *out, const char *text)
{
	return cidr_parse(out, text, CIDR_STRICT);
}

/* 1 when the first bits bits of x and y are equal. */
static int prefix_equal(const unsigned char *x, const unsigned char *y, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (memcmp(x, y, (size_t)whole) != 0)
		return 0;
	return rest == 0 || (x[whole] & mask) == (y[whole] & mask);
}

int net_cidr_contains(const struct net_cidr *c, const struct net_addr *addr)
{
	const unsigned char *v4 = addr->b;

	if (c->addr.family != addr->family) {
		/* an IPv4 range covers the IPv4-mapped form of its addresses */
		if (c->addr.family != AF_INET ||
		    memcmp(addr->b, v4_mapped, sizeof(v4_mapped)) != 0)
			return 0;
		v4 = addr->b + 12;
	}
	return prefix_equal(c->addr.b, v4, c->prefix);
}

int ip_match(const char *pattern, const char *addr)
{
	struct net_cidr net;
	struct net_addr ip;

	if (cidr_parse(&net, pattern, CIDR_LOOSE) < 0)
		return -1;
	if (addr == NULL || net_addr_parse(&ip, addr) < 0)
		return 0;
	unmap(&ip);
	return ip.family == net.addr.family && net_cidr_contains(&net, &ip);
}

int ip_in_list(const char *list, const char *addr)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t len;
		char entry[80];

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len > 0 && len < sizeof(entry)) {
			memcpy(entry, p, len);
			entry[len] = '\0';
			if (ip_match(entry, addr) == 1)
				return 1;
		}
		p += len;
	}
	return 0;
}
