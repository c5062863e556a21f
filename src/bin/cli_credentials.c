/* cli_credentials.c: where `ironlayer login` keeps its tokens, and the password prompt */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "bin/cli_api.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/json.h"

/* The longest credentials file we read: tokens are a few hundred bytes. */
#define CRED_MAX 65536

const char *cli_credentials_path(struct arena *a)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		return arena_printf(a, "%s/ironlayer/credentials", xdg);
	if (home != NULL && home[0] != '\0')
		return arena_printf(a, "%s/.config/ironlayer/credentials", home);
	return NULL;
}

static const char *member(struct arena *a, json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return arena_strdup(a, json_object_get_string(v));
}

int cli_credentials_load(struct cli_credentials *c, struct arena *a, const char *path)
{
	char *buf = arena_alloc(a, CRED_MAX);
	json_object *o;
	FILE *f;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (buf == NULL)
		return IL_ENOMEM;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? IL_ENOTFOUND : IL_EINVALID;
	n = fread(buf, 1, CRED_MAX - 1, f);
	fclose(f);
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (o == NULL || json_arena_own(a, o) < 0 || !json_object_is_type(o, json_type_object))
		return IL_EINVALID;
	c->url = member(a, o, "url");
	c->email = member(a, o, "email");
	c->access_token = member(a, o, "access_token");
	c->refresh_token = member(a, o, "refresh_token");
	return c->url != NULL && c->access_token != NULL ? 0 : IL_EINVALID;
}

/* mkdir -p for the file's directory, the last level private (0700). */
static int make_dirs(struct arena *a, const char *path)
{
	char *dir = arena_strdup(a, path), *p;

	if (dir == NULL || (p = strrchr(dir, '/')) == NULL)
		return -1;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static json_object *credentials_json(const struct cli_credentials *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "url", json_object_new_string(c->url));
	if (c->email != NULL)
		json_object_object_add(o, "email", json_object_new_string(c->email));
	json_object_object_add(o, "access_token", json_object_new_string(c->access_token));
	if (c->refresh_token != NULL)
		json_object_object_add(o, "refresh_token",
				       json_object_new_string(c->refresh_token));
	return o;
}

int cli_credentials_save(const struct cli_credentials *c, struct arena *a, const char *path,
			 const char **err)
{
	const char *tmp = arena_printf(a, "%s.%ld.tmp", path, (long)getpid());
	json_object *o = credentials_json(c);
	const char *text;
	int fd, bad;

	if (tmp == NULL || o == NULL || json_arena_own(a, o) < 0 || make_dirs(a, path) < 0) {
		*err = strerror(errno ? errno : ENOMEM);
		return -1;
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	/* created 0600 from the start: the tokens are never readable by others */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = strerror(errno);
		return -1;
	}
	bad = fchmod(fd, 0600) < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	      write(fd, "\n", 1) != 1 || fsync(fd) < 0;
	bad |= close(fd) < 0;
	if (bad || rename(tmp, path) < 0) {
		*err = strerror(errno);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* One line from f without its line end; NULL at end of input. */
static const char *read_line(struct arena *a, FILE *f)
{
	char line[4096];

	if (fgets(line, sizeof(line), f) == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return arena_strdup(a, line);
}

const char *cli_prompt(struct arena *a, const char *question, int echo)
{
	struct termios old, quiet;
	const char *line;
	FILE *tty;
	int hidden = 0;

	if (!isatty(STDIN_FILENO) || (tty = fopen("/dev/tty", "r+")) == NULL)
		return read_line(a, stdin);
	fputs(question, tty);
	fflush(tty);
	if (!echo && tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		hidden = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	line = read_line(a, tty);
	if (hidden) {
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		fputc('\n', tty);
	}
	fclose(tty);
	return line;
}
