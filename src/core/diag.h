/* diag.h: problems found in a project, each with file, line and message */
#ifndef IL_DIAG_H
#define IL_DIAG_H
#include <stddef.h>

struct arena;

enum diag_severity {
	DIAG_ERROR = 0,   /* the project cannot be planned */
	DIAG_WARNING = 1  /* reported by `ironlayer check`, never blocks */
};

struct diag {
	const char *file;  /* repository-relative path; "" for project-wide */
	unsigned line;     /* 1-based; 0 when no line applies */
	enum diag_severity severity;
	const char *message;
};

/* A growable list living in an arena. */
struct diag_list {
	struct arena *arena;
	struct diag *items;
	size_t n;
	size_t cap;
	size_t n_errors;
	int oom;           /* an append failed: the list is incomplete */
};

void diag_list_init(struct diag_list *dl, struct arena *a);
/* Appends one problem; the message is formatted into the arena. */
void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file,
	      unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Sorts by file, line, severity, message so reports are deterministic. */
void diag_list_sort(struct diag_list *dl);
#endif
