/* cli_migrate.c: ironlayer migrate */
#include <stdio.h>

#include "bin/cli.h"

int cli_migrate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "ironlayer migrate: not built yet\n");
	return 1;
}
