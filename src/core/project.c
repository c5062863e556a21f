/* project.c: every model at one commit, validated, with refs and DAG */
#include "core/project.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache_int.h"
#include "core/hash.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/* Unresolved refs that get a "closest" suggestion (each costs a scan). */
#define SUGGEST_MAX 16

struct project_short {
	const char *suffix;  /* the part after the dot */
	int idx;
};

int project_new(struct project **out, struct arena *a)
{
	struct project *p = arena_calloc(a, 1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return IL_ENOMEM;
	p->arena = a;
	diag_list_init(&p->diags, a);
	*out = p;
	return 0;
}

static int append_model(struct project *p, struct model *m)
{
	if (p->n_models == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct model **ms = arena_calloc(p->arena, cap, sizeof(*ms));

		if (ms == NULL)
			return IL_ENOMEM;
		if (p->n_models)
			memcpy(ms, p->models, p->n_models * sizeof(*ms));
		p->models = ms;
		p->cap = cap;
	}
	p->models[p->n_models++] = m;
	return 0;
}

static int under_limit(struct project *p, const char *path)
{
	if (p->n_models < IL_MAX_MODELS)
		return 1;
	diag_add(&p->diags, DIAG_ERROR, path, 0,
		 "too many models: the limit is %d", IL_MAX_MODELS);
	return 0;
}

int project_add_file(struct project *p, const char *path, const char *text,
		     size_t len)
{
	struct model *m;
	int rc;

	if (!under_limit(p, path))
		return IL_ETOOBIG;
	if ((rc = model_parse(&m, p->arena, path, text, len, &p->diags)) < 0)
		return rc;
	return m ? append_model(p, m) : 0;
}

int project_add_file_cached(struct project *p, struct parse_cache *c,
			    const void *key, size_t key_len, const char *path,
			    const char *text, size_t len)
{
	struct cache_entry *e;
	struct model *m;
	size_t from = p->diags.n;
	int rc;

	if (c == NULL || key_len > PARSE_CACHE_MAX_KEY)
		return project_add_file(p, path, text, len);
	if (!under_limit(p, path))
		return IL_ETOOBIG;
	if ((e = cache__lookup(c, key, key_len)) != NULL) {
		rc = cache__clone(&m, e, p->arena, path, &p->diags);
	} else if (text == NULL) {
		return IL_EINVALID;
	} else {
		struct model *parsed;

		/* the cache keeps the model as parsed; the project a copy */
		rc = model_parse(&parsed, p->arena, path, text, len, &p->diags);
		if (rc == 0)
			rc = cache__store(c, key, key_len, parsed, &p->diags,
					  from);
		m = NULL;
		if (rc == 0 && parsed)
			rc = cache__copy_model(&m, parsed, p->arena,
					       parsed->path);
	}
	if (rc < 0)
		return rc;
	return m ? append_model(p, m) : 0;
}

static int model_cmp(const void *pa, const void *pb)
{
	const struct model *a = *(struct model *const *)pa;
	const struct model *b = *(struct model *const *)pb;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->path, b->path);
}

/* Sorts v with cmp, unless it is sorted already: files are most often
 * laid out as their names read (models/schema/name.sql for schema.name),
 * and git lists a tree in that order. */
static void sort_unless_sorted(void *v, size_t n, size_t size,
			       int (*cmp)(const void *, const void *))
{
	const char *b = v;
	size_t i;

	for (i = 1; i < n; i++)
		if (cmp(b + (i - 1) * size, b + i * size) > 0)
			break;
	if (i < n)
		qsort(v, n, size, cmp);
}

/* Sorts by name and keeps the first file (by path) of each name. */
static void drop_duplicates(struct project *p)
{
	size_t i, k = 0;

	sort_unless_sorted(p->models, p->n_models, sizeof(*p->models),
			   model_cmp);
	for (i = 0; i < p->n_models; i++) {
		struct model *m = p->models[i];

		if (k > 0 && strcmp(p->models[k - 1]->name, m->name) == 0) {
			diag_add(&p->diags, DIAG_ERROR, m->path, m->name_line,
				 "duplicate model name '%s': also defined in %s "
				 "(line %u)", m->name, p->models[k - 1]->path,
				 p->models[k - 1]->name_line);
			continue;
		}
		p->models[k++] = m;
	}
	p->n_models = k;
}

int project_find(const struct project *p, const char *name)
{
	size_t lo = 0, hi = p->n_models;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->models[mid]->name);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int short_cmp(const void *pa, const void *pb)
{
	const struct project_short *a = pa, *b = pb;
	int c = strcmp(a->suffix, b->suffix);

	return c ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

static int build_shorts(struct project *p)
{
	size_t i;

	p->shorts = arena_calloc(p->arena, p->n_models + 1, sizeof(*p->shorts));
	if (p->shorts == NULL)
		return IL_ENOMEM;
	for (i = 0; i < p->n_models; i++) {
		p->shorts[i].suffix = strchr(p->models[i]->name, '.') + 1;
		p->shorts[i].idx = (int)i;
	}
	p->n_shorts = p->n_models;
	sort_unless_sorted(p->shorts, p->n_shorts, sizeof(*p->shorts),
			   short_cmp);
	return 0;
}

/* First entry whose suffix is name (n bytes), and how many there are. */
static size_t shorts_range(const struct project *p, const char *name,
			   size_t n, size_t *count)
{
	size_t lo = 0, hi = p->n_shorts, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = p->shorts[mid].suffix;
		int c = strncmp(s, name, n);

		if (c == 0 && s[n] != '\0')
			c = 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < p->n_shorts && strlen(p->shorts[lo].suffix) == n &&
	       memcmp(p->shorts[lo].suffix, name, n) == 0)
		lo++;
	*count = lo - first;
	return first;
}

/* One slot of the name index: the name's hash is compared before the
 * name, so a lookup touches one string (model names are spread out in
 * memory and each one read is a cache miss). */
struct project_name {
	const char *name;       /* NULL: an empty slot */
	uint32_t hash;
	uint32_t len;
	int idx;
};

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The models' names copied side by side (in model order), so looking a
 * ref up compares with bytes close together, not with each model's name
 * wherever its file lies (a cache miss per ref with 50,000 models). */
static char *pack_names(struct project *p)
{
	size_t total = 0, i, n;
	char *all, *at;

	for (i = 0; i < p->n_models; i++)
		total += strlen(p->models[i]->name) + 1;
	if ((all = arena_alloc(p->arena, total ? total : 1)) == NULL)
		return NULL;
	for (at = all, i = 0; i < p->n_models; i++, at += n + 1) {
		n = strlen(p->models[i]->name);
		memcpy(at, p->models[i]->name, n + 1);
	}
	return all;
}

/* An open-addressing table twice as large as the project, so a ref
 * resolves without a binary search. */
static int build_name_index(struct project *p)
{
	size_t cap = 16, i;
	char *name = pack_names(p);

	while (cap < p->n_models * 2)
		cap *= 2;
	p->names = arena_calloc(p->arena, cap, sizeof(*p->names));
	if (p->names == NULL || name == NULL)
		return IL_ENOMEM;
	p->name_cap = cap;
	for (i = 0; i < p->n_models; i++) {
		size_t n = strlen(name);
		uint32_t h = name_hash(name, n);
		size_t k = h & (cap - 1);

		while (p->names[k].name)
			k = (k + 1) & (cap - 1);
		p->names[k].name = name;
		p->names[k].hash = h;
		p->names[k].len = (uint32_t)n;
		p->names[k].idx = (int)i;
		name += n + 1;
	}
	return 0;
}

/* The index of the model named name (n bytes, hashed h), or -1. */
static int find_hashed(const struct project *p, const char *name, size_t n,
		       uint32_t h)
{
	size_t k;

	if (p->names == NULL)
		return -1;
	for (k = h & (p->name_cap - 1); p->names[k].name;
	     k = (k + 1) & (p->name_cap - 1)) {
		const struct project_name *e = &p->names[k];

		if (e->hash == h && e->len == n && memcmp(e->name, name, n) == 0)
			return e->idx;
	}
	return -1;
}

static int find_n(const struct project *p, const char *name, size_t n)
{
	return find_hashed(p, name, n, name_hash(name, n));
}

/* project_resolve once find_hashed gave i (dotted: name has a '.'). */
static int resolve_short(const struct project *p, const char *name,
			 size_t len, int i, int dotted)
{
	size_t count, first;

	if (i >= 0 || dotted)
		return i;
	first = shorts_range(p, name, len, &count);
	if (count == 0)
		return -1;
	return count == 1 ? p->shorts[first].idx : -2;
}

int project_resolve(const struct project *p, const char *name, size_t len)
{
	return resolve_short(p, name, len, find_n(p, name, len),
			     memchr(name, '.', len) != NULL);
}

/* project_resolve of a C string: its length, hash and dot in one pass. */
static int resolve_cstr(const struct project *p, const char *name)
{
	uint32_t h = 2166136261u;
	size_t n;
	int dotted = 0;

	for (n = 0; name[n] != '\0'; n++) {
		h = (h ^ (unsigned char)name[n]) * 16777619u;
		dotted |= name[n] == '.';
	}
	return resolve_short(p, name, n, find_hashed(p, name, n, h), dotted);
}

/* Levenshtein distance of two short strings (both under 256 bytes). */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t row[257], i, j;

	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= nb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[nb];
}

/* The model name closest to name by edit distance (ties: first name). */
static const char *closest(const struct project *p, const char *name)
{
	size_t i, best = (size_t)-1, n = strlen(name);
	int dotted = strchr(name, '.') != NULL;
	const char *res = NULL;

	if (n > 255)
		return NULL;
	for (i = 0; i < p->n_models; i++) {
		const char *cand = p->models[i]->name;
		size_t d;

		if (!dotted)
			cand = strchr(cand, '.') + 1;
		d = strlen(cand);
		/* the distance is at least the difference in length */
		if (d > 255 || (d > n ? d - n : n - d) >= best)
			continue;
		d = edit_distance(name, n, cand, d);
		if (d < best) {
			best = d;
			res = p->models[i]->name;
		}
	}
	return res;
}

static void report_unresolved(struct project *p, const struct model *m,
			      const struct model_ref *r, size_t *suggested)
{
	const char *what = r->from_header ? "dependency" : "ref";
	const char *near = NULL;

	if ((*suggested)++ < SUGGEST_MAX)
		near = closest(p, r->name);
	if (near)
		diag_add(&p->diags, DIAG_ERROR, m->path, r->line,
			 "unresolved %s '%s': no model has that name "
			 "(closest: '%s')", what, r->name, near);
	else
		diag_add(&p->diags, DIAG_ERROR, m->path, r->line,
			 "unresolved %s '%s': no model has that name", what,
			 r->name);
}

static void report_ambiguous(struct project *p, const struct model *m,
			     const struct model_ref *r)
{
	size_t count, first = shorts_range(p, r->name, strlen(r->name), &count);

	diag_add(&p->diags, DIAG_ERROR, m->path, r->line,
		 "ambiguous %s '%s': %zu models match (%s, %s%s); write the "
		 "full name", r->from_header ? "dependency" : "ref", r->name,
		 count, p->models[p->shorts[first].idx]->name,
		 p->models[p->shorts[first + 1].idx]->name,
		 count > 2 ? ", ..." : "");
}

/* Resolves every ref; returns the number of edges they give. */
static size_t resolve_refs(struct project *p)
{
	size_t i, k, edges = 0, suggested = 0;

	for (i = 0; i < p->n_models; i++) {
		struct model *m = p->models[i];

		for (k = 0; k < m->n_refs; k++) {
			struct model_ref *r = &m->refs[k];

			r->target = resolve_cstr(p, r->name);
			if (r->target == -1)
				report_unresolved(p, m, r, &suggested);
			else if (r->target == -2)
				report_ambiguous(p, m, r);
			else
				edges++;
			if (r->target < 0)
				m->has_errors = 1;
		}
	}
	return edges;
}

static int build_dag(struct project *p, size_t n_edges)
{
	struct dag_edge *e = arena_calloc(p->arena, n_edges + 1, sizeof(*e));
	size_t i, k, n = 0;

	if (e == NULL)
		return IL_ENOMEM;
	for (i = 0; i < p->n_models; i++) {
		const struct model *m = p->models[i];

		for (k = 0; k < m->n_refs; k++) {
			if (m->refs[k].target < 0)
				continue;
			e[n].from = m->refs[k].target;
			e[n++].to = (int)i;
		}
	}
	return dag_build(&p->dag, p->arena, p->n_models, e, n);
}

/* The line in m where it refs the model at index target. */
static unsigned ref_line(const struct model *m, int target)
{
	size_t k;

	for (k = 0; k < m->n_refs; k++)
		if (m->refs[k].target == target)
			return m->refs[k].line;
	return m->name_line;
}

static void report_cycle(void *payload, const int *nodes, size_t n)
{
	struct project *p = payload;
	const struct model *first = p->models[nodes[0]];
	char buf[1024];
	size_t i, len = 0;

	for (i = 0; i <= n && len < sizeof(buf); i++) {
		const char *name = p->models[nodes[i % n]]->name;
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s",
				 i ? " \xe2\x86\x92 " : "", name);

		if (w < 0 || (size_t)w >= sizeof(buf) - len) {
			len = sizeof(buf);
			break;
		}
		len += (size_t)w;
	}
	for (i = 0; i < n; i++)
		p->models[nodes[i]]->has_errors = 1;
	diag_add(&p->diags, DIAG_ERROR, first->path,
		 ref_line(first, nodes[1 % n]), "dependency cycle: %s%s", buf,
		 len >= sizeof(buf) ? " ..." : "");
}

/* Content hashes; memos that did not fit are updated here, or later by
 * project_save_memos when the project says so. */
static int hash_models(struct project *p)
{
	struct arena *scratch = arena_new(0);
	size_t i;
	int rc = 0;

	if (scratch == NULL)
		return IL_ENOMEM;
	for (i = 0; i < p->n_models && rc >= 0; i++) {
		rc = model_content_hash(p->models[i], p, scratch);
		if (rc == 1 && p->defer_memos)
			p->memo_misses++;
		else if (rc == 1)
			rc = model_memo_update(p->models[i], p, scratch);
		arena_reset(scratch);
	}
	arena_free(scratch);
	return rc < 0 ? rc : 0;
}

int project_save_memos(struct project *p)
{
	struct arena *scratch;
	size_t i;
	int rc = 0;

	if (p->memo_misses == 0)
		return 0;
	if ((scratch = arena_new(0)) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < p->n_models && rc == 0; i++) {
		rc = model_memo_update(p->models[i], p, scratch);
		arena_reset(scratch);
	}
	arena_free(scratch);
	p->memo_misses = 0;
	return rc;
}

int project_finish(struct project *p)
{
	size_t edges;
	int rc;

	drop_duplicates(p);
	if ((rc = build_shorts(p)) < 0 || (rc = build_name_index(p)) < 0)
		return rc;
	edges = resolve_refs(p);
	if ((rc = build_dag(p, edges)) < 0)
		return rc;
	rc = dag_find_cycles(&p->dag, p->arena, IL_MAX_CYCLES_REPORTED,
			     report_cycle, p);
	if (rc < 0)
		return rc;
	if ((rc = hash_models(p)) < 0)
		return rc;
	diag_list_sort(&p->diags);
	p->finished = 1;
	return p->diags.oom ? IL_ENOMEM : 0;
}
