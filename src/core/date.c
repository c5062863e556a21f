/* date.c: calendar dates as day numbers (proleptic Gregorian, UTC) */
#include "core/date.h"

#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's civil algorithm). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, long *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int date_parse(const char *s, long *days)
{
	long y, m, d, cy, cm, cd;

	if (s == NULL || strlen(s) != IL_DATE_LEN || s[4] != '-' || s[7] != '-')
		return -1;
	if (digits(s, 4, &y) < 0 || digits(s + 5, 2, &m) < 0 ||
	    digits(s + 8, 2, &d) < 0)
		return -1;
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*days = days_from_civil(y, m, d);
	/* 2025-02-30 maps to a different date on the way back */
	civil_from_days(*days, &cy, &cm, &cd);
	return cy == y && cm == m && cd == d ? 0 : -1;
}

void date_format(long days, char out[IL_DATE_LEN + 1])
{
	long y, m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, IL_DATE_LEN + 1, "%04ld-%02ld-%02ld", y, m, d);
}
