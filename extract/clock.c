/* The source's clock as the window needs it: instants (epoch seconds, which
 * never repeat) and the wall times cursors are written in (which do: a DST
 * fall-back repeats an hour; writers may stamp from another zone). The
 * checkpoint is kept as an instant; a window's lower bound is turned into
 * the cursor's wall time here, on the server, with the server's own rules. */
#include "extract.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One row of one column, or NULL for SQL NULL; dies on a server error. */
static char *query_one(MYSQL *my, const char *sql, unsigned *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *v = NULL;

	gx_debug("sql: %s", sql);
	if (mysql_query(my, sql) || !(res = mysql_store_result(my))) {
		if (err) {
			*err = mysql_errno(my);
			return NULL;
		}
		db_die(my, "%s", sql);
	}
	if (err)
		*err = 0;
	row = mysql_fetch_row(res);
	if (row && row[0])
		v = gx_strdup(row[0]);
	mysql_free_result(res);
	return v;
}

long long clock_epoch(const char *opt, const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno || v < 0 || (*end && (*end != '.' ||
	    strspn(end + 1, "0123456789") != strlen(end + 1))))
		gx_die(GX_EXIT_DATA, "%s: expected epoch seconds (e.g. 1762066200 "
		       "or 1762066200.5), got '%s'", opt, s);
	return v;	/* floor: as a lower bound, earlier is the safe side */
}

/* The SQL for the wall time, in the cursor's zone, of epoch expression t:
 * the session's zone (FROM_UNIXTIME) or a zone the writers use. */
static void add_wall(gx_buf *sql, MYSQL *my, const char *zone, const char *t)
{
	if (!zone) {
		buf_addf(sql, "FROM_UNIXTIME(%s)", t);
		return;
	}
	buf_addf(sql, "CONVERT_TZ(TIMESTAMP'1970-01-01 00:00:00' + INTERVAL (%s) "
		 "SECOND, '+00:00', ", t);
	db_add_literal(sql, my, zone, strlen(zone));
	buf_addc(sql, ')');
}

static noreturn void unknown_zone(const char *zone)
{
	gx_die(GX_EXIT_DATA, "--cursor-tz: the source server does not know the time "
	       "zone '%s' (a name needs its time zone tables: mariadb-tzinfo-to-sql; "
	       "or give an offset like -05:00)", zone);
}

char *clock_wall(MYSQL *my, const char *zone, long long epoch)
{
	gx_buf sql = GX_BUF_INIT;
	char t[32];

	snprintf(t, sizeof t, "%lld", epoch);
	buf_adds(&sql, "SELECT ");
	add_wall(&sql, my, zone, t);
	char *v = query_one(my, sql.s, NULL);
	if (!v && zone)
		unknown_zone(zone);
	if (!v)
		gx_die(GX_EXIT_SERVER, "the source cannot give the wall time of "
		       "instant %lld", epoch);
	buf_free(&sql);
	return v;
}

/* The earliest wall time a cursor stamped at any instant in [since, now]
 * can have. Wall time goes back at a fall-back transition, so this is not
 * simply the wall time of `since`: it is since + the smallest UTC offset
 * the zone has in the interval, sampled at least hourly (no zone keeps an
 * offset for less than an hour) and at both ends. With no transition in
 * the interval it is exactly the wall time of `since`. A recursive CTE
 * stays under MySQL's default cte_max_recursion_depth (1000). */
char *clock_since(MYSQL *my, const char *zone, long long since, long long now,
		  int *widened)
{
	long long span = now > since ? now - since : 0;
	long long step = span / 900 + 1 > 3600 ? span / 900 + 1 : 3600;
	gx_buf sql = GX_BUF_INIT;
	MYSQL_RES *res;
	MYSQL_ROW row;

	buf_addf(&sql, "WITH RECURSIVE p(t) AS (SELECT CAST(%lld AS SIGNED) UNION ALL "
		 "SELECT LEAST(t + %lld, %lld) FROM p WHERE t < %lld), "
		 "o(t, off) AS (SELECT t, TIMESTAMPDIFF(SECOND, TIMESTAMP'1970-01-01 "
		 "00:00:00' + INTERVAL t SECOND, ", since, step, since + span, since + span);
	add_wall(&sql, my, zone, "t");
	buf_addf(&sql, ") FROM p) SELECT TIMESTAMP'1970-01-01 00:00:00' + INTERVAL "
		 "(%lld + MIN(off)) SECOND, MIN(off) < MAX(IF(t = %lld, off, NULL)), "
		 "COUNT(off) = COUNT(*) FROM o", since, since);
	gx_debug("sql: %s", sql.s);
	if (mysql_query(my, sql.s) || !(res = mysql_store_result(my)))
		db_die(my, "cannot turn the checkpoint into the cursor's wall time");
	row = mysql_fetch_row(res);
	if (!row || !row[2] || strcmp(row[2], "1") || !row[0]) {
		if (zone)
			unknown_zone(zone);
		gx_die(GX_EXIT_SERVER, "the source cannot give the wall time of "
		       "instant %lld", since);
	}
	char *v = gx_strdup(row[0]);
	*widened = row[1] && !strcmp(row[1], "1");
	mysql_free_result(res);
	buf_free(&sql);
	return v;
}

/* Where the next delta must look back from: the clock, or earlier when a
 * transaction still open may yet commit rows stamped before it, or when the
 * source is a replica that has not applied the last seconds yet. What the
 * account may not see is named in *blind (for the end marker). */
long long clock_origin(MYSQL *my, const struct db_clock *c, long long given,
		       gx_buf *blind)
{
	long long origin = c->epoch;
	unsigned err;
	char *v;

	if (given >= 0 && given < origin)
		origin = given;

	/* Only a transaction that has written can commit a row stamped before
	 * now (NOW() is its statement's time), so idle or read-only ones do not
	 * pin the checkpoint. trx_started is the session's wall time:
	 * UNIX_TIMESTAMP gives its instant (in a repeated hour, MariaDB takes
	 * the earlier of the two: the safe side). */
	v = query_one(my, "SELECT FLOOR(UNIX_TIMESTAMP(MIN(trx_started))) "
		      "FROM information_schema.INNODB_TRX WHERE trx_rows_modified > 0", &err);
	if (err == 1227 || err == 1142)	/* no PROCESS privilege */
		buf_adds(blind, blind->len ? ",\"open_transactions\"" : "\"open_transactions\"");
	else if (err)
		db_die(my, "cannot read the open transactions");
	if (v) {
		long long t = strtoll(v, NULL, 10);
		if (t < origin) {
			gx_info("a transaction open since %lld s before the clock bounds "
				"the checkpoint", c->epoch - t);
			origin = t;
		}
		free(v);
	}

	/* A replica is behind its primary by Seconds_Behind_Master: rows the
	 * primary stamped in those seconds have not arrived yet. */
	MYSQL_RES *res;
	int failed = mysql_query(my, "SHOW SLAVE STATUS");
	if (failed && mysql_errno(my) == 1064)	/* MySQL 8.4: the new words only */
		failed = mysql_query(my, "SHOW REPLICA STATUS");
	if (failed) {
		err = mysql_errno(my);
		if (err != 1227 && err != 1142)
			db_die(my, "cannot read the replication status");
		buf_adds(blind, blind->len ? ",\"replica_lag\"" : "\"replica_lag\"");
	} else if ((res = mysql_store_result(my))) {
		MYSQL_ROW row = mysql_fetch_row(res);
		MYSQL_FIELD *f = mysql_fetch_fields(res);
		unsigned nf = mysql_num_fields(res);
		for (unsigned i = 0; row && i < nf; i++) {
			if (strcmp(f[i].name, "Seconds_Behind_Master") &&
			    strcmp(f[i].name, "Seconds_Behind_Source"))
				continue;
			if (!row[i])
				gx_die(GX_EXIT_SERVER, "the source is a replica that is not "
				       "replicating (Seconds_Behind_Master is NULL): rows its "
				       "primary wrote since would land behind this run's "
				       "checkpoint; read from the primary or restart replication");
			long long lag = strtoll(row[i], NULL, 10);
			if (lag > 0 && c->epoch - lag < origin) {
				gx_info("the source replica is %lld s behind its primary: "
					"the checkpoint is moved back as far", lag);
				origin = c->epoch - lag;
			}
		}
		mysql_free_result(res);
	}
	return origin;
}
