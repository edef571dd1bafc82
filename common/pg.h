/* libpq helpers shared by gx-load and gx-state. */
#ifndef GX_PG_H
#define GX_PG_H

#include <libpq-fe.h>

#include "gx.h"

/* Connects with libpq's own environment (PGHOST, PGPORT, PGUSER,
 * PGDATABASE, PGPASSWORD / .pgpass) or conninfo if not NULL. A conninfo
 * holding a password is refused: secrets never travel on a command line. */
PGconn *gx_pg_connect(const char *conninfo);
/* Runs sql; dies with status 2 and the server's message unless it
 * succeeded. The caller PQclear()s the result. */
PGresult *gx_pg_exec(PGconn *c, const char *sql);
PGresult *gx_pg_execp(PGconn *c, const char *sql, int n, const char *const *vals);
/* gx_pg_exec for statements whose result is not needed. */
void gx_pg_run(PGconn *c, const char *sql);
/* The connection's last error as one line (no newlines). */
const char *gx_pg_error(PGconn *c);
/* Appends name as a quoted identifier; "schema.table" becomes
 * "schema"."table" (split at the first dot). */
void gx_pg_add_ident(gx_buf *b, const char *name);
#endif
