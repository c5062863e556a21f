/* log.c: one JSON object per line on stderr */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/limits.h"

static enum il_log_level min_level = IL_LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum il_log_level level)
{
	min_level = level;
}

int log_level_parse(const char *name, enum il_log_level *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum il_log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_enabled(enum il_log_level level)
{
	return level >= min_level;
}

void log_timestamp(char *out, unsigned long size)
{
	struct timeval tv;
	struct tm tm;
	char base[24];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03ldZ", base, (long)(tv.tv_usec / 1000));
}

/* JSON-escapes src into dst (size bytes), cutting rather than overflowing. */
static void escape_into(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 7 < size; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(dst + o, size - o, "\\u%04x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
}

void log_msg(enum il_log_level level, const char *fmt, ...)
{
	char msg[IL_MAX_LOG_LINE / 2], esc[IL_MAX_LOG_LINE], ts[32];
	char line[IL_MAX_LOG_LINE + 128];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	escape_into(esc, sizeof(esc), msg);
	log_timestamp(ts, sizeof(ts));
	snprintf(line, sizeof(line),
		 "{\"ts\":\"%s\",\"level\":\"%s\",\"pid\":%ld,\"msg\":\"%s\"}",
		 ts, level_names[level], (long)getpid(), esc);
	log_line(line);
}

void log_line(const char *json)
{
	/* one write per line so lines from a pool of workers never interleave */
	char buf[IL_MAX_LOG_LINE + 256];
	size_t n = strlen(json);

	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	memcpy(buf, json, n);
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}
