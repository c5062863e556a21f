/* ipmatch.c: is an IP address in a list of addresses and networks (CIDR)? */
#include "util/ipmatch.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "util/parse.h"

struct ip {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char b[16];
};

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parses text (n bytes, no prefix) into *out; -1 when it is not an address. */
static int ip_parse(struct ip *out, const char *text, size_t n)
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->b) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->b) != 1)
		return -1;
	out->family = AF_INET6;
	if (memcmp(out->b, v4_mapped, sizeof(v4_mapped)) == 0) {
		memmove(out->b, out->b + 12, 4);
		memset(out->b + 4, 0, 12);
		out->family = AF_INET;
	}
	return 0;
}

/* 1 when the first bits bits of a and b are equal. */
static int same_prefix(const unsigned char *a, const unsigned char *b, long bits)
{
	long whole = bits / 8;
	int rest = (int)(bits % 8);
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0;
}

int ip_match(const char *pattern, const char *addr)
{
	const char *slash = strchr(pattern, '/');
	size_t n = slash ? (size_t)(slash - pattern) : strlen(pattern);
	struct ip net, ip;
	int64_t bits;

	if (ip_parse(&net, pattern, n) < 0)
		return -1;
	bits = net.family == AF_INET ? 32 : 128;
	if (slash != NULL && parse_i64(slash + 1, 0, bits, &bits) < 0)
		return -1;
	if (addr == NULL || ip_parse(&ip, addr, strlen(addr)) < 0 || ip.family != net.family)
		return 0;
	return same_prefix(net.b, ip.b, (long)bits);
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
