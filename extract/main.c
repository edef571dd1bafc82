/*
 * gx-extract - stream a window of a Genius (MySQL/MariaDB) query as NDJSON
 *
 * SYNOPSIS
 *	gx-extract --query FILE [--since DT] [--until DT] [--after JSON]
 *		   [--limit N] [--shard K/N [--shard-bounds JSON]]
 *		   [--timeout S] [--read-timeout S] [--progress[=S] | --no-progress]
 *		   [--defaults-file FILE] [--expect-time-zone Z] [--debug]
 *	gx-extract --entity NAME ...
 *	gx-extract --now
 *	gx-extract --help | --version
 *
 * DESCRIPTION
 *	Runs the query file's SELECT on the source, restricted to a window of
 *	its cursor and ordered by (cursor, key), and writes one JSON object
 *	per row to stdout, keyed by column name, then the end marker
 *	{"@gx":"end","records":N,...} - only after the whole window was read.
 *	Values keep the server's text: numbers unquoted with its digits,
 *	dates and times as strings untouched (zero dates too), BIT as a
 *	number, binary strings in base64, other strings as JSON strings with
 *	invalid UTF-8 replaced by U+FFFD (counted, and warned about).
 *
 *	The query file holds directives in comments, then one SELECT without
 *	WHERE, ORDER BY or LIMIT:
 *		-- @cursor a.updated_at		(or: none)
 *		-- @key a.id			(comma separated)
 *		-- @where a.is_test = 0		(optional, ANDed)
 *		SELECT a.id, ... FROM appointment a ...
 *	gx-extract puts the cursor and keys first in the select list (they
 *	are not emitted), adds the window as WHERE, orders by them, and adds
 *	LIMIT. So the select list cannot start with a bare * (write t.*),
 *	and column names must be distinct: they are the records' keys.
 *
 * OPTIONS
 *	--query FILE	the query file.
 *	--entity NAME	the query file $GX_QUERIES/NAME.sql; GX_QUERIES
 *			defaults to ../extract/queries beside the binary.
 *	--since DT	rows whose cursor is >= DT, plus every row whose
 *			cursor is NULL or a zero date: those have no place in
 *			time, so they come in every delta rather than never
 *			(counted as "null_cursor" in the end marker).
 *	--until DT	rows whose cursor is < DT (NULL cursors excluded).
 *			DT is YYYY-MM-DD or YYYY-MM-DD HH:MM:SS[.ffffff], in
 *			the source's own DATETIME terms (no time zone shift).
 *	--after JSON	rows strictly after this (cursor, key...) in the
 *			stream's order, NULL cursors first: the end marker's
 *			"last" of an earlier run, e.g. '["2024-06-15
 *			12:34:56",42]'; just [key...] when @cursor is none.
 *	--limit N	at most N records; "more":true in the end marker
 *			when rows were left (resume with --after "last").
 *	--shard K/N	shard K of N (1 <= K <= N <= 4096): N processes given
 *			the same window and 1/N .. N/N read each of its rows
 *			exactly once, each in (cursor, key) order, each
 *			with its own --after and --limit. With an integer
 *			first key, shard K reads a half-open range of it
 *			[B(K-1), B(K)) (an index range scan; shard 1 open
 *			below, N above); the bounds B are the keys at ranks
 *			count/N, 2 count/N, ... of the window (@where,
 *			--since, --until), from one ordered pass over the
 *			keys alone: the shards hold as many rows each. Any
 *			other first key is split by hash, MOD(CRC32(key),
 *			N) = K-1, and every shard reads the whole window.
 *	--shard-bounds JSON  the bounds to use, the end marker's
 *			"shard_bounds" (e.g. [2500,5000,7500]), instead of
 *			the pass over the keys: each process makes its own,
 *			so on a table whose keys change while the shards
 *			start, or to resume a shard with --after, take the
 *			bounds once (a --limit 0 run) and give them to all.
 *	--timeout S	seconds to wait for the connection (default 30).
 *	--read-timeout S  seconds the server may stay silent while we wait
 *			for a reply (default 3600; 0: no limit).
 *	--progress[=S]	a line on stderr at the first record after every S
 *			seconds (default 2), in gx's log format:
 *			"gx-extract: progress: N records in T s (R rows/s)";
 *			the closing "N records in T s" line ends it. On by
 *			default when stderr is a terminal; --no-progress: off.
 *	--defaults-file FILE  a MySQL option file whose [client] group gives
 *			connection settings (also GENIUS_DB_OPTION_FILE).
 *	--expect-time-zone Z  refuse to run (status 1) unless the source's
 *			time zone is Z, the end marker's "time_zone" of the
 *			run that took the checkpoint.
 *	--now		print the source clock as one line and exit:
 *			{"@gx":"now","now":"...","time_zone":"...",
 *			"system_time_zone":"..."}
 *	--debug		log the settings (never the password) and the SQL.
 *
 * ENVIRONMENT
 *	GENIUS_DB_HOST, GENIUS_DB_PORT, GENIUS_DB_USER, GENIUS_DB_PASSWORD,
 *	GENIUS_DB_NAME, GENIUS_DB_SOCKET: override the option file's values.
 *	GX_QUERIES: where --entity finds query files. GX_DEBUG=1: --debug.
 *
 * END MARKER
 *	{"@gx":"end","records":N,"entity":E,"clock":NOW(6) read before the
 *	query,"time_zone":Z,"since":S|null,"until":U|null,"after":[..]|null,
 *	"limit":N|null,"more":bool,"last":[cursor,key...]|null,
 *	"null_cursor":M,"invalid_utf8":K,"shard":"K/N"|null,
 *	"shard_bounds":[B...]|null (null too when sharded by hash)}
 *
 * EXIT STATUS
 *	0 success (or the reader went away: EPIPE), 1 bad usage or query file,
 *	2 cannot connect or the server failed (a timeout too), 5 internal
 *	error. SIGTERM, SIGINT or SIGHUP stop us at once with one line on
 *	stderr, then the signal's own status (128 + its number in a shell:
 *	143, 130, 129), so that shells and schedulers see a killed job.
 *	Only status 0 writes the end marker: whatever else was written to
 *	stdout is a truncated stream (its last line may be cut).
 */
#include "extract.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	const char *query, *entity, *after, *defaults_file, *expect_tz;
	const char *shard, *shard_bounds;
	struct window w;
	unsigned timeout, read_timeout;
	unsigned progress;	/* seconds between progress lines; 0: none */
	int now;
};

static noreturn void usage(void)
{
	printf(
"usage: gx-extract --query FILE | --entity NAME [--since DT] [--until DT]\n"
"                  [--after JSON] [--limit N] [--shard K/N [--shard-bounds JSON]]\n"
"                  [--timeout S] [--read-timeout S] [--progress[=S] | --no-progress]\n"
"                  [--defaults-file FILE] [--expect-time-zone Z] [--debug]\n"
"       gx-extract --now | --help | --version\n"
"Streams the query's rows in the window as NDJSON, ordered by (cursor, key),\n"
"then the end marker {\"@gx\":\"end\",\"records\":N,...,\"more\":B,\"last\":[...]}.\n"
"\n"
"  --query FILE        query file: -- @cursor EXPR|none, -- @key EXPR[, ...],\n"
"                      [-- @where COND], then one SELECT (no WHERE/ORDER/LIMIT)\n"
"  --entity NAME       the query $GX_QUERIES/NAME.sql\n"
"                      (default GX_QUERIES: ../extract/queries beside the binary)\n"
"  --since DT          cursor >= DT, plus rows whose cursor is NULL or a zero date\n"
"  --until DT          cursor < DT    (DT: YYYY-MM-DD[ HH:MM:SS[.ffffff]])\n"
"  --after JSON        resume strictly after [cursor, key...], the end marker's \"last\"\n"
"  --limit N           at most N records, in (cursor, key) order; \"more\":true\n"
"                      when rows were left, \"last\" is where to resume (--after)\n"
"  --ordered           (cursor, key) order without --limit too (the server sorts\n"
"                      the whole window: slower on big tables)\n"
"  --shard K/N         shard K of N: N processes read each row of the window once;\n"
"                      by ranges of an integer first key (as many rows each),\n"
"                      else by MOD(CRC32(key), N) = K-1\n"
"  --shard-bounds JSON use these range bounds, the end marker's \"shard_bounds\"\n"
"                      (give all shards the same on a changing table, or to resume)\n"
"  --timeout S         connect timeout in seconds (default 30)\n"
"  --read-timeout S    longest silence from the server (default 3600; 0: none)\n"
"  --progress[=S]      progress on stderr every S s (default 2; on when stderr\n"
"                      is a terminal); --no-progress: off\n"
"  --defaults-file F   MySQL option file, [client] group (or GENIUS_DB_OPTION_FILE)\n"
"  --expect-time-zone Z  refuse to run unless the source's time zone is Z (the\n"
"                      zone the checkpoint was taken in: the end marker's time_zone)\n"
"  --now               print the source clock as one JSON line and exit\n"
"  --debug             log settings and SQL to stderr (never the password)\n"
"  -h, --help          this text\n"
"      --version       print the version\n"
"\n"
"Connection: GENIUS_DB_HOST, GENIUS_DB_PORT, GENIUS_DB_USER, GENIUS_DB_PASSWORD,\n"
"GENIUS_DB_NAME, GENIUS_DB_SOCKET (override the option file's values).\n"
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
	gx_die(GX_EXIT_DATA, fmt, arg);
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
	       O_TIMEOUT, O_READ_TIMEOUT, O_DEFAULTS, O_NOW, O_DEBUG, O_VERSION,
	       O_EXPECT_TZ, O_SHARD, O_SHARD_BOUNDS, O_PROGRESS, O_NO_PROGRESS,
	       O_ORDERED };
	static const struct option longopts[] = {
		{ "query", required_argument, NULL, O_QUERY },
		{ "entity", required_argument, NULL, O_ENTITY },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "after", required_argument, NULL, O_AFTER },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "read-timeout", required_argument, NULL, O_READ_TIMEOUT },
		{ "defaults-file", required_argument, NULL, O_DEFAULTS },
		{ "expect-time-zone", required_argument, NULL, O_EXPECT_TZ },
		{ "shard", required_argument, NULL, O_SHARD },
		{ "shard-bounds", required_argument, NULL, O_SHARD_BOUNDS },
		{ "progress", optional_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NO_PROGRESS },
		{ "ordered", no_argument, NULL, O_ORDERED },
		{ "now", no_argument, NULL, O_NOW },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof *o);
	o->timeout = 30;
	o->read_timeout = 3600;
	o->progress = isatty(STDERR_FILENO) ? PROGRESS_EVERY : 0;
	o->defaults_file = getenv("GENIUS_DB_OPTION_FILE");
	if (o->defaults_file && !*o->defaults_file)
		o->defaults_file = NULL;
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
		case O_DEFAULTS: o->defaults_file = optarg; break;
		case O_EXPECT_TZ: o->expect_tz = optarg; break;
		case O_SHARD: o->shard = optarg; break;
		case O_SHARD_BOUNDS: o->shard_bounds = optarg; break;
		case O_PROGRESS: o->progress = progress_every(optarg); break;
		case O_NO_PROGRESS: o->progress = 0; break;
		case O_ORDERED: o->w.ordered = 1; break;
		case O_NOW: o->now = 1; break;
		case O_DEBUG: gx_debug_on = 1; break;
		case 'h': usage();
		case O_VERSION: gx_version();
		case ':':
			bad_usage("option '%s' needs a value (see --help)",
				  argv[optind - 1]);
		default:
			bad_usage("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s' (see --help)", argv[optind]);
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
	if (o->defaults_file && access(o->defaults_file, R_OK))
		bad_usage("cannot read option file '%s'", o->defaults_file);
}

/* $GX_QUERIES/NAME.sql, GX_QUERIES defaulting to ../extract/queries beside
 * the binary (symbolic links resolved), so an installed tree finds its own;
 * when that does not exist, ../share/gx/extract/queries (make install). */
static char *entity_query(const char *name)
{
	const char *dir = getenv("GX_QUERIES");
	gx_buf path = GX_BUF_INIT;
	char exe[4096];
	ssize_t n;

	if (!*name || name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(name))
		gx_die(GX_EXIT_DATA, "--entity: not an entity name: '%s'", name);
	if (dir && *dir) {
		buf_addf(&path, "%s/%s.sql", dir, name);
		return path.s;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || (size_t)n >= sizeof exe - 1)
		gx_die(GX_EXIT_DATA, "cannot find the binary's directory: set GX_QUERIES");
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	buf_addf(&path, "%s/../extract/queries", exe);
	if (access(path.s, F_OK)) {
		buf_reset(&path);
		buf_addf(&path, "%s/../share/gx/extract/queries", exe);
		if (access(path.s, F_OK)) {
			buf_reset(&path);
			buf_addf(&path, "%s/../extract/queries", exe);
		}
	}
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

static void print_end(const char *entity, const struct db_clock *c,
		      const struct window *w, const struct run *r)
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
		 "\"invalid_utf8\":%llu", r->more ? "true" : "false",
		 r->records && w->ordered ? r->last.s : "null", r->null_cursor,
		 r->invalid_utf8);
	if (w->shard)
		buf_addf(&b, ",\"shard\":\"%u/%u\",\"shard_bounds\":%s}\n",
			 w->shard->k, w->shard->n,
			 w->shard->hash ? "null" : w->shard->json.s);
	else
		buf_adds(&b, ",\"shard\":null,\"shard_bounds\":null}\n");
	gx_out(b.s, b.len);
	buf_free(&b);
}

/* SIGTERM, SIGINT, SIGHUP: one line, then death by the signal itself, so
 * that a shell or scheduler sees a killed job; never an end marker. The
 * lines are made beforehand, as gx_die would write them (without a time in
 * JSON): a handler may only write(2). */
static const int stop_sig[] = { SIGTERM, SIGINT, SIGHUP };
static char stop_msg[3][160];
static size_t stop_len[3];

static void stop(int sig)
{
	for (int i = 0; i < 3; i++)
		if (stop_sig[i] == sig && write(STDERR_FILENO, stop_msg[i], stop_len[i]))
			break;
	raise(sig);	/* SA_RESETHAND: the default action, now */
}

static void catch_stop_signals(void)
{
	static const char *const name[] = { "SIGTERM", "SIGINT", "SIGHUP" };
	const char *fmt = "%s: stopped by %s; no end marker written\n";
	const char *log_format = getenv("GX_LOG_FORMAT");
	struct sigaction sa, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = stop;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (log_format && !strcmp(log_format, "json"))
		fmt = "{\"program\":\"%s\",\"level\":\"error\",\"message\":"
		      "\"stopped by %s; no end marker written\"}\n";
	for (int i = 0; i < 3; i++) {
		int n = snprintf(stop_msg[i], sizeof stop_msg[i], fmt, gx_prog, name[i]);

		stop_len[i] = n > 0 && (size_t)n < sizeof stop_msg[i] ?
			      (size_t)n : strlen(stop_msg[i]);
		/* A signal ignored on entry (nohup) stays ignored. */
		if (!sigaction(stop_sig[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(stop_sig[i], &sa, NULL);
	}
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
	catch_stop_signals();
	parse_options(&o, argc, argv);
	t0 = gx_clock();

	/* --now: the source clock, that is all. */
	if (o.now) {
		my = db_connect(o.defaults_file, o.timeout, o.read_timeout);
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

	/* 2. Connect; let a slow reader downstream hold us as long as it
	 *    needs without the server dropping us mid-stream. The session
	 *    time zone stays the server's: cursors compare as stored. */
	my = db_connect(o.defaults_file, o.timeout, o.read_timeout);
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

	/* 4. --shard: its bounds, from one ordered pass over the window's
	 *    keys unless they were given; or the hash, for other keys. */
	if (o.w.shard)
		shard_plan(&shard, &q, &o.w, my);

	/* 5. The window's SQL; 6. the rows, with progress lines on stderr;
	 *    7. the end marker. */
	query_sql(&sql, &q, &o.w, my);
	debug_sql(sql.s);
	run.progress = o.progress;
	run.t0 = t0;
	run.next = t0 + o.progress;
	rows_stream(my, sql.s, q.nkeys + (q.cursor != NULL), q.cursor != NULL,
		    &o.w, &run);
	if (run.invalid_utf8)
		gx_warn("%llu invalid UTF-8 sequences replaced", run.invalid_utf8);
	print_end(entity, &clock, &o.w, &run);
	gx_flush();

	double secs = gx_clock() - t0;
	gx_info("%llu records in %.2f s (%.0f rows/s)", run.records, secs,
		secs > 0 ? (double)run.records / secs : 0.0);

	mysql_close(my);
	mysql_library_end();
	db_clock_free(&clock);
	buf_free(&sql);
	buf_free(&run.last);
	if (o.after)
		after_free(&after);
	if (o.shard)
		shard_free(&shard);
	query_free(&q);
	free(path);
	free(entity);
	return 0;
}
