/* libpq helpers shared by gx-load and gx-state. */
#include "pg.h"

#include <stdlib.h>
#include <string.h>

static char errline[1024];

const char *gx_pg_error(PGconn *c)
{
	const char *m = PQerrorMessage(c);
	size_t j = 0;

	/* libpq messages span lines (ERROR/DETAIL/HINT): fold them. */
	for (size_t i = 0; m[i] && j + 3 < sizeof errline; i++) {
		if (m[i] == '\n') {
			if (m[i + 1])
				errline[j++] = ';', errline[j++] = ' ';
		} else {
			errline[j++] = m[i];
		}
	}
	errline[j] = '\0';
	return errline;
}

/* A password in --db would sit in argv, where every user of the machine can
 * read it: refuse one however it is spelt (keyword, URI user:password@ or
 * ?password=), as libpq itself parses the string. */
static void refuse_password(const char *conninfo)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err), *o;
	int has = 0;

	if (!opts) {
		if (err)
			err[strcspn(err, "\n")] = '\0';
		gx_die(GX_EXIT_DATA, "--db: %s", err ? err : "out of memory");
	}
	for (o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			has = 1;
	PQconninfoFree(opts);
	if (has)
		gx_die(GX_EXIT_DATA, "refusing a connection string with a password: "
		       "use PGPASSWORD or ~/.pgpass");
}

/* The sslmode the connection was made with (libpq's default: prefer). */
static const char *conn_sslmode(PGconn *c)
{
	static char mode[32];
	PQconninfoOption *o = PQconninfo(c), *p;

	snprintf(mode, sizeof mode, "prefer");
	for (p = o; p && p->keyword; p++)
		if (!strcmp(p->keyword, "sslmode") && p->val)
			snprintf(mode, sizeof mode, "%s", p->val);
	PQconninfoFree(o);
	return mode;
}

PGconn *gx_pg_connect(const char *conninfo)
{
	PGconn *c;

	if (conninfo)
		refuse_password(conninfo);
	c = PQconnectdb(conninfo ? conninfo : "");
	if (!c || PQstatus(c) != CONNECTION_OK) {
		/* the message is copied out before the connection is freed */
		const char *why = c ? gx_pg_error(c) : "out of memory";
		PQfinish(c);
		gx_die(GX_EXIT_SERVER, "cannot connect to PostgreSQL: %s", why);
	}
	gx_pg_run(c, "SET client_min_messages = warning");
	/* What the connection is, for --debug: where, and whether encrypted
	 * (libpq's sslmode says how it was verified). */
	if (PQsslInUse(c))
		gx_debug("PostgreSQL: %s:%s as %s, TLS %s (%s), sslmode %s", PQhost(c),
			 PQport(c), PQuser(c), PQsslAttribute(c, "protocol"),
			 PQsslAttribute(c, "cipher"), conn_sslmode(c));
	else
		gx_debug("PostgreSQL: %s:%s as %s, not encrypted", PQhost(c), PQport(c),
			 PQuser(c));
	return c;
}

static PGresult *check(PGconn *c, PGresult *r, const char *sql)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN)
		return r;
	gx_debug("failed SQL: %s", sql);
	PQclear(r);	/* the message is the connection's, not the result's */
	gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(c));
}

PGresult *gx_pg_exec(PGconn *c, const char *sql)
{
	gx_debug("SQL: %s", sql);
	return check(c, PQexec(c, sql), sql);
}

PGresult *gx_pg_execp(PGconn *c, const char *sql, int n, const char *const *vals)
{
	gx_debug("SQL: %s", sql);
	return check(c, PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0), sql);
}

void gx_pg_run(PGconn *c, const char *sql)
{
	PQclear(gx_pg_exec(c, sql));
}

static void add_quoted(gx_buf *b, const char *s, size_t n)
{
	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, s[i]);
	}
	buf_addc(b, '"');
}

void gx_pg_add_ident(gx_buf *b, const char *name)
{
	const char *dot = strchr(name, '.');

	if (dot) {
		add_quoted(b, name, (size_t)(dot - name));
		buf_addc(b, '.');
		name = dot + 1;
	}
	add_quoted(b, name, strlen(name));
}
