/* respcache.h: a worker's kept answers to reads, valid while the tenant's data version stays */
#ifndef IL_RESPCACHE_H
#define IL_RESPCACHE_H

#include <stddef.h>

struct req;

/*
 * A read of a ROUTE_KEPT route answers from the tenant's rows and the request
 * alone. Its 200 answer (status, the headers its handler added, the body) is
 * kept under the caller (tenant, user), the method, the path and the query,
 * with the caller's role and the tenant's data version the user check saw
 * when the request began; a later read with the same key, role and version
 * gets it again without running the handler. The version moves in every transaction that
 * changes any row of the tenant, in the same commit (020_tenant_versions.sql),
 * so the kept answer is the one the handler would give now.
 *
 * Each worker keeps at most RESPCACHE_SLOTS answers of at most
 * RESPCACHE_MAX_BYTES each, the least recently used giving way.
 */
#define RESPCACHE_SLOTS 64
#define RESPCACHE_MAX_BYTES (256 * 1024)

/* 1 when an answer is kept under r's key (at whatever version and role). */
int respcache_holds(const struct req *r);

/*
 * Puts the answer kept for r at version into r (status; headers copied; the
 * body and its type point into the cache, valid until the next
 * respcache_keep or respcache_clear); 1 when there was one, 0 otherwise.
 */
int respcache_answer(struct req *r, long long version);

/*
 * Keeps r's answer under version: its status must be 200 and the headers it
 * keeps are r->headers from byte headers_from on (what the handler added).
 */
void respcache_keep(const struct req *r, long long version, size_t headers_from);

/* Forgets every kept answer (a worker's exit; tests). */
void respcache_clear(void);

#endif
