/* model.h: one model file (header + SQL body) parsed into struct model */
#ifndef IL_MODEL_H
#define IL_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "util/crypto.h"

struct arena;
struct diag_list;
struct hash_memo;

enum model_kind {
	KIND_FULL_REFRESH = 0,
	KIND_INCREMENTAL_BY_TIME_RANGE,
	KIND_APPEND_ONLY,
	KIND_MERGE_BY_KEY
};

enum materialization {
	MAT_TABLE = 0,
	MAT_VIEW,
	MAT_INSERT_OVERWRITE,
	MAT_MERGE
};

enum contract_mode {
	CONTRACT_DISABLED = 0,
	CONTRACT_WARN,
	CONTRACT_STRICT
};

struct str_list {
	const char **items;
	size_t n;
};

/*
 * The canonical form of a body (see sql_canonical), made while the body
 * is checked, with each ref left as written; the body refs say where
 * they are in it, so a content hash needs no second lexing.
 */
enum canon_state {
	CANON_OK = 0,
	CANON_RAW,        /* the body does not lex: the hash covers its bytes */
	CANON_NONE        /* not kept (too many refs): lex again to hash */
};

struct model_canon {
	enum canon_state state;
	const char *text;
	size_t len;
};

/* An upstream named in the body ({{ ref('x') }}) or in `dependencies`. */
struct model_ref {
	const char *name;      /* as written */
	unsigned line;         /* file line of the ref or the header line */
	int from_header;       /* 1 for the dependencies header */
	int target;            /* resolved model index in the project, or -1 */
	int dotted;            /* name is schema.name: resolves only to itself */
	uint32_t canon_off;    /* body refs: where the ref is in model.canon */
	uint32_t canon_len;    /* (a canonical body is under 4 GiB: CANON_MAX) */
};

struct model {
	const char *path;            /* repository-relative file path */
	const char *name;            /* schema.name */
	unsigned name_line;
	enum model_kind kind;
	enum materialization materialization;
	const char *time_column;     /* NULL when absent */
	const char *unique_key;
	const char *partition_by;
	const char *owner;
	struct str_list tags;        /* sorted, without duplicates */
	enum contract_mode contract_mode;
	struct str_list contract_columns; /* "name:TYPE" or "name:TYPE:NOT_NULL" */
	struct str_list tests;       /* "type(arg)@SEVERITY", sorted */
	long lookback_days;          /* 0: the planner's default */
	const char *body;            /* the SQL after the header (in the file) */
	size_t body_len;
	unsigned body_line;          /* file line where the body starts */
	struct model_ref *refs;      /* body refs in order, then dependencies */
	size_t n_refs;
	int has_errors;              /* errors for this file are in the list */
	const char *text;            /* the whole file (not a C string) */
	size_t text_len;
	struct model_canon canon;    /* the body's canonical form */
	char content_hash[IL_SHA256_HEX_LEN + 1]; /* set by project_finish */
	struct hash_memo *memo;      /* shared by copies from a parse cache */
};

/*
 * Parses one model file. Every problem goes into dl with path and line;
 * warnings (SELECT *, CROSS JOIN, unknown header keys) too. *out is the
 * model whenever a valid name was found (check has_errors), else NULL.
 * text must stay alive as long as the model (body points into it).
 * Returns 0, or IL_ENOMEM.
 */
int model_parse(struct model **out, struct arena *a, const char *path,
		const char *text, size_t len, struct diag_list *dl);

/* Enum names as written in headers and plans. */
const char *model_kind_name(enum model_kind k);
const char *materialization_name(enum materialization m);
const char *contract_mode_name(enum contract_mode c);

/* 1 when name is schema.name: [a-z_][a-z0-9_]* twice, within the limit. */
int model_name_valid(const char *name);

/* 1 for kinds the planner gives a date range. */
int model_kind_incremental(enum model_kind k);

/* Offset of the first byte that breaks UTF-8 (or is NUL), or len. */
size_t utf8_invalid_offset(const char *s, size_t len);
#endif
