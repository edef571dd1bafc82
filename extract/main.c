/* gx-extract: streams a window of a Genius (MySQL/MariaDB) query as NDJSON,
 * then the end marker. The man page, docs/man/gx-extract.1, is the one full
 * description of the options, the window, the end marker and the exit
 * statuses; main() below performs its steps in order. */
#include "extract.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	const char *query, *entity, *after, *expect_tz;
	const char *shard, *shard_bounds;
	const char *since_instant, *origin, *cursor_tz, *probe;
	const char *keys;	/* --keys FILE */
	long long lookback;	/* -1: no late-arrival probe */
	unsigned probe_hours;
	struct window w;
	unsigned timeout, read_timeout;
	unsigned progress;	/* seconds between progress lines; 0: none */
	int now, describe;
	struct db_args db;	/* the connection's options (db.c) */
};

static noreturn void usage(void)
{
	printf(
"usage: gx-extract --query FILE | --entity NAME [--since DT] [--until DT]\n"
"                  [--after JSON] [--limit N] [--shard K/N [--shard-bounds JSON]]\n"
"                  [--timeout S] [--read-timeout S]\n"
"                  [--progress[=S] | --no-progress]\n"
"                  [--since-instant EPOCH] [--cursor-tz ZONE] [--origin EPOCH]\n"
"                  [--lookback S [--probe JSON] [--probe-hours H]] [--keys FILE]\n"
"                  [--expect-time-zone Z] [connection options] [--debug]\n"
"       gx-extract --entity NAME --describe\n"
"       gx-extract --now | --help | --version\n"
"Streams the query's rows in the window as NDJSON, ordered by (cursor, key),\n"
"then the end marker {\"@gx\":\"end\",\"records\":N,...,\"more\":B,\"last\":[...]}.\n"
"\n"
"  --query FILE        query file: -- @cursor EXPR|none, -- @key EXPR[, ...],\n"
"                      [-- @where COND], then one SELECT (no WHERE/ORDER/LIMIT)\n"
"  --entity NAME       the query $GX_QUERIES/NAME.sql\n"
"                      (default GX_QUERIES: ../extract/queries beside the binary)\n"
"  --since DT          cursor >= DT, and rows whose cursor is NULL or zero\n"
"  --until DT          cursor < DT    (DT: YYYY-MM-DD[ HH:MM:SS[.ffffff]])\n"
"  --since-instant E   like --since, from an instant (epoch seconds): the\n"
"                      earliest wall time any moment since E has in the\n"
"                      cursor's zone\n"
"                      (a DST fall-back widens it by the repeated hour)\n"
"  --cursor-tz ZONE    the zone the cursor's writers stamp it in (default: the\n"
"                      server's); an offset (-05:00) or a name the server knows\n"
"  --origin E          this run continues a walk that began at instant E\n"
"  --lookback S        the next delta looks back S s: record the late-arrival\n"
"                      probe of the band behind it (\"probe\" in the end marker)\n"
"  --probe JSON        the previous run's \"probe\": rows that arrived in its\n"
"                      band since are read too and counted (\"late_rows\")\n"
"  --probe-hours H     the probe's band, in hours (default 24; 0: no probe)\n"
"  --after JSON        resume strictly after [cursor, key...] (the end\n"
"                      marker's \"last\")\n"
"  --limit N           at most N records, in (cursor, key) order; \"more\":true\n"
"                      when rows were left, \"last\" is where to resume (--after)\n"
"  --keys FILE         after the window, read again the rows of these keys (one\n"
"                      JSON array a line: gx-state rejects ENTITY --keys); a key\n"
"                      with no row is a line {\"@gx\":\"gone\",\"key\":[...]}\n"
"  --ordered           (cursor, key) order without --limit too (the server sorts\n"
"                      the whole window: slower on big tables)\n"
"  --shard K/N         shard K of N: N processes read each row of the window\n"
"                      once;\n"
"                      by ranges of an integer first key (as many rows each),\n"
"                      else by MOD(CRC32(key), N) = K-1\n"
"  --shard-bounds JSON use these range bounds, the end marker's \"shard_bounds\"\n"
"                      (give all shards the same on a changing table, or to\n"
"                      resume)\n"
"  --timeout S         connect timeout in seconds (default 30)\n"
"  --read-timeout S    longest silence from the server (default 3600; 0: none)\n"
"  --progress[=S]      progress on stderr every S s (default 2; on when stderr\n"
"                      is a terminal); --no-progress: off\n"
"  --no-defaults, --defaults-file F, --defaults-extra-file F,\n"
"  --defaults-group-suffix S  which MySQL option files, as the mariadb client\n"
"                      (default: /etc/my.cnf, /etc/mysql/my.cnf, ~/.my.cnf;\n"
"                      groups [client], [client-server], [client-mariadb], [gx])\n"
"  --ssl-mode M        disable|prefer|require|verify-ca|verify-full (default:\n"
"                      prefer; verify-full once a CA is given)\n"
"  --ssl-ca F, --ssl-cert F, --ssl-key F  the CA, the client certificate and key\n"
"  --expect-time-zone Z  refuse to run unless the source's time zone is Z\n"
"                      (the zone the checkpoint was taken in: the end\n"
"                      marker's time_zone)\n"
"  --now               print the source clock as one JSON line and exit\n"
"  --describe          print the query file's cursor and keys as JSON and exit\n"
"  --debug             log settings and SQL to stderr (never the password)\n"
"  -h, --help          this text\n"
"      --version       print the version\n"
"\n"
"Connection: GENIUS_DB_HOST, GENIUS_DB_PORT, GENIUS_DB_USER, GENIUS_DB_PASSWORD,\n"
"GENIUS_DB_NAME, GENIUS_DB_SOCKET (override the option files' values),\n"
"GENIUS_DB_OPTION_FILE (--defaults-file), GENIUS_DB_SSL_MODE, GENIUS_DB_SSL_CA,\n"
"GENIUS_DB_SSL_CERT, GENIUS_DB_SSL_KEY (the flags override them).\n"
"\n"
"Exit status: 0 done (end marker written), 1 bad usage or query, 2 connection or\n"
"server failure (timeouts too), 5 bug; SIGTERM/SIGINT/SIGHUP: the signal's own\n"
"status (143/130/129 in a shell). Only status 0 writes the end marker.\n"
"\n"
"example:\n"
"  gx-extract --entity appointments --since '2024-06-01' --limit 50000 | jq -c .\n"
"  gx-extract --entity appointments --shard 2/4 --progress >part2.ndjson\n");
	gx_flush();
	exit(0);
}

static noreturn void bad_usage(const char *fmt, const char *arg)
{
	gx_usage_error(fmt, arg);
}

static const char *datetime(const char *opt, const char *s)
{
	if (!gx_valid_datetime(s))
		gx_die(GX_EXIT_DATA, "%s: not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"
		       "[.ffffff]: '%s'", opt, s);
	return s;
}

static unsigned seconds(const char *opt, const char *s)
{
	unsigned long long v = gx_parse_count(opt, s);

	if (v > 31536000)
		gx_die(GX_EXIT_DATA, "%s: more than a year: '%s'", opt, s);
	return (unsigned)v;
}

#define PROGRESS_EVERY 2

/* --progress[=S]: every S seconds, S >= 1. */
static unsigned progress_every(const char *arg)
{
	unsigned s = arg ? seconds("--progress", arg) : PROGRESS_EVERY;

	if (!s)
		bad_usage("--progress: the interval must be at least 1 s: '%s'", arg);
	return s;
}

static void parse_options(struct opts *o, int argc, char **argv)
{
	enum { O_QUERY = 256, O_ENTITY, O_SINCE, O_UNTIL, O_AFTER, O_LIMIT,
	       O_TIMEOUT, O_READ_TIMEOUT, O_NOW, O_DEBUG, O_VERSION,
	       O_EXPECT_TZ, O_SHARD, O_SHARD_BOUNDS, O_PROGRESS, O_NO_PROGRESS,
	       O_ORDERED, O_SINCE_INSTANT, O_ORIGIN, O_CURSOR_TZ, O_LOOKBACK,
	       O_PROBE, O_PROBE_HOURS, O_DESCRIBE, O_KEYS };
	static const struct option longopts[] = {
		{ "query", required_argument, NULL, O_QUERY },
		{ "entity", required_argument, NULL, O_ENTITY },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "after", required_argument, NULL, O_AFTER },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "read-timeout", required_argument, NULL, O_READ_TIMEOUT },
		{ "expect-time-zone", required_argument, NULL, O_EXPECT_TZ },
		{ "shard", required_argument, NULL, O_SHARD },
		{ "shard-bounds", required_argument, NULL, O_SHARD_BOUNDS },
		{ "progress", optional_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NO_PROGRESS },
		{ "ordered", no_argument, NULL, O_ORDERED },
		{ "since-instant", required_argument, NULL, O_SINCE_INSTANT },
		{ "origin", required_argument, NULL, O_ORIGIN },
		{ "cursor-tz", required_argument, NULL, O_CURSOR_TZ },
		{ "lookback", required_argument, NULL, O_LOOKBACK },
		{ "probe", required_argument, NULL, O_PROBE },
		{ "probe-hours", required_argument, NULL, O_PROBE_HOURS },
		{ "describe", no_argument, NULL, O_DESCRIBE },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "now", no_argument, NULL, O_NOW },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		DB_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof *o);
	o->timeout = 30;
	o->read_timeout = 3600;
	o->lookback = -1;
	o->probe_hours = 24;
	o->progress = isatty(STDERR_FILENO) ? PROGRESS_EVERY : 0;
	db_args_init(&o->db);
	opterr = 0;	/* one message of our own, below */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_QUERY: o->query = optarg; break;
		case O_ENTITY: o->entity = optarg; break;
		case O_SINCE: o->w.since = datetime("--since", optarg); break;
		case O_UNTIL: o->w.until = datetime("--until", optarg); break;
		case O_AFTER: o->after = optarg; break;
		case O_LIMIT:
			o->w.has_limit = o->w.ordered = 1;
			o->w.limit = gx_parse_count("--limit", optarg);
			if (o->w.limit >= 1ULL << 62)
				bad_usage("--limit: too large: '%s'", optarg);
			break;
		case O_TIMEOUT: o->timeout = seconds("--timeout", optarg); break;
		case O_READ_TIMEOUT:
			o->read_timeout = seconds("--read-timeout", optarg);
			break;
		case O_EXPECT_TZ: o->expect_tz = optarg; break;
		case O_SHARD: o->shard = optarg; break;
		case O_SHARD_BOUNDS: o->shard_bounds = optarg; break;
		case O_PROGRESS: o->progress = progress_every(optarg); break;
		case O_NO_PROGRESS: o->progress = 0; break;
		case O_ORDERED: o->w.ordered = 1; break;
		case O_SINCE_INSTANT:
			clock_epoch("--since-instant", o->since_instant = optarg);
			break;
		case O_ORIGIN: clock_epoch("--origin", o->origin = optarg); break;
		case O_CURSOR_TZ:
			if (!*optarg || strlen(optarg) > 64)
				bad_usage("--cursor-tz: not a time zone: '%s'", optarg);
			o->cursor_tz = optarg;
			break;
		case O_LOOKBACK: o->lookback = seconds("--lookback", optarg); break;
		case O_PROBE: o->probe = optarg; break;
		case O_PROBE_HOURS:
			o->probe_hours = seconds("--probe-hours", optarg);
			if (o->probe_hours > 24 * 31)
				bad_usage("--probe-hours: at most 744 (a month): '%s'", optarg);
			break;
		case O_DESCRIBE: o->describe = 1; break;
		case O_KEYS: o->keys = optarg; break;
		case O_NOW: o->now = 1; break;
		case O_DEBUG: gx_debug_on = 1; break;
		case 'h': usage();
		case O_VERSION: gx_version();
		default:
			if (!db_option(&o->db, c, optarg))
				gx_bad_option(c, argv);
		}
	}
	if (optind < argc)
		bad_usage("%s: unexpected argument", argv[optind]);
	if (o->now) {
		if (o->query || o->entity || o->w.since || o->w.until || o->after ||
		    o->w.has_limit || o->shard)
			bad_usage("%s", "--now takes no query or window options");
	} else if (!o->query == !o->entity) {
		bad_usage("%s", "give exactly one of --query FILE and --entity NAME "
			  "(see --help)");
	}
	if (o->shard_bounds && !o->shard)
		bad_usage("%s", "--shard-bounds needs --shard K/N");
	/* A shard would call the other shards' keys gone. */
	if (o->keys && o->shard)
		bad_usage("%s", "--keys does not go with --shard");
	if (o->since_instant && o->w.since)
		bad_usage("%s", "give one of --since and --since-instant");
	db_args_check(&o->db);
}

/* $GX_QUERIES/NAME.sql, GX_QUERIES defaulting to ../extract/queries beside
 * the binary (symbolic links resolved), so an installed tree finds its own;
 * when that does not exist, ../share/gx/extract/queries (make install). */
static char *entity_query(const char *name)
{
	const char *dir = getenv("GX_QUERIES");
	gx_buf path = GX_BUF_INIT;

	if (!*name || name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(name))
		gx_die(GX_EXIT_DATA, "--entity: not an entity name: '%s'", name);
	if (dir && *dir) {
		buf_addf(&path, "%s/%s.sql", dir, name);
		return path.s;
	}
	if (gx_share_dir(&path, "extract/queries") < 0)
		gx_die(GX_EXIT_DATA, "cannot find the binary's directory: set GX_QUERIES");
	buf_addf(&path, "/%s.sql", name);
	return path.s;
}

/* The entity's name for the end marker: NAME, or FILE's base name. */
static char *entity_name(const struct opts *o)
{
	const char *base;
	size_t n;

	if (o->entity)
		return gx_strdup(o->entity);
	base = strrchr(o->query, '/') ? strrchr(o->query, '/') + 1 : o->query;
	n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".sql"))
		n -= 4;
	return gx_strndup(base, n);
}

/* The SQL a line at a time: a debug line has a bounded length. */
static void debug_sql(const char *sql)
{
	const char *p = sql;

	while (gx_debug_on && *p) {
		size_t n = strcspn(p, "\n");
		gx_debug("%s%.*s", p == sql ? "query: " : "  ", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void print_now(const struct db_clock *c)
{
	gx_buf b = GX_BUF_INIT;

	buf_adds(&b, "{\"@gx\":\"now\",\"now\":");
	json_add_str(&b, c->now, strlen(c->now));
	buf_adds(&b, ",\"time_zone\":");
	json_add_str(&b, c->time_zone, strlen(c->time_zone));
	buf_adds(&b, ",\"system_time_zone\":");
	json_add_str(&b, c->system_time_zone, strlen(c->system_time_zone));
	buf_adds(&b, "}\n");
	gx_out(b.s, b.len);
	buf_free(&b);
}

static void add_opt_str(gx_buf *b, const char *key, const char *v)
{
	buf_addf(b, ",\"%s\":", key);
	if (v)
		json_add_str(b, v, strlen(v));
	else
		buf_adds(b, "null");
}

/* The zone the source's DATETIME cursors are written in: the session's, or
 * the server's own when the session says SYSTEM. */
static const char *clock_zone(const struct db_clock *c)
{
	return strcmp(c->time_zone, "SYSTEM") ? c->time_zone : c->system_time_zone;
}

/* What a run adds to the end marker about the clock: where the next delta
 * must look back from, what the account cannot see, the probe. */
struct marks {
	long long origin;
	const char *since_instant, *cursor_tz;
	gx_buf blind;			/* JSON strings, comma separated */
	const char *probe;		/* JSON, or NULL */
	unsigned long long late_rows, future_cursor;
};

static void print_end(const char *entity, const struct db_clock *c,
		      const struct window *w, const struct run *r,
		      const struct marks *m)
{
	gx_buf b = GX_BUF_INIT;

	buf_addf(&b, "{\"@gx\":\"end\",\"records\":%llu", r->records);
	add_opt_str(&b, "entity", entity);
	add_opt_str(&b, "clock", c->now);
	add_opt_str(&b, "time_zone", clock_zone(c));
	add_opt_str(&b, "since", w->since);
	add_opt_str(&b, "until", w->until);
	buf_addf(&b, ",\"after\":%s", w->after ? w->after->json.s : "null");
	if (w->has_limit)
		buf_addf(&b, ",\"limit\":%llu", w->limit);
	else
		buf_adds(&b, ",\"limit\":null");
	buf_addf(&b, ",\"more\":%s,\"last\":%s,\"null_cursor\":%llu,"
		 "\"invalid_utf8\":%llu,\"unmappable\":%llu,\"retried\":%llu,"
		 "\"gone\":%llu", r->more ? "true" : "false",
		 r->records && w->ordered ? r->last.s : "null", r->null_cursor,
		 r->invalid_utf8, r->unmappable, r->retried, r->gone);
	if (w->shard)
		buf_addf(&b, ",\"shard\":\"%u/%u\",\"shard_bounds\":%s",
			 w->shard->k, w->shard->n,
			 w->shard->hash ? "null" : w->shard->json.s);
	else
		buf_adds(&b, ",\"shard\":null,\"shard_bounds\":null");
	buf_addf(&b, ",\"instant\":%s,\"origin\":%lld,\"since_instant\":%s",
		 c->instant, m->origin, m->since_instant ? m->since_instant : "null");
	add_opt_str(&b, "cursor_tz", m->cursor_tz);
	buf_addf(&b, ",\"late_rows\":%llu,\"future_cursor\":%llu,\"blind\":[%s],"
		 "\"probe\":%s}\n", m->late_rows, m->future_cursor,
		 m->blind.s ? m->blind.s : "", m->probe ? m->probe : "null");
	gx_out(b.s, b.len);
	buf_free(&b);
}

/* --describe: what scripts need to know of a query file, parsed once here. */
static void print_describe(const struct query *q)
{
	gx_buf b = GX_BUF_INIT;

	buf_adds(&b, "{\"cursor\":");
	if (q->cursor)
		json_add_str(&b, q->cursor, strlen(q->cursor));
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"keys\":[");
	for (size_t i = 0; i < q->nkeys; i++) {
		if (i)
			buf_addc(&b, ',');
		json_add_str(&b, q->keys[i], strlen(q->keys[i]));
	}
	buf_adds(&b, "]}\n");
	gx_out(b.s, b.len);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct query q;
	struct after after;
	struct shard shard;
	struct db_clock clock;
	struct run run = { 0 };
	gx_buf sql = GX_BUF_INIT;
	char *path = NULL, *entity = NULL;
	double t0;
	MYSQL *my;

	gx_init(argv[0]);
	/* never an end marker after a stop */
	gx_catch_stops("stopped by %s; no end marker written");
	parse_options(&o, argc, argv);
	t0 = gx_clock();

	/* --now: the source clock, that is all. */
	if (o.now) {
		my = db_connect(&o.db, o.timeout, o.read_timeout);
		db_clock(my, &clock);
		print_now(&clock);
		gx_flush();
		db_clock_free(&clock);
		mysql_close(my);
		mysql_library_end();
		return 0;
	}

	/* 1. The query file and the window, checked before connecting. */
	path = o.entity ? entity_query(o.entity) : gx_strdup(o.query);
	entity = entity_name(&o);
	query_load(&q, path);
	if (o.after) {
		after_parse(&after, o.after);
		o.w.after = &after;
	}
	if (o.shard) {
		shard_parse(&shard, o.shard, o.shard_bounds);
		o.w.shard = &shard;
	}
	window_check(&q, &o.w);
	if (o.since_instant && !q.cursor)
		gx_die(GX_EXIT_DATA, "%s has @cursor none: --since-instant does not "
		       "apply", q.path);
	if (o.describe) {
		print_describe(&q);
		gx_flush();
		query_free(&q);
		free(path);
		free(entity);
		return 0;
	}

	/* 2. Connect; let a slow reader downstream hold us as long as it
	 *    needs without the server dropping us mid-stream. The session
	 *    time zone stays the server's: cursors compare as stored. */
	my = db_connect(&o.db, o.timeout, o.read_timeout);
	db_exec(my, "SET SESSION net_write_timeout = 86400");

	/* 3. The source clock, before the query: the next delta's start.
	 *    Cursors are the source's wall time: if its zone moved since the
	 *    checkpoint, the window would silently shift. */
	db_clock(my, &clock);
	if (o.expect_tz && strcmp(o.expect_tz, clock_zone(&clock)))
		gx_die(GX_EXIT_DATA, "the source's time zone is now '%s' but the "
		       "checkpoint was taken in '%s': its cursor values moved; run "
		       "once with --full to take a new checkpoint", clock_zone(&clock),
		       o.expect_tz);

	/* 4. Where the next delta must look back from: the clock, or earlier
	 *    for an open transaction, a lagging replica, a walk's start. */
	struct marks m = { .origin = clock.epoch, .since_instant = o.since_instant,
			   .cursor_tz = o.cursor_tz, .probe = o.probe };
	if (q.cursor)
		m.origin = clock_origin(my, &clock, o.origin ?
					clock_epoch("--origin", o.origin) : -1, &m.blind);
	if (m.blind.len && o.lookback >= 0) {
		int trx = strstr(m.blind.s, "open") != NULL;
		int lag = strstr(m.blind.s, "replica") != NULL;
		gx_warn("the source account cannot see %s%s%s: a row committed more "
			"than --lookback (%lld s) after it was stamped can land behind "
			"the checkpoint unseen (grant %s%s%s; see gx(7))",
			trx ? "open transactions" : "", trx && lag ? " or " : "",
			lag ? "replication lag" : "", o.lookback, trx ? "PROCESS" : "",
			trx && lag ? " and " : "", lag ? "SLAVE MONITOR (MySQL: "
			"REPLICATION CLIENT)" : "");
	}

	/* 5. A checkpoint kept as an instant becomes the cursor's wall time. */
	char *since = NULL;
	if (o.since_instant) {
		int widened;
		since = clock_since(my, o.cursor_tz, clock_epoch("--since-instant",
				    o.since_instant), clock.epoch, &widened);
		o.w.since = since;
		if (widened)
			gx_info("the window crosses a backward change of the cursor's "
				"wall clock (DST): reading from %s", since);
	}

	/* 6. Rows that arrived behind the last checkpoint since the last run
	 *    are read too (counted and said); the band behind the next one is
	 *    counted for the next run. A walk's later runs pass it on. */
	struct probe_result pr = { 0, "", GX_BUF_INIT };
	struct after prev;
	if (o.probe && !o.after)
		values_parse(&prev, "--probe", o.probe);
	if (q.cursor && (o.lookback >= 0 || o.probe) && o.probe_hours && !o.after &&
	    !o.w.until && !o.w.shard) {
		/* Without --lookback the next checkpoint is unknown: check only. */
		long long end = m.origin - o.lookback;
		char *until = o.lookback >= 0 ? clock_wall(my, o.cursor_tz, end) : NULL;
		char *from = o.lookback >= 0 ? clock_wall(my, o.cursor_tz,
				end - 3600LL * o.probe_hours) : NULL;
		probe_run(my, &q, o.probe ? &prev : NULL, until, from, &pr);
		m.probe = until ? pr.json.s : NULL;
		m.late_rows = pr.late_rows;
		if (pr.late_rows)
			gx_warn("%llu rows arrived behind the last checkpoint (cursor %s "
				"or later) since the last run: their writers stamp from a "
				"clock or zone behind the source's (--cursor-tz), or commit "
				"later than --lookback; reading them now", pr.late_rows,
				pr.widen_to);
		if (pr.late_rows && o.w.since && strcmp(pr.widen_to, o.w.since) < 0) {
			free(since);
			o.w.since = since = gx_strdup(pr.widen_to);
		}
		free(until);
		free(from);
	}
	if (o.probe && !o.after)
		after_free(&prev);

	/* 7. --shard: its bounds, from one ordered pass over the window's
	 *    keys unless they were given; or the hash, for other keys. */
	if (o.w.shard)
		shard_plan(&shard, &q, &o.w, my);

	/* 8. The window's SQL; 9. the rows, with progress lines on stderr;
	 *    10. cursors ahead of the clock, said; 11. the end marker. */
	query_sql(&sql, &q, &o.w, my);
	debug_sql(sql.s);
	run.progress = o.progress;
	run.t0 = t0;
	run.next = t0 + o.progress;
	rows_stream(my, sql.s, q.nkeys + (q.cursor != NULL), q.cursor != NULL,
		    &o.w, &run, NULL);
	if (o.keys) {
		keys_stream(my, &q, &o.w, o.keys, &run);
		if (run.retried || run.gone)
			gx_info("--keys: %llu rows read again by key, %llu keys gone from "
				"the source", run.retried, run.gone);
	}
	if (run.invalid_utf8)
		gx_warn("%llu invalid UTF-8 sequences replaced", run.invalid_utf8);
	if (run.unmappable)
		gx_warn("%llu characters with no Unicode mapping replaced by U+FFFD "
			"(first in %s)", run.unmappable, run.unmappable_at.s);
	if (run.max_cursor.len) {
		/* A minute of grace for writers' clocks a little ahead. */
		char *ahead = clock_wall(my, o.cursor_tz, clock.epoch + 60 +
					 (long long)(gx_clock() - t0));
		if (strcmp(run.max_cursor.s, ahead) > 0) {
			m.future_cursor = probe_future(my, &q, ahead);
			gx_warn("%llu rows have a cursor ahead of the source clock (up to "
				"%s; now %s): their writers' clock runs fast or another "
				"zone's; they are read in every delta until the clock "
				"passes them", m.future_cursor, run.max_cursor.s, ahead);
		}
		free(ahead);
	}
	print_end(entity, &clock, &o.w, &run, &m);
	gx_flush();

	double secs = gx_clock() - t0;
	gx_info("%llu records in %.2f s (%.0f rows/s)", run.records, secs,
		secs > 0 ? (double)run.records / secs : 0.0);

	mysql_close(my);
	mysql_library_end();
	db_clock_free(&clock);
	buf_free(&sql);
	buf_free(&run.last);
	buf_free(&run.unmappable_at);
	buf_free(&run.max_cursor);
	buf_free(&m.blind);
	buf_free(&pr.json);
	free(since);
	if (o.after)
		after_free(&after);
	if (o.shard)
		shard_free(&shard);
	query_free(&q);
	free(path);
	free(entity);
	return 0;
}
