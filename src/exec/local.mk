noinst_LIBRARIES += libilexec.a
libilexec_a_SOURCES = \
	src/exec/exec.h src/exec/common.c \
	src/exec/postgres.c src/exec/postgres_sql.c src/exec/statements.c src/exec/pg_wait.c \
	src/exec/pg_int.h src/exec/pg_provision.c \
	src/exec/databricks.c src/exec/databricks_sql.c src/exec/databricks_int.h \
	src/exec/dbx_target.c src/exec/netguard.c src/exec/netguard.h src/exec/outbound.c \
	src/exec/pg_target.c src/exec/postgres_int.h
libilexec_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
IL_EXEC_LIBS = libilexec.a $(CURL_LIBS) $(PQ_LIBS)
