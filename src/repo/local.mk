# src/repo/local.mk: reading model files out of git commits (libgit2)
noinst_LIBRARIES += libilrepo.a
libilrepo_a_SOURCES = src/repo/repo.c src/repo/repo.h
libilrepo_a_CFLAGS = $(AM_CFLAGS) $(GIT2_CFLAGS)
IL_REPO_LIBS = libilrepo.a $(GIT2_LIBS)
