/* date.h: calendar dates as day numbers (proleptic Gregorian, UTC) */
#ifndef IL_DATE_H
#define IL_DATE_H

#define IL_DATE_LEN 10  /* YYYY-MM-DD */

/* Strict YYYY-MM-DD (years 1000-9999, real days) to days since
 * 1970-01-01. Returns 0 or -1. */
int date_parse(const char *s, long *days);
/* Days since 1970-01-01 to YYYY-MM-DD plus NUL. */
void date_format(long days, char out[IL_DATE_LEN + 1]);
#endif
