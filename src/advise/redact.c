/* redact.c (advise): what never reaches an LLM: literals, comments, emails, secrets */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "advise/advise.h"
#include "core/lexer.h"
#include "util/arena.h"
#include "util/strbuf.h"

/* Characters a word (an email, a key, a url) is made of for redaction. */
static int word_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("._%+-@/=:~", c) != NULL);
}

static int starts_with(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(p, prefix, k) == 0;
}

static int is_email(const char *p, size_t n)
{
	const char *at = memchr(p, '@', n);

	return at != NULL && at > p && memchr(at, '.', n - (size_t)(at - p)) != NULL;
}

/* Known key formats, or a long mixed run of letters and digits. */
static int is_secret(const char *p, size_t n)
{
	static const char *const prefixes[] = {
		"sk-", "sk_", "rk_", "pk_live", "AKIA", "ASIA", "ghp_", "gho_", "github_pat_",
		"xox", "whsec_", "eyJ", "AIza", "glpat-"
	};
	size_t i, letters = 0, digits = 0, separators = 0;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (starts_with(p, n, prefixes[i]) && n > strlen(prefixes[i]) + 4)
			return 1;
	if (n < 24)
		return 0;
	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)p[i]))
			digits++;
		else if (isalpha((unsigned char)p[i]))
			letters++;
		else if (strchr("+/=_-", p[i]))
			separators++;
		else
			return 0;
	}
	/* customer_lifetime_value_2024 is a name, not a key */
	return letters >= 4 && digits >= 3 && separators <= n / 8;
}

/* password=…, token: … and the like: the value goes. */
static size_t credential_value(const char *p, size_t n)
{
	static const char *const names[] = { "password", "passwd", "pwd", "secret", "token",
					     "api_key", "apikey", "key" };
	size_t i, k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		k = strlen(names[i]);
		if (n > k + 1 && strncasecmp(p, names[i], k) == 0 && (p[k] == '=' || p[k] == ':'))
			return k + 1;
	}
	return 0;
}

static void redact_word(struct strbuf *sb, const char *p, size_t n)
{
	size_t v;

	if (is_email(p, n))
		strbuf_adds(sb, "[redacted-email]");
	else if (is_secret(p, n))
		strbuf_adds(sb, "[redacted-secret]");
	else if ((v = credential_value(p, n)) > 0) {
		strbuf_add(sb, p, v);
		strbuf_adds(sb, "[redacted-secret]");
	} else
		strbuf_add(sb, p, n);
}

const char *advise_redact_text(struct arena *a, const char *text)
{
	struct strbuf sb;
	const char *p = text;

	strbuf_init(&sb, a, strlen(text) * 2 + 64);
	while (*p) {
		size_t n = 0;

		while (word_char((unsigned char)p[n]))
			n++;
		if (n == 0) {
			strbuf_addc(&sb, *p++);
			continue;
		}
		redact_word(&sb, p, n);
		p += n;
	}
	return strbuf_cstr(&sb);
}

/* 1 when no space belongs between the previous token and t. */
static int glued(const struct token *prev, const struct token *t)
{
	return tok_is_op(prev, ".") || tok_is_op(prev, "(") || tok_is_op(t, ".") ||
	       tok_is_op(t, ",") || tok_is_op(t, ")") || tok_is_op(t, "::") ||
	       tok_is_op(prev, "::");
}

const char *advise_redact_sql(struct arena *a, const char *sql, size_t len)
{
	struct lexer lx;
	struct token t, prev;
	struct strbuf sb;
	unsigned line = 1;
	int first = 1;

	memset(&prev, 0, sizeof(prev));
	strbuf_init(&sb, a, len * 2 + 64);
	lexer_init(&lx, sql, len, 1);
	for (;;) {
		if (lexer_next(&lx, &t) < 0)
			return NULL;
		if (t.kind == TOK_EOF)
			break;
		if (t.line > line) {
			for (; line < t.line; line++)
				strbuf_addc(&sb, '\n');
		} else if (!first && !glued(&prev, &t)) {
			strbuf_addc(&sb, ' ');
		}
		if (t.kind == TOK_STRING || t.kind == TOK_NUMBER)
			strbuf_addc(&sb, '?');
		else
			strbuf_add(&sb, t.p, t.len);
		prev = t;
		first = 0;
	}
	if (strbuf_cstr(&sb) == NULL)
		return NULL;
	return advise_redact_text(a, strbuf_cstr(&sb));
}
