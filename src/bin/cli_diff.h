/* cli_diff.h: a unified diff of two texts */
#ifndef IL_CLI_DIFF_H
#define IL_CLI_DIFF_H

#include <stddef.h>
#include <stdio.h>

struct arena;

/*
 * Writes the unified diff (3 lines of context) of text_a into text_b to out
 * under the headers "--- name_a" and "+++ name_b"; colour: escape codes.
 * 0 or IL_ENOMEM.
 */
int cli_diff(FILE *out, struct arena *a, const char *name_a, const char *text_a, size_t len_a,
	     const char *name_b, const char *text_b, size_t len_b, int colour);

#endif
