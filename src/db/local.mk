noinst_LIBRARIES += libildb.a
libildb_a_SOURCES = \
	src/db/db.c src/db/db.h \
	src/db/pipeline.c src/db/pipeline.h \
	src/db/migrate.c src/db/migrate.h \
	src/db/sqlsplit.c \
	src/db/auth.c src/db/auth.h \
	src/db/admin.c src/db/admin.h \
	src/db/plans.c src/db/plans.h \
	src/db/models.c src/db/models.h \
	src/db/environments.c src/db/environments.h \
	src/db/runs.c src/db/runs.h \
	src/db/rows.c src/db/rows.h \
	src/db/settings.c src/db/settings.h \
	src/db/json_text.c src/db/json_text.h
libildb_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
IL_DB_LIBS = libildb.a $(PQ_LIBS)
