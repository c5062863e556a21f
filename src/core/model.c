/* model.c: one model file (header + SQL body) parsed into struct model */
#include "core/model.h"

#include <stdint.h>
#include <string.h>

#include "core/diag.h"
#include "core/header.h"
#include "core/model_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"

/* Header keys, in the order of the slots in struct header. */
enum hkey {
	H_NAME, H_KIND, H_MATERIALIZATION, H_TIME_COLUMN, H_UNIQUE_KEY,
	H_PARTITION_BY, H_OWNER, H_TAGS, H_DEPENDENCIES, H_CONTRACT_MODE,
	H_CONTRACT_COLUMNS, H_TESTS, H_LOOKBACK_DAYS, H__MAX
};

static const char *const hkey_names[H__MAX] = {
	"name",             /* H_NAME */
	"kind",             /* H_KIND */
	"materialization",  /* H_MATERIALIZATION */
	"time_column",      /* H_TIME_COLUMN */
	"unique_key",       /* H_UNIQUE_KEY */
	"partition_by",     /* H_PARTITION_BY */
	"owner",            /* H_OWNER */
	"tags",             /* H_TAGS */
	"dependencies",     /* H_DEPENDENCIES */
	"contract_mode",    /* H_CONTRACT_MODE */
	"contract_columns", /* H_CONTRACT_COLUMNS */
	"tests",            /* H_TESTS */
	"lookback_days",    /* H_LOOKBACK_DAYS */
};

static const char *const kind_names[] = {
	"FULL_REFRESH", "INCREMENTAL_BY_TIME_RANGE", "APPEND_ONLY",
	"MERGE_BY_KEY",
};
static const char *const mat_names[] = {
	"TABLE", "VIEW", "INSERT_OVERWRITE", "MERGE",
};
static const char *const contract_names[] = {
	"DISABLED", "WARN", "STRICT",
};

/* The raw header: one value and line per key (NULL when absent). */
struct header {
	const char *value[H__MAX];
	unsigned line[H__MAX];
};

const char *model_kind_name(enum model_kind k)
{
	return kind_names[k];
}

const char *materialization_name(enum materialization m)
{
	return mat_names[m];
}

const char *contract_mode_name(enum contract_mode c)
{
	return contract_names[c];
}

int model_kind_incremental(enum model_kind k)
{
	return k == KIND_INCREMENTAL_BY_TIME_RANGE || k == KIND_APPEND_ONLY;
}

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

int model_name_valid(const char *name)
{
	size_t i, dots = 0, n = strlen(name);

	if (n == 0 || n > IL_MAX_MODEL_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (++dots > 1 || i == 0 || i + 1 == n ||
			    !is_name_start(name[i + 1]))
				return 0;
		} else if (!is_name_char(name[i]) ||
			   (i == 0 && !is_name_start(name[i]))) {
			return 0;
		}
	}
	return dots == 1;
}

/* Length of the UTF-8 sequence led by c, or 0 when c cannot lead one. */
static size_t utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static int utf8_seq_ok(const unsigned char *s, size_t k)
{
	size_t j;

	for (j = 1; j < k; j++)
		if ((s[j] & 0xc0) != 0x80)
			return 0;
	if (k == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) ||
		       (s[0] == 0xed && s[1] > 0x9f)))
		return 0;
	if (k == 4 && ((s[0] == 0xf0 && s[1] < 0x90) ||
		       (s[0] == 0xf4 && s[1] > 0x8f)))
		return 0;
	return 1;
}

/* 1 when the 8 bytes at s are ASCII and none is NUL. */
static int ascii8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return ((w | ((w - 0x0101010101010101ULL) & ~w)) &
		0x8080808080808080ULL) == 0;
}

size_t utf8_invalid_offset(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	while (i < len) {
		/* model files are mostly ASCII: eight bytes at a time */
		while (i + 8 <= len && ascii8(s + i))
			i += 8;
		if (i >= len)
			break;
		k = utf8_seq_len(s[i]);
		if (k == 0 || s[i] == 0 || i + k > len || !utf8_seq_ok(s + i, k))
			return i;
		i += k;
	}
	return len;
}

static unsigned line_of(const char *text, size_t off)
{
	unsigned line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static int lookup_key(const char *k, size_t n)
{
	int i;

	for (i = 0; i < H__MAX; i++)
		if (strlen(hkey_names[i]) == n && memcmp(hkey_names[i], k, n) == 0)
			return i;
	return -1;
}

static int looks_like_key(const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_name_char(k[i]))
			return 0;
	return n > 0;
}

/* Edit distance of two short strings (at most 63 bytes each), capped at 9. */
static int distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i, j;
	int row[64];

	if (na > 63 || nb > 63)
		return 9;
	for (j = 0; j <= nb; j++)
		row[j] = (int)j;
	for (i = 1; i <= na; i++) {
		int prev = row[0];

		row[0] = (int)i;
		for (j = 1; j <= nb; j++) {
			int best = prev + (a[i - 1] != b[j - 1]), tmp = row[j];

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[nb] > 9 ? 9 : row[nb];
}

/* The known key closest to an unknown one (at most two edits away), or NULL. */
static const char *closest_key(const char *k)
{
	const char *best = NULL;
	int i, best_d = 3;

	for (i = 0; i < H__MAX; i++) {
		int d = distance(k, hkey_names[i]);

		if (d < best_d) {
			best_d = d;
			best = hkey_names[i];
		}
	}
	return best;
}

/*
 * A comment that is a header without its colon ("-- owner data-platform"):
 * a known key, then a value of one word or a comma list. Said as a warning,
 * since such a line is read as a plain comment.
 */
static void missing_colon(const char *s, size_t n, const struct model *m, unsigned line,
			  struct diag_list *dl)
{
	size_t kn = 0, i;
	char kbuf[64];

	for (; kn < n && kn < sizeof(kbuf) - 1; kn++) {
		kbuf[kn] = (char)(s[kn] >= 'A' && s[kn] <= 'Z' ? s[kn] - 'A' + 'a' : s[kn]);
		if (!is_name_char(kbuf[kn]))
			break;
	}
	if (kn == 0 || kn == n || (s[kn] != ' ' && s[kn] != '\t'))
		return;
	kbuf[kn] = '\0';
	if (lookup_key(kbuf, kn) < 0)
		return;
	for (i = kn + 1; i < n; i++)
		if ((s[i] == ' ' || s[i] == '\t') && s[i - 1] != ',' && s[i - 1] != ' ' &&
		    s[i - 1] != '\t')
			return;            /* words: a sentence, not a value */
	diag_add(dl, DIAG_WARNING, m->path, line, "'%s' has no colon, so it is a comment: "
		 "write '-- %s: %.*s' to set the header", kbuf, kbuf,
		 (int)(n - kn - 1 > 80 ? 80 : n - kn - 1), s + kn + 1);
}

/* Records one `-- key: value` line; s/n is the trimmed line. */
static int header_line(struct header *h, struct model *m, struct arena *a,
		       const char *s, size_t n, unsigned line,
		       struct diag_list *dl)
{
	const char *colon, *key, *val;
	size_t kn, vn, i;
	char kbuf[64];
	int k;

	s += 2;
	n -= 2;
	colon = memchr(s, ':', n);
	if (colon == NULL) {
		header_trim(&s, &n);
		missing_colon(s, n, m, line, dl);
		return 0;               /* a plain comment */
	}
	key = s;
	kn = (size_t)(colon - s);
	header_trim(&key, &kn);
	if (kn == 0 || kn >= sizeof(kbuf))
		return 0;
	for (i = 0; i < kn; i++)
		kbuf[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ?
				 key[i] - 'A' + 'a' : key[i]);
	kbuf[kn] = '\0';
	if (!looks_like_key(kbuf, kn))
		return 0;
	k = lookup_key(kbuf, kn);
	if (k < 0) {
		const char *near = closest_key(kbuf);

		diag_add(dl, DIAG_WARNING, m->path, line, "unknown header '%s' ignored%s%s%s", kbuf,
			 near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		return 0;
	}
	if (h->value[k]) {
		diag_add(dl, DIAG_ERROR, m->path, line,
			 "duplicate header '%s' (first set at line %u)", kbuf,
			 h->line[k]);
		return 0;
	}
	val = colon + 1;
	vn = (size_t)(s + n - val);
	header_trim(&val, &vn);
	if (vn > IL_MAX_HEADER_VALUE) {
		diag_add(dl, DIAG_ERROR, m->path, line,
			 "header '%s' is longer than %d bytes", kbuf,
			 IL_MAX_HEADER_VALUE);
		return 0;
	}
	h->value[k] = arena_strndup(a, val, vn);
	h->line[k] = line;
	return h->value[k] ? 0 : IL_ENOMEM;
}

/* Reads the leading comment block; sets the body to what follows it. */
static int scan_header(struct header *h, struct model *m, struct arena *a,
		       const char *text, size_t len, struct diag_list *dl)
{
	size_t pos = 0;
	unsigned line = 1;
	int rc;

	while (pos < len) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t end = eol ? (size_t)(eol - text) : len;
		const char *s = text + pos;
		size_t n = end - pos;

		header_trim(&s, &n);
		if (n > 0 && !(n >= 2 && s[0] == '-' && s[1] == '-'))
			break;
		if (n > 0 && (rc = header_line(h, m, a, s, n, line, dl)) < 0)
			return rc;
		pos = end + 1;
		line++;
	}
	m->body = text + (pos < len ? pos : len);
	m->body_len = pos < len ? len - pos : 0;
	m->body_line = line;
	return 0;
}

static int find_name(const char *const *names, size_t n, const char *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

/* A required header: reports it missing or empty; returns its value. */
static const char *required(const struct header *h, int k,
			    const struct model *m, struct diag_list *dl)
{
	if (h->value[k] == NULL) {
		diag_add(dl, DIAG_ERROR, m->path, 1,
			 "missing required header '%s'", hkey_names[k]);
		return NULL;
	}
	if (*h->value[k] == '\0') {
		diag_add(dl, DIAG_ERROR, m->path, h->line[k],
			 "header '%s' is empty", hkey_names[k]);
		return NULL;
	}
	return h->value[k];
}

static const char *optional(const struct header *h, int k)
{
	return h->value[k] && *h->value[k] ? h->value[k] : NULL;
}

/* name and kind; returns 1 when the kind is known. */
static int apply_identity(struct model *m, const struct header *h,
			  struct diag_list *dl)
{
	const char *name = required(h, H_NAME, m, dl);
	const char *kind = required(h, H_KIND, m, dl);
	int k;

	if (name && !model_name_valid(name))
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_NAME],
			 "invalid model name '%s': expected schema.name in "
			 "lower case (letters, digits, _)", name);
	else if (name)
		m->name = name;
	m->name_line = h->line[H_NAME];
	if (kind == NULL)
		return 0;
	k = find_name(kind_names, 4, kind);
	if (k < 0) {
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_KIND],
			 "unknown kind '%s': expected FULL_REFRESH, "
			 "INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY or "
			 "MERGE_BY_KEY", kind);
		return 0;
	}
	m->kind = (enum model_kind)k;
	return 1;
}

static void apply_enums(struct model *m, const struct header *h,
			struct diag_list *dl)
{
	const char *v;
	char up[32];
	size_t i;
	int k;

	if ((v = h->value[H_MATERIALIZATION]) != NULL) {
		k = find_name(mat_names, 4, v);
		if (k < 0)
			diag_add(dl, DIAG_ERROR, m->path,
				 h->line[H_MATERIALIZATION],
				 "unknown materialization '%s': expected TABLE, "
				 "VIEW, INSERT_OVERWRITE or MERGE", v);
		else
			m->materialization = (enum materialization)k;
	}
	if ((v = h->value[H_CONTRACT_MODE]) == NULL)
		return;
	for (i = 0; v[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 32 : v[i]);
	up[i] = '\0';
	k = v[i] ? -1 : find_name(contract_names, 3, up);
	if (k < 0)
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_CONTRACT_MODE],
			 "invalid contract_mode '%s': expected DISABLED, WARN "
			 "or STRICT", v);
	else
		m->contract_mode = (enum contract_mode)k;
}

static void apply_columns(struct model *m, const struct header *h,
			  int kind_ok, struct diag_list *dl)
{
	int64_t days;

	m->time_column = optional(h, H_TIME_COLUMN);
	m->unique_key = optional(h, H_UNIQUE_KEY);
	m->partition_by = optional(h, H_PARTITION_BY);
	m->owner = optional(h, H_OWNER);
	if (kind_ok && m->kind == KIND_INCREMENTAL_BY_TIME_RANGE &&
	    m->time_column == NULL)
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_KIND],
			 "kind INCREMENTAL_BY_TIME_RANGE requires a "
			 "time_column header");
	if (kind_ok && m->kind == KIND_MERGE_BY_KEY && m->unique_key == NULL)
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_KIND],
			 "kind MERGE_BY_KEY requires a unique_key header");
	if (m->materialization == MAT_MERGE && m->unique_key == NULL)
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_MATERIALIZATION],
			 "materialization MERGE requires a unique_key header");
	if (h->value[H_LOOKBACK_DAYS] == NULL)
		return;
	if (parse_i64(h->value[H_LOOKBACK_DAYS], 1, IL_MAX_LOOKBACK_DAYS,
		      &days) < 0)
		diag_add(dl, DIAG_ERROR, m->path, h->line[H_LOOKBACK_DAYS],
			 "invalid lookback_days '%s': expected a whole number "
			 "of days from 1 to %d", h->value[H_LOOKBACK_DAYS],
			 IL_MAX_LOOKBACK_DAYS);
	else
		m->lookback_days = (long)days;
}

/* Reports a list parser's failure; returns rc unless it was IL_ENOMEM. */
static int list_problem(int rc, const char *err, const struct model *m,
			const struct header *h, int k, struct diag_list *dl)
{
	if (rc == IL_ENOMEM)
		return rc;
	if (rc == IL_ETOOBIG)
		diag_add(dl, DIAG_ERROR, m->path, h->line[k],
			 "header '%s' has more than %d items", hkey_names[k],
			 IL_MAX_LIST_ITEMS);
	else if (rc < 0)
		diag_add(dl, DIAG_ERROR, m->path, h->line[k], "%s", err);
	return 0;
}

static int apply_lists(struct model *m, const struct header *h,
		       struct arena *a, struct diag_list *dl)
{
	struct str_list deps;
	const char *err = NULL;
	size_t i;
	int rc;

	if (h->value[H_TAGS]) {
		rc = header_split_list(&m->tags, a, h->value[H_TAGS], 0);
		if ((rc = list_problem(rc, err, m, h, H_TAGS, dl)) < 0)
			return rc;
		header_sort_unique(&m->tags);
	}
	if (h->value[H_TESTS]) {
		rc = header_parse_tests(&m->tests, a, h->value[H_TESTS], &err);
		if ((rc = list_problem(rc, err, m, h, H_TESTS, dl)) < 0)
			return rc;
	}
	if (h->value[H_CONTRACT_COLUMNS]) {
		rc = header_parse_contract_columns(&m->contract_columns, a,
				h->value[H_CONTRACT_COLUMNS], &err);
		if ((rc = list_problem(rc, err, m, h, H_CONTRACT_COLUMNS,
				       dl)) < 0)
			return rc;
	}
	if (h->value[H_DEPENDENCIES] == NULL)
		return 0;
	rc = header_split_list(&deps, a, h->value[H_DEPENDENCIES], 0);
	if ((rc = list_problem(rc, err, m, h, H_DEPENDENCIES, dl)) < 0)
		return rc;
	for (i = 0; i < deps.n; i++) {
		rc = model__add_ref(m, a, deps.items[i], strlen(deps.items[i]),
				    h->line[H_DEPENDENCIES], 1);
		if ((rc = list_problem(rc, err, m, h, H_DEPENDENCIES, dl)) < 0)
			return rc;
	}
	return 0;
}

/* 3 when the file starts with a UTF-8 byte-order mark (editors on Windows
 * write one), else 0: the header starts after it. */
static size_t utf8_bom_len(const char *text, size_t len)
{
	return len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* Size and encoding; returns 1 when the file can be parsed at all. */
static int file_usable(const struct model *m, const char *text, size_t len,
		       struct diag_list *dl)
{
	size_t bad;

	if (len > IL_MAX_SQL_FILE) {
		diag_add(dl, DIAG_ERROR, m->path, 0,
			 "file is %zu bytes, over the limit of %d bytes", len,
			 IL_MAX_SQL_FILE);
		return 0;
	}
	bad = utf8_invalid_offset(text, len);
	if (bad < len) {
		diag_add(dl, DIAG_ERROR, m->path, line_of(text, bad),
			 "file is not valid UTF-8 (byte %zu)", bad);
		return 0;
	}
	return 1;
}

int model_parse(struct model **out, struct arena *a, const char *path,
		const char *text, size_t len, struct diag_list *dl)
{
	return model__parse(out, a, a, path, text, len, dl);
}

int model__parse(struct model **out, struct arena *a, struct arena *canon_a,
		 const char *path, const char *text, size_t len,
		 struct diag_list *dl)
{
	struct header h;
	struct model *m;
	size_t errors = dl->n_errors, skip;
	int rc = IL_ENOMEM, kind_ok;

	*out = NULL;
	m = arena_calloc(a, 1, sizeof(*m));
	if (m == NULL || (m->path = arena_strdup(a, path)) == NULL)
		goto out;
	if (!file_usable(m, text, len, dl))
		return 0;
	m->text = text;
	m->text_len = len;
	memset(&h, 0, sizeof(h));
	skip = utf8_bom_len(text, len);
	if ((rc = scan_header(&h, m, a, text + skip, len - skip, dl)) < 0)
		goto out;
	kind_ok = apply_identity(m, &h, dl);
	apply_enums(m, &h, dl);
	apply_columns(m, &h, kind_ok, dl);
	if ((rc = model__check_body(m, a, canon_a, dl)) < 0)
		goto out;
	if ((rc = apply_lists(m, &h, a, dl)) < 0)
		goto out;
	m->has_errors = dl->n_errors != errors;
	if (m->name)
		*out = m;
	rc = dl->oom ? IL_ENOMEM : 0;
out:
	return rc;
}
