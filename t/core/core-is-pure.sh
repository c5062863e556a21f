#!/bin/sh
# core-is-pure.sh: src/core does no I/O (DESIGN.md): libilcore.a must not
# call anything that touches files, sockets, processes, the clock or the
# environment, nor the libraries the outer layers wrap. The parse cache's
# file lives in src/repo; core only hands entries over through an interface.
set -eu
lib=${1:-libilcore.a}
[ -f "$lib" ] || { echo "core-is-pure: $lib not built" >&2; exit 1; }
forbidden='^(open|openat|creat|fopen|fdopen|freopen|read|write|pread|pwrite|readv|writev|fread|fwrite|fgets|fputs|puts|printf|fprintf|vfprintf|perror|close|fclose|fflush|mkdir|mkdtemp|mkstemp|mkostemp|rename|unlink|unlinkat|rmdir|opendir|readdir|stat|fstat|lstat|fstatat|access|realpath|chdir|socket|connect|bind|listen|accept|send|recv|sendto|recvfrom|mmap|munmap|ioctl|getenv|setenv|time|clock_gettime|gettimeofday|sleep|usleep|nanosleep|pthread_create|fork|execv|execve|execvp|system|popen|syslog|dlopen|(git|PQ|curl|FCGX|jwt)_.*)$'
bad=$(nm -u "$lib" | awk 'NF == 2 { print $2 }' | sed 's/@.*//' | sort -u |
	grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
	echo "core-is-pure: libilcore.a calls:" $bad >&2
	exit 1
fi
echo "core-is-pure: libilcore.a calls no I/O"
