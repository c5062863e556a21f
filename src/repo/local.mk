# src/repo/local.mk: reading model files out of git commits (libgit2)
noinst_LIBRARIES += libilrepo.a
libilrepo_a_SOURCES = src/repo/repo.c src/repo/path.c src/repo/repo.h src/repo/repo_int.h \
	src/repo/load.c src/repo/listing.c src/repo/parse.c src/repo/store.c src/repo/store.h \
	src/repo/cache_file.c src/repo/blob_check.c
libilrepo_a_CFLAGS = $(AM_CFLAGS) $(GIT2_CFLAGS) $(CRYPTO_CFLAGS) -pthread
IL_REPO_LIBS = libilrepo.a $(GIT2_LIBS) $(CRYPTO_LIBS) -lpthread
