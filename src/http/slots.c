/* slots.c: how many long requests one host runs at once (a lock file per slot) */
#include "http/slots.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"

int slot_take(const char *dir, long n)
{
	char path[4096];
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/apply-slot-%ld.lock", dir, i) >=
		    (int)sizeof(path))
			return IL_EUNAVAIL;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			log_error("cannot open the apply slot %s: %s (run_dir)", path,
				  strerror(errno));
			return IL_EUNAVAIL;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
		if (errno != EWOULDBLOCK) {
			log_error("cannot lock the apply slot %s: %s", path, strerror(errno));
			return IL_EUNAVAIL;
		}
	}
	return IL_ECONFLICT;
}

void slot_release(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing the only descriptor of the open file drops the lock */
}
