/* model_int.h: shared between model.c and model_body.c, not for other layers */
#ifndef IL_MODEL_INT_H
#define IL_MODEL_INT_H

struct arena;
struct diag_list;
struct model;

/*
 * Lexes m->body: checks it is one SELECT/WITH query, collects its refs into
 * m->refs, keeps its canonical form (in canon_a) and reports errors and
 * warnings. Returns 0 or IL_ENOMEM.
 */
int model__check_body(struct model *m, struct arena *a, struct arena *canon_a,
		      struct diag_list *dl);

/* model_parse with the canonical body in canon_a (which may be a). */
int model__parse(struct model **out, struct arena *a, struct arena *canon_a,
		 const char *path, const char *text, size_t len,
		 struct diag_list *dl);

/* Appends a ref; 0, IL_ETOOBIG past IL_MAX_REFS, or IL_ENOMEM. */
int model__add_ref(struct model *m, struct arena *a, const char *name,
		   size_t len, unsigned line, int from_header);
#endif
