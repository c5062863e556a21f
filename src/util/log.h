/* log.h: one JSON object per line on stderr */
#ifndef IL_LOG_H
#define IL_LOG_H

enum il_log_level { IL_LOG_DEBUG, IL_LOG_INFO, IL_LOG_WARN, IL_LOG_ERROR };

void log_set_level(enum il_log_level level);
int log_level_parse(const char *name, enum il_log_level *out);
int log_enabled(enum il_log_level level);
/*
 * Writes {"ts","level","pid","msg"} as one line. The message is JSON-escaped;
 * callers must never pass secrets (tokens, passwords, keys, DSNs).
 */
void log_msg(enum il_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes an already-formed JSON object as one line. */
void log_line(const char *json);
/* The UTC time as 2026-11-28T12:00:00.123Z into out (at least 32 bytes). */
void log_timestamp(char *out, unsigned long size);

#define log_debug(...) log_msg(IL_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(IL_LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(IL_LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(IL_LOG_ERROR, __VA_ARGS__)

#endif
