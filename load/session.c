/* The PostgreSQL session: connecting, every statement gx-load sends (each
 * bounded by --timeout), COMMIT, and the signals that end a run early.
 *
 * Nothing here needs to undo anything: until COMMIT the run lives in one
 * open transaction, which PostgreSQL rolls back when the connection closes,
 * however gx-load ends. So a timeout or a signal just says why, on one line,
 * and ends the process; only COMMIT itself is shielded from the signals. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

/* The watchdog fires this long after --timeout, so that PostgreSQL's own
 * statement_timeout, with its clearer message, normally comes first. */
#define GRACE 2

/* Built before any signal can come: handlers only write(2) them. */
static char alarm_msg[2][256];		/* [in_commit] */
static volatile sig_atomic_t in_commit;
static int armed;

static void on_alarm(int sig)
{
	(void)sig;
	gx_handler_say(alarm_msg[in_commit]);
	_exit(GX_EXIT_SERVER);
}

/* --timeout S: libpq gives up connecting after S s, PostgreSQL cancels a
 * statement after S s, and the watchdog ends us when the server says
 * nothing at all (a frozen server, a dead network) for S + GRACE s. */
static void handle_timeout(const struct session *db)
{
	struct sigaction sa;
	char v[32];

	gx_handler_line(alarm_msg[0], sizeof alarm_msg[0], "PostgreSQL did not answer "
			"within %u s (--timeout): gave up, nothing committed", db->timeout);
	gx_handler_line(alarm_msg[1], sizeof alarm_msg[1], "PostgreSQL did not answer "
			"COMMIT within %u s (--timeout): the load is committed whole or not "
			"at all", db->timeout);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	snprintf(v, sizeof v, "%u", db->timeout);
	setenv("PGCONNECT_TIMEOUT", v, 1);	/* a conninfo's connect_timeout wins */
}

void deadline(const struct session *db)
{
	if (db->timeout)
		alarm(db->timeout + GRACE), armed = 1;
}

/* Cheap when there is nothing to disarm: called once per record. */
void deadline_off(const struct session *db)
{
	if (armed)
		alarm(0), armed = 0;
	(void)db;
}

void session_open(struct session *db, const char *conninfo)
{
	gx_catch_stops("interrupted by %s before COMMIT: nothing committed");
	if (db->timeout)
		handle_timeout(db);
	deadline(db);
	db->pg = gx_pg_connect(conninfo);

	/* The stream is UTF-8; a datetime without an offset is UTC, as the
	 * warehouse's (Django's) sessions read it, unless PGTZ says otherwise. */
	sql_run(db, "SET client_encoding = 'UTF8'");
	if (!getenv("PGTZ"))
		sql_run(db, "SET TimeZone = 'UTC'");
	if (db->timeout) {
		char ms[32];
		snprintf(ms, sizeof ms, "%u", db->timeout * 1000);
		const char *p[] = { ms };
		PQclear(sql_execp(db, "SELECT set_config('statement_timeout', $1, false)", 1, p));
	}
	/* A killed gx-load: PostgreSQL notices within a second, even in the
	 * middle of a long upsert, and rolls back (14+; older servers refuse
	 * the setting and finish the statement first). */
	PQclear(sql_try(db, "SET client_connection_check_interval = 1000"));
}

/* --timeout bounds each statement; a COPY of the whole stream lasts as
 * long as the input does, so it runs without (the watchdog still guards
 * every send), and the bound comes back after it. A rollback undoes the
 * SET by itself. */
void session_unbounded(struct session *db, int on)
{
	char ms[32];

	if (!db->timeout)
		return;
	snprintf(ms, sizeof ms, "%u", on ? 0 : db->timeout * 1000);
	const char *p[] = { ms };
	PQclear(sql_execp(db, "SELECT set_config('statement_timeout', $1, false)", 1, p));
}

void sql_run(struct session *db, const char *sql)
{
	deadline(db);
	gx_pg_run(db->pg, sql);
}

PGresult *sql_exec(struct session *db, const char *sql)
{
	deadline(db);
	return gx_pg_exec(db->pg, sql);
}

PGresult *sql_execp(struct session *db, const char *sql, int n, const char *const *vals)
{
	deadline(db);
	return gx_pg_execp(db->pg, sql, n, vals);
}

PGresult *sql_try(struct session *db, const char *sql)
{
	deadline(db);
	gx_debug("SQL: %s", sql);
	return PQexec(db->pg, sql);
}

void rollback(struct session *db)
{
	PQclear(sql_try(db, "ROLLBACK"));
}

/* From COMMIT on, the run is done or lost as a whole: a SIGTERM then waits
 * (blocked) for COMMIT's answer and is dropped when we exit 0, so that our
 * status tells the truth about the data. */
void session_commit(struct session *db)
{
	PGresult *r;

	gx_hold_stops();
	in_commit = 1;
	r = sql_try(db, "COMMIT");
	deadline_off(db);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		if (PQstatus(db->pg) == CONNECTION_BAD)
			gx_die(GX_EXIT_SERVER, "PostgreSQL: COMMIT: %s (the connection was lost: "
			       "the load is committed whole or not at all)", gx_pg_error(db->pg));
		gx_die(GX_EXIT_SERVER, "PostgreSQL: COMMIT failed, nothing committed: %s",
		       gx_pg_error(db->pg));
	}
	PQclear(r);
}
