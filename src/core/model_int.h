/* model_int.h: shared between model.c and body.c, not for other layers */
#ifndef IL_MODEL_INT_H
#define IL_MODEL_INT_H

struct arena;
struct diag_list;
struct model;

/*
 * Lexes m->body: checks it is one SELECT/WITH query, collects its refs into
 * m->refs and reports errors and warnings. Returns 0 or IL_ENOMEM.
 */
int model__check_body(struct model *m, struct arena *a, struct diag_list *dl);

/* Appends a ref; 0, IL_ETOOBIG past IL_MAX_REFS, or IL_ENOMEM. */
int model__add_ref(struct model *m, struct arena *a, const char *name,
		   size_t len, unsigned line, int from_header);
#endif
