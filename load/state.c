/* gx-state: sync checkpoints and run history in orchestration.sync_history.
 *
 *   gx-state init [--ddl DIR]
 *   gx-state lock ENTITY -- COMMAND [ARG...]
 *   gx-state begin ENTITY [--endpoint TEXT] [--conf KEY=VALUE]...
 *   gx-state finish ID --status STATUS [--error TEXT]
 *   gx-state checkpoint ENTITY [--lookback SECONDS] [--walk KEY] [--args]
 *   gx-state last ENTITY [--json]
 *   gx-state list [ENTITY] [--limit N] [--json]
 *   gx-state rejects [ENTITY] [--keys | --json] [--all]
 *   gx-state status [--source-now TS]
 *   gx-state metrics [--file PATH]
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg.h"
#include "stream.h"

#define CRM "genius"
/* A run that moves the checkpoint: a success, or a partial run whose every
 * rejected row was kept by key in orchestration.sync_rejects (they are
 * retried by key, so the window need not read them again). */
#define MOVED "(status = 'success' OR (status = 'partial' AND " \
	"performance_metrics->>'rejects_kept' = 'true'))"
/* A dry run: the scripts say so when it begins, gx-load when it ends. */
#define DRY "(COALESCE(configuration->>'dry_run', performance_metrics->>'dry_run', " \
	"'false') = 'true')"
/* The advisory lock space of gx: pg_advisory_lock(GX_LOCK_CLASS, hashtext(entity)). */
#define LOCK_SQL(fn) "SELECT " fn "(26488, hashtext('" CRM ":' || $1))"

static const char *conninfo;

static noreturn void usage(void)
{
	fprintf(stdout,
"usage: gx-state [--db CONNINFO] [--debug] COMMAND ...\n"
"  init [--ddl DIR]                 create orchestration.sync_history and the\n"
"                                   warehouse tables\n"
"  lock ENTITY -- COMMAND [ARG...]  run COMMAND holding ENTITY's run lock\n"
"                                   (exit 4 if held)\n"
"  begin ENTITY [--endpoint TEXT] [--conf KEY=VALUE]...\n"
"                                   record a running run; prints its id\n"
"  finish ID --status success|partial|failed [--error TEXT]\n"
"         [--rejects-file F]...\n"
"                                   end a run that is still running\n"
"  checkpoint ENTITY [--lookback SECONDS] [--walk KEY] [--args]\n"
"                                   where the next delta starts (JSON, or\n"
"                                   gx-extract options)\n"
"  last ENTITY [--json]             the latest run of ENTITY\n"
"  list [ENTITY] [--limit N] [--json]\n"
"                                   recent runs, newest first\n"
"  rejects [ENTITY] [--keys | --json] [--all]\n"
"                                   open rejected rows (--keys: one JSON key a\n"
"                                   line)\n"
"  status [--source-now TS]         per entity: last run, last success,\n"
"                                   checkpoint, lag\n"
"  metrics [--file PATH]            Prometheus text (node_exporter's textfile\n"
"                                   collector)\n"
"Connection: PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass.\n"
"Example: gx-state list appointments --limit 5\n");
	gx_flush();
	exit(0);
}

/* A command's arguments are wrong: its synopsis, in one line. */
static noreturn void bad_args(const char *synopsis)
{
	gx_usage_error("usage: gx-state %s", synopsis);
}

static PGconn *connect_db(void)
{
	return gx_pg_connect(conninfo);
}

/* ---- init ------------------------------------------------------------ */

/* The columns of the Django SyncHistory model: name and PostgreSQL type. */
static const char *const history_shape[][2] = {
	{ "id", "bigint" }, { "crm_source", "character varying(50)" },
	{ "sync_type", "character varying(100)" }, { "endpoint", "character varying(200)" },
	{ "start_time", "timestamp with time zone" }, { "end_time", "timestamp with time zone" },
	{ "status", "character varying(20)" }, { "records_processed", "integer" },
	{ "records_created", "integer" }, { "records_updated", "integer" },
	{ "records_failed", "integer" }, { "error_message", "text" },
	{ "configuration", "jsonb" }, { "performance_metrics", "jsonb" },
	{ "created_at", "timestamp with time zone" },
};

static void run_file(PGconn *c, const char *path)
{
	gx_buf sql = GX_BUF_INIT;

	gx_read_file(&sql, path, 0);
	gx_debug("applying %s", path);
	PGresult *r = PQexec(c, sql.s);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		gx_die(GX_EXIT_SERVER, "%s: %s", path, gx_pg_error(c));
	PQclear(r);
	buf_free(&sql);
}

static void check_history_shape(PGconn *c)
{
	PGresult *r = gx_pg_exec(c,
		"SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
		"WHERE a.attrelid = 'orchestration.sync_history'::regclass AND a.attnum > 0 "
		"AND NOT a.attisdropped ORDER BY a.attnum");
	size_t want = sizeof history_shape / sizeof history_shape[0];
	int bad = 0;

	for (size_t i = 0; i < want; i++) {
		int found = 0;
		for (int row = 0; row < PQntuples(r); row++)
			if (!strcmp(PQgetvalue(r, row, 0), history_shape[i][0])) {
				found = 1;
				if (strcmp(PQgetvalue(r, row, 1), history_shape[i][1])) {
					gx_warn("orchestration.sync_history.%s is %s, expected %s",
						history_shape[i][0], PQgetvalue(r, row, 1),
						history_shape[i][1]);
					bad = 1;
				}
			}
		if (!found) {
			gx_warn("orchestration.sync_history has no column %s", history_shape[i][0]);
			bad = 1;
		}
	}
	PQclear(r);
	if (bad)
		gx_die(GX_EXIT_DATA, "orchestration.sync_history exists with another "
		       "shape than the SyncHistory model: not touching it");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void default_dir(gx_buf *b, const char *sub)
{
	const char *home = getenv("GX_HOME");

	if (home && *home) {
		buf_addf(b, "%s/%s", home, sub);
		return;
	}
	if (gx_share_dir(b, sub) < 0)
		gx_die(GX_EXIT_BUG, "cannot find my own path: use --ddl or GX_HOME");
}

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = { { "ddl", required_argument, 0, 'd' }, { 0 } };
	gx_buf dir = GX_BUF_INIT, path = GX_BUF_INIT;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'd')
			gx_bad_option(ch, argv);
		buf_adds(&dir, optarg);
	}
	if (!dir.len)
		default_dir(&dir, "load/ddl");
	DIR *d = opendir(dir.s);
	if (!d)
		gx_die(GX_EXIT_DATA, "%s: %s", dir.s, strerror(errno));
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".sql") &&
		    strcmp(e->d_name, "sync_history.sql")) {
			GX_GROW(names, nn + 1, cap);
			names[nn++] = gx_strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, nn, sizeof *names, cmp_str);

	PGconn *c = connect_db();
	gx_pg_run(c, "BEGIN");
	/* An existing table is checked before anything touches it. */
	PGresult *r = gx_pg_exec(c, "SELECT to_regclass('orchestration.sync_history') IS NOT NULL");
	int exists = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	if (exists)
		check_history_shape(c);
	buf_addf(&path, "%s/sync_history.sql", dir.s);
	run_file(c, path.s);
	check_history_shape(c);
	for (size_t i = 0; i < nn; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir.s, names[i]);
		run_file(c, path.s);
		free(names[i]);
	}
	gx_pg_run(c, "COMMIT");
	gx_info("schema ready (%zu warehouse tables from %s)", nn, dir.s);
	free(names);
	buf_free(&dir);
	buf_free(&path);
	PQfinish(c);
	return 0;
}

/* ---- lock ------------------------------------------------------------ */

static volatile sig_atomic_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Who holds ENTITY's lock, from its running row in sync_history (the
 * scripts record their host and pid there): ": run 812 on db1, pid 4242,
 * running for 3 min 12 s". Nothing when there is none (yet), or when the
 * history cannot be read: the lock's answer stands alone then. */
static void lock_holder(gx_buf *b, PGconn *c, const char *entity)
{
	PGresult *r = PQexecParams(c,
		"SELECT id, COALESCE(configuration->>'host', 'an unknown host'),"
		" COALESCE(configuration->>'pid', '?'),"
		" greatest(0, round(extract(epoch FROM clock_timestamp() - start_time)))::bigint"
		" FROM orchestration.sync_history WHERE crm_source = '" CRM "'"
		" AND sync_type = $1 AND status = 'running' ORDER BY id DESC LIMIT 1",
		1, NULL, &entity, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		long long s = atoll(PQgetvalue(r, 0, 3));
		buf_addf(b, ": run %s on %s, pid %s, running for ", PQgetvalue(r, 0, 0),
			 PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
		if (s >= 3600)
			buf_addf(b, "%lld h %lld min", s / 3600, s / 60 % 60);
		else if (s >= 60)
			buf_addf(b, "%lld min %lld s", s / 60, s % 60);
		else
			buf_addf(b, "%lld s", s);
	}
	PQclear(r);
}

static int cmd_lock(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--"))
		bad_args("lock ENTITY -- COMMAND [ARG...]");
	const char *entity = argv[1];
	PGconn *c = connect_db();
	PGresult *r = gx_pg_execp(c, LOCK_SQL("pg_try_advisory_lock"), 1, &entity);
	int got = !strcmp(PQgetvalue(r, 0, 0), "t");

	PQclear(r);
	if (!got) {
		gx_buf who = GX_BUF_INIT;
		lock_holder(&who, c, entity);
		gx_die(GX_EXIT_LOCKED, "%s: another run holds the lock%s (see gx-state list %s)",
		       entity, who.s, entity);
	}
	gx_debug("%s: lock taken", entity);
	if (setenv("GX_LOCK_HELD", entity, 1))
		gx_die(GX_EXIT_BUG, "setenv: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		gx_die(GX_EXIT_BUG, "fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		fprintf(stderr, "gx-state: %s: %s\n", argv[3], strerror(errno));
		_Exit(127);
	}
	child = pid;
	struct sigaction sa = { .sa_handler = forward };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			gx_die(GX_EXIT_BUG, "waitpid: %s", strerror(errno));
	/* Closing the session releases the lock, whatever happened. */
	PQfinish(c);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* ---- begin / finish -------------------------------------------------- */

/* A VALUE that is JSON (number, true/false/null, array, object, or a quoted
 * string) is stored as that JSON; anything else as a JSON string. */
static void add_conf_value(gx_buf *b, const char *v)
{
	size_t n = strlen(v);

	if ((n && (v[0] == '[' || v[0] == '{' || v[0] == '"')) ||
	    !strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "null") ||
	    json_num_valid(v, n))
		buf_adds(b, v);	/* PostgreSQL's jsonb cast validates it */
	else
		json_add_str(b, v, n);
}

static int cmd_begin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, 0, 'e' },
		{ "conf", required_argument, 0, 'c' }, { 0 } };
	const char *endpoint = NULL;
	gx_buf conf = GX_BUF_INIT;
	int ch;

	buf_addc(&conf, '{');
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'e') {
			endpoint = optarg;
		} else if (ch == 'c') {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				gx_die(GX_EXIT_DATA, "--conf: expected KEY=VALUE, got '%s'", optarg);
			if (conf.len > 1)
				buf_addc(&conf, ',');
			json_add_str(&conf, optarg, (size_t)(eq - optarg));
			buf_addc(&conf, ':');
			add_conf_value(&conf, eq + 1);
		} else {
			gx_bad_option(ch, argv);
		}
	}
	buf_addc(&conf, '}');
	if (optind != argc - 1)
		bad_args("begin ENTITY [--endpoint TEXT] [--conf KEY=VALUE]...");
	const char *entity = argv[optind];
	const char *held = getenv("GX_LOCK_HELD");
	int locked = held && !strcmp(held, entity);
	PGconn *c = connect_db();

	gx_pg_run(c, "BEGIN");
	if (!locked) {
		/* Not under `gx-state lock`: at least never race a locked run. */
		PGresult *r = gx_pg_execp(c, LOCK_SQL("pg_try_advisory_xact_lock"), 1, &entity);
		int got = !strcmp(PQgetvalue(r, 0, 0), "t");
		PQclear(r);
		if (!got) {
			gx_buf who = GX_BUF_INIT;
			lock_holder(&who, c, entity);
			gx_die(GX_EXIT_LOCKED, "%s: another run holds the lock%s", entity, who.s);
		}
	}
	const char *p1[] = { entity };
	PGresult *r = gx_pg_execp(c,
		"SELECT id FROM orchestration.sync_history WHERE crm_source = '" CRM "' "
		"AND sync_type = $1 AND status = 'running' ORDER BY id FOR UPDATE", 1, p1);
	if (PQntuples(r) && !locked)
		gx_die(GX_EXIT_LOCKED, "%s: run %s is still marked running; if its process "
		       "is gone, end it with: gx-state finish %s --status failed",
		       entity, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 0));
	if (PQntuples(r)) {
		/* We hold the entity's lock, so no live process owns these rows. */
		PQclear(gx_pg_execp(c,
			"UPDATE orchestration.sync_history SET status = 'failed', "
			"end_time = clock_timestamp(), error_message = 'abandoned: the run "
			"ended without recording its outcome (process killed or host lost)' "
			"WHERE crm_source = '" CRM "' AND sync_type = $1 AND status = 'running'",
			1, p1));
		gx_warn("%s: marked %d abandoned run(s) as failed", entity, PQntuples(r));
	}
	PQclear(r);
	const char *p2[] = { entity, endpoint, conf.s };
	r = gx_pg_execp(c,
		"INSERT INTO orchestration.sync_history (crm_source, sync_type, endpoint, "
		"start_time, status, configuration, created_at) VALUES ('" CRM "', $1, $2, "
		"clock_timestamp(), 'running', $3::jsonb, now()) RETURNING id", 3, p2);
	printf("%s\n", PQgetvalue(r, 0, 0));
	PQclear(r);
	gx_pg_run(c, "COMMIT");
	PQfinish(c);
	buf_free(&conf);
	return 0;
}

static int cmd_finish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, 0, 's' },
		{ "error", required_argument, 0, 'e' },
		{ "rejects-file", required_argument, 0, 'r' }, { 0 } };
	const char *status = NULL, *error = NULL;
	gx_buf files = GX_BUF_INIT;	/* a JSON array of the reject files */
	int ch;

	buf_adds(&files, "[");
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 's') {
			status = optarg;
		} else if (ch == 'e') {
			error = optarg;
		} else if (ch == 'r') {
			if (files.len > 1)
				buf_addc(&files, ',');
			json_add_str(&files, optarg, strlen(optarg));
		} else {
			gx_bad_option(ch, argv);
		}
	}
	buf_adds(&files, "]");
	if (optind != argc - 1 || !status)
		bad_args("finish ID --status success|partial|failed [--error TEXT] "
			 "[--rejects-file F]...");
	if (strcmp(status, "success") && strcmp(status, "partial") && strcmp(status, "failed"))
		gx_die(GX_EXIT_DATA, "--status: expected success, partial or failed, got '%s'", status);
	gx_parse_count("run id", argv[optind]);
	const char *p[] = { argv[optind], status, error, files.len > 2 ? files.s : NULL };
	PGconn *c = connect_db();
	PGresult *r = gx_pg_execp(c,
		"UPDATE orchestration.sync_history SET status = $2, end_time = clock_timestamp(), "
		"error_message = COALESCE($3, error_message), performance_metrics = "
		"performance_metrics || jsonb_build_object('duration_seconds', "
		"round(extract(epoch FROM clock_timestamp() - start_time)::numeric, 3)) "
		"|| COALESCE(jsonb_build_object('rejects_files', $4::jsonb), '{}') "
		"WHERE id = $1::bigint AND status = 'running' RETURNING id", 4, p);
	buf_free(&files);
	int n = PQntuples(r);
	PQclear(r);
	if (!n) {
		r = gx_pg_execp(c, "SELECT status FROM orchestration.sync_history WHERE id = $1::bigint", 1, p);
		if (!PQntuples(r))
			gx_die(GX_EXIT_DATA, "run %s does not exist", argv[optind]);
		gx_warn("run %s is not running (it ended as %s): left as it is",
			argv[optind], PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	PQfinish(c);
	return 0;
}

/* ---- checkpoint ------------------------------------------------------ */

/* From the newest successful run that may move the checkpoint (not a dry
 * run, not a manual backfill), derive where the next delta starts:
 *  - a run cut short by --max-records ("more": true) resumes right after the
 *    (cursor, key) of the last row it loaded, in the same walk (same since),
 *    and the walk keeps the instant it began at ("origin");
 *  - a complete run starts the next one at its origin (the source clock
 *    before extracting, or earlier: an open transaction, a replica's lag, the
 *    start of the walk it completed) minus the lookback, as an instant:
 *    gx-extract turns it into the cursor's wall time, DST and all. Streams
 *    from before instants were recorded fall back to the clock's wall time.
 * With --walk KEY, the newest successful run of that walk (a bounded
 * backfill or rewrite, keyed by its window by the caller) says only where
 * it stopped, if it did. */
static const char checkpoint_sql[] =
	"WITH last AS ("
	" SELECT id, performance_metrics->'stream' AS s FROM orchestration.sync_history"
	" WHERE crm_source = '" CRM "' AND sync_type = $1 AND " MOVED
	" AND performance_metrics ? 'stream'"
	" AND COALESCE(performance_metrics->>'dry_run', 'false') = 'false'"
	" AND CASE WHEN $3::text IS NULL"
	"  THEN COALESCE(configuration->>'moves_checkpoint', 'true') = 'true'"
	"  ELSE configuration->>'walk' = $3 END"
	" ORDER BY start_time DESC, id DESC LIMIT 1)"
	" SELECT id, COALESCE((s->>'more')::boolean, false),"
	"  CASE WHEN (s->>'more')::boolean THEN s->>'since'"
	"   WHEN s->'origin' IS NULL OR jsonb_typeof(s->'origin') <> 'number' THEN"
	"   to_char((s->>'clock')::timestamp - make_interval(secs => $2::double precision),"
	"          'YYYY-MM-DD HH24:MI:SS.US') END,"
	"  CASE WHEN (s->>'more')::boolean THEN (s->'last')::text END,"
	"  s->>'clock', s->>'time_zone',"
	"  CASE WHEN NOT (s->>'more')::boolean AND jsonb_typeof(s->'origin') = 'number'"
	"   THEN ((s->>'origin')::numeric - $2::numeric)::bigint::text END,"
	"  CASE WHEN jsonb_typeof(s->'origin') = 'number' THEN s->>'origin' END,"
	"  CASE WHEN jsonb_typeof(s->'probe') = 'array' THEN (s->'probe')::text END,"
	"  s->>'cursor_tz'"
	" FROM last";

static int cmd_checkpoint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lookback", required_argument, 0, 'l' },
		{ "walk", required_argument, 0, 'w' },
		{ "args", no_argument, 0, 'a' }, { 0 } };
	const char *lookback = "300", *walk = NULL;
	int ch, as_args = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'l')
			gx_parse_count("--lookback", lookback = optarg);
		else if (ch == 'w')
			walk = optarg;
		else if (ch == 'a')
			as_args = 1;
		else
			gx_bad_option(ch, argv);
	}
	if (optind != argc - 1)
		bad_args("checkpoint ENTITY [--lookback SECONDS] [--walk KEY] [--args]");
	const char *p[] = { argv[optind], lookback, walk };
	PGconn *c = connect_db();
	PGresult *r = gx_pg_execp(c, checkpoint_sql, 3, p);
	int have = PQntuples(r) == 1;
#define COL(i) (have && !PQgetisnull(r, 0, (i)) ? PQgetvalue(r, 0, (i)) : NULL)
	int more = have && !strcmp(PQgetvalue(r, 0, 1), "t");
	const char *since = COL(2), *after = COL(3), *zone = COL(5);
	const char *since_instant = COL(6), *origin = COL(7), *probe = COL(8);
#undef COL

	if (walk && !more)
		have = 0, since = after = since_instant = origin = probe = NULL;
	if (walk)
		since = since_instant = probe = zone = NULL;	/* the caller's window */
	if (as_args) {
		/* One gx-extract option or value per line, for `mapfile -t`. */
		if (since)
			printf("--since\n%s\n", since);
		if (since_instant)
			printf("--since-instant\n%s\n", since_instant);
		if (after)
			printf("--after\n%s\n", after);
		if (more && origin)
			printf("--origin\n%s\n", origin);
		if (probe)
			printf("--probe\n%s\n", probe);
		if (zone)
			printf("--expect-time-zone\n%s\n", zone);
	} else {
		gx_buf b = GX_BUF_INIT;
		buf_adds(&b, "{\"run\":");
		buf_adds(&b, have ? PQgetvalue(r, 0, 0) : "null");
		buf_adds(&b, ",\"since\":");
		if (since)
			json_add_str(&b, since, strlen(since));
		else
			buf_adds(&b, "null");
		buf_addf(&b, ",\"since_instant\":%s,\"after\":%s,\"origin\":%s,"
			 "\"lookback_seconds\":%s}\n", since_instant ? since_instant : "null",
			 after ? after : "null", origin ? origin : "null", lookback);
		gx_out(b.s, b.len);
		buf_free(&b);
	}
	PQclear(r);
	PQfinish(c);
	return 0;
}

/* ---- last / list ----------------------------------------------------- */

static const char list_sql[] =
	"SELECT id, sync_type, status || CASE WHEN " DRY " THEN ' (dry run)' ELSE '' END,"
	" to_char(start_time AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD HH24:MI:SS') || 'Z', COALESCE(round(extract(epoch FROM end_time - "
	"start_time)::numeric, 1)::text, ''), records_processed, records_created, "
	"records_updated, COALESCE(performance_metrics->>'unchanged', ''), records_failed, "
	"COALESCE(configuration->>'mode', ''), COALESCE(replace(error_message, E'\\n', ' '), '') "
	"FROM orchestration.sync_history WHERE crm_source = '" CRM "' "
	"AND ($1::text IS NULL OR sync_type = $1) ORDER BY start_time DESC, id DESC LIMIT $2::int";

static const char list_json_sql[] =
	"SELECT row_to_json(h)::text FROM orchestration.sync_history h "
	"WHERE crm_source = '" CRM "' AND ($1::text IS NULL OR sync_type = $1) "
	"ORDER BY start_time DESC, id DESC LIMIT $2::int";

static void print_runs(const char *entity, const char *limit, int json)
{
	const char *p[] = { entity, limit };
	PGconn *c = connect_db();
	PGresult *r = gx_pg_execp(c, json ? list_json_sql : list_sql, 2, p);

	if (json) {
		for (int i = 0; i < PQntuples(r); i++)
			printf("%s\n", PQgetvalue(r, i, 0));
	} else {
		printf("%-6s %-22s %-17s %-20s %8s %9s %8s %8s %9s %8s %-8s %s\n", "id",
		       "entity", "status", "started", "seconds", "processed", "created",
		       "updated", "unchanged", "rejected", "mode", "error");
		for (int i = 0; i < PQntuples(r); i++)
			printf("%-6s %-22s %-17s %-20s %8s %9s %8s %8s %9s %8s %-8s %s\n",
			       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
			       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
			       PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8),
			       PQgetvalue(r, i, 9), PQgetvalue(r, i, 10), PQgetvalue(r, i, 11));
	}
	PQclear(r);
	PQfinish(c);
}

static int cmd_list(int argc, char **argv, int only_last)
{
	static const struct option opts[] = {
		{ "limit", required_argument, 0, 'n' },
		{ "json", no_argument, 0, 'j' }, { 0 } };
	const char *limit = only_last ? "1" : "20";
	int ch, json = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'n' && !only_last)
			gx_parse_count("--limit", limit = optarg);
		else if (ch == 'j')
			json = 1;
		else
			gx_bad_option(ch, argv);
	}
	if (argc - optind > 1 || (only_last && argc - optind != 1))
		bad_args(only_last ? "last ENTITY [--json]" : "list [ENTITY] [--limit N] [--json]");
	print_runs(optind < argc ? argv[optind] : NULL, limit, json);
	return 0;
}

/* ---- status / metrics ------------------------------------------------ */

/* Per entity: its latest run, its latest success and the checkpoint clock
 * that success left (the source's wall time). */
static const char latest_sql[] =
	"WITH r AS (SELECT DISTINCT ON (sync_type) sync_type, status, start_time, end_time,"
	"  records_processed, records_created, records_updated, records_failed,"
	"  COALESCE((performance_metrics->>'unchanged')::bigint, 0) AS unchanged,"
	"  performance_metrics->'stream' AS st, " DRY " AS dry"
	"  FROM orchestration.sync_history WHERE crm_source = '" CRM "'"
	"  AND (NOT $2::boolean OR (status <> 'running' AND NOT " DRY "))"
	"  ORDER BY sync_type, start_time DESC, id DESC),"
	" s AS (SELECT DISTINCT ON (sync_type) sync_type, end_time,"
	"  performance_metrics->'stream'->>'clock' AS clock,"
	"  performance_metrics->'stream'->>'instant' AS instant"
	"  FROM orchestration.sync_history WHERE crm_source = '" CRM "' AND " MOVED
	"  AND COALESCE(performance_metrics->>'dry_run', 'false') = 'false'"
	"  AND NOT performance_metrics ? 'verify'"	/* a verify is no sync */
	"  ORDER BY sync_type, start_time DESC, id DESC)"
	" SELECT r.sync_type, r.status,"
	"  round(extract(epoch FROM now() - r.start_time))::bigint,"
	"  round(extract(epoch FROM now() - s.end_time))::bigint,"
	"  s.clock,"
	"  round(extract(epoch FROM $1::timestamp - s.clock::timestamp))::bigint,"
	"  extract(epoch FROM r.start_time)::bigint, extract(epoch FROM s.end_time)::bigint,"
	"  COALESCE(extract(epoch FROM r.end_time - r.start_time), 0),"
	"  r.records_processed, r.records_created, r.records_updated, r.unchanged, r.records_failed,"
	"  COALESCE((r.st->>'late_rows')::bigint, 0), COALESCE((r.st->>'future_cursor')::bigint, 0),"
	"  CASE WHEN jsonb_typeof(r.st->'blind') = 'array' THEN (SELECT string_agg(b, ',')"
	"   FROM jsonb_array_elements_text(r.st->'blind') b) END,"
	"  (SELECT count(*) FROM orchestration.sync_rejects j WHERE j.crm_source = '" CRM "'"
	"   AND j.entity = r.sync_type AND j.closed_at IS NULL),"
	"  CASE WHEN r.sync_type <> 'all' THEN"	/* 'all' has no checkpoint */
	"  round((extract(epoch FROM now()) - COALESCE(s.instant::float8,"
	"   extract(epoch FROM s.end_time)))::numeric, 3) END,"
	"  r.dry,"
	"  (SELECT round(extract(epoch FROM now() - max(x.start_time))::numeric, 3)"
	"   FROM orchestration.sync_history x WHERE x.crm_source = '" CRM "'"
	"   AND x.sync_type = r.sync_type AND x.status = 'running')"
	/* The latest verify (named columns: found by name, whatever comes before). */
	"  , (SELECT (v.performance_metrics->>'drift_rows')::bigint FROM orchestration.sync_history v"
	"   WHERE v.crm_source = '" CRM "' AND v.sync_type = r.sync_type"
	"   AND v.configuration->>'mode' = 'verify' AND v.performance_metrics ? 'drift_rows'"
	"   ORDER BY v.start_time DESC, v.id DESC LIMIT 1) AS verify_drift,"
	"  (SELECT extract(epoch FROM v.end_time)::bigint FROM orchestration.sync_history v"
	"   WHERE v.crm_source = '" CRM "' AND v.sync_type = r.sync_type"
	"   AND v.configuration->>'mode' = 'verify' AND v.performance_metrics ? 'drift_rows'"
	"   ORDER BY v.start_time DESC, v.id DESC LIMIT 1) AS verify_at"
	" FROM r LEFT JOIN s USING (sync_type) ORDER BY r.sync_type";

/* What the latest run found about the source's clocks, for status. */
static void notes(gx_buf *b, PGresult *r, int i)
{
	buf_reset(b);
	if (strcmp(PQgetvalue(r, i, 14), "0"))
		buf_addf(b, "late %s; ", PQgetvalue(r, i, 14));
	if (strcmp(PQgetvalue(r, i, 15), "0"))
		buf_addf(b, "ahead %s; ", PQgetvalue(r, i, 15));
	if (!PQgetisnull(r, i, 16))
		buf_addf(b, "blind: %s; ", PQgetvalue(r, i, 16));
	if (strcmp(PQgetvalue(r, i, 17), "0"))
		buf_addf(b, "rejects %s; ", PQgetvalue(r, i, 17));
	/* Rows the latest verify found that the deltas had missed: a bug signal. */
	int vd = PQfnumber(r, "verify_drift");
	if (vd >= 0 && !PQgetisnull(r, i, vd) && strcmp(PQgetvalue(r, i, vd), "0"))
		buf_addf(b, "drift %s (verify); ", PQgetvalue(r, i, vd));
	if (!strcmp(PQgetvalue(r, i, 19), "t"))
		buf_addf(b, "dry run; ");
	if (b->len > 2)
		b->s[b->len -= 2] = '\0';
}

/* Per entity, its latest run; with finished, its latest run that ended and
 * was not a dry run (what the metrics report: a run in progress is not a
 * failure, and a dry run changed nothing). */
static PGresult *latest(PGconn *c, const char *source_now, int finished)
{
	const char *p[] = { source_now, finished ? "true" : "false" };

	return gx_pg_execp(c, latest_sql, 2, p);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source-now", required_argument, 0, 'n' }, { 0 } };
	const char *source_now = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'n')
			gx_bad_option(ch, argv);
		if (!gx_valid_datetime(optarg))
			gx_die(GX_EXIT_DATA, "--source-now: expected YYYY-MM-DD HH:MM:SS[.ffffff]");
		source_now = optarg;
	}
	if (optind != argc)
		bad_args("status [--source-now TS]");
	PGconn *c = connect_db();
	PGresult *r = latest(c, source_now, 0);
	gx_buf n = GX_BUF_INIT;
	printf("%-34s %-8s %12s %14s %-27s %10s  %s\n", "entity", "last", "run age (s)",
	       "success age (s)", "checkpoint (source clock)", "lag (s)", "notes");
	for (int i = 0; i < PQntuples(r); i++) {
		notes(&n, r, i);
		printf("%-34s %-8s %12s %14s %-27s %10s%s%s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		       PQgetisnull(r, i, 3) ? "never" : PQgetvalue(r, i, 3),
		       PQgetisnull(r, i, 4) ? "-" : PQgetvalue(r, i, 4),
		       PQgetisnull(r, i, 5) ? "-" : PQgetvalue(r, i, 5),
		       n.len ? "  " : "", n.len ? n.s : "");
	}
	buf_free(&n);
	PQclear(r);
	PQfinish(c);
	return 0;
}

static void metric(gx_buf *b, const char *name, const char *help, PGresult *r,
		   int col, const char *extra_label)
{
	buf_addf(b, "# HELP gx_%s %s\n# TYPE gx_%s gauge\n", name, help, name);
	for (int i = 0; i < PQntuples(r); i++)
		if (!PQgetisnull(r, i, col))
			buf_addf(b, "gx_%s{entity=\"%s\"%s} %s\n", name, PQgetvalue(r, i, 0),
				 extra_label, PQgetvalue(r, i, col));
}

static int cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = { { "file", required_argument, 0, 'f' }, { 0 } };
	const char *file = NULL;
	gx_buf b = GX_BUF_INIT, tmp = GX_BUF_INIT;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'f')
			gx_bad_option(ch, argv);
		file = optarg;
	}
	if (optind != argc)
		bad_args("metrics [--file PATH]");
	PGconn *c = connect_db();
	PGresult *r = latest(c, NULL, 1);
	buf_addf(&b, "# HELP gx_last_run_success 1 if the entity's latest finished run "
		 "succeeded (0: failed or partial; dry runs and runs in progress do not count)\n"
		 "# TYPE gx_last_run_success gauge\n");
	for (int i = 0; i < PQntuples(r); i++)
		buf_addf(&b, "gx_last_run_success{entity=\"%s\"} %d\n", PQgetvalue(r, i, 0),
			 !strcmp(PQgetvalue(r, i, 1), "success"));
	buf_addf(&b, "# HELP gx_last_run_partial 1 if the entity's latest finished run "
		 "ended partial (rows rejected)\n# TYPE gx_last_run_partial gauge\n");
	for (int i = 0; i < PQntuples(r); i++)
		buf_addf(&b, "gx_last_run_partial{entity=\"%s\"} %d\n", PQgetvalue(r, i, 0),
			 !strcmp(PQgetvalue(r, i, 1), "partial"));
	buf_addf(&b, "# HELP gx_run_in_progress 1 while a run of the entity is running\n"
		 "# TYPE gx_run_in_progress gauge\n");
	for (int i = 0; i < PQntuples(r); i++)
		buf_addf(&b, "gx_run_in_progress{entity=\"%s\"} %d\n", PQgetvalue(r, i, 0),
			 !PQgetisnull(r, i, 20));
	metric(&b, "run_in_progress_seconds", "how long the running run has been running", r,
	       20, "");
	metric(&b, "lag_seconds", "seconds the warehouse is behind the source: now minus "
	       "the source instant of the last checkpoint", r, 18, "");
	metric(&b, "last_run_timestamp_seconds", "start of the latest run", r, 6, "");
	metric(&b, "last_success_timestamp_seconds", "end of the latest successful run", r, 7, "");
	metric(&b, "last_run_duration_seconds", "duration of the latest run", r, 8, "");
	metric(&b, "last_run_processed_rows", "rows the latest run processed", r, 9, "");
	metric(&b, "last_run_created_rows", "rows the latest run created", r, 10, "");
	metric(&b, "last_run_updated_rows", "rows the latest run updated", r, 11, "");
	metric(&b, "last_run_unchanged_rows", "rows the latest run left unchanged", r, 12, "");
	metric(&b, "last_run_rejected_rows", "rows the latest run rejected", r, 13, "");
	metric(&b, "last_run_late_rows", "rows the latest run found behind the last "
	       "checkpoint (writers' clock or zone behind the source's)", r, 14, "");
	metric(&b, "last_run_future_cursor_rows", "rows with a cursor ahead of the "
	       "source clock in the latest run", r, 15, "");
	metric(&b, "open_rejects", "rejected rows kept in orchestration.sync_rejects, "
	       "retried by key on every run until they load or leave the source", r, 17, "");
	metric(&b, "last_verify_drift_rows", "rows the latest verify found missing, extra or "
	       "different in the target (deltas had missed them: a bug signal)", r,
	       PQfnumber(r, "verify_drift"), "");
	metric(&b, "last_verify_timestamp_seconds", "end of the latest verify", r,
	       PQfnumber(r, "verify_at"), "");
	buf_addf(&b, "# HELP gx_source_blind 1 if the source account could not see open "
		 "transactions or replica lag in the latest run\n# TYPE gx_source_blind gauge\n");
	for (int i = 0; i < PQntuples(r); i++)
		buf_addf(&b, "gx_source_blind{entity=\"%s\"} %d\n", PQgetvalue(r, i, 0),
			 !PQgetisnull(r, i, 16));
	PQclear(r);
	PQfinish(c);
	if (!file) {
		gx_out(b.s, b.len);
	} else {
		/* Written aside and renamed: the collector never reads half a file. */
		buf_addf(&tmp, "%s.%ld.tmp", file, (long)getpid());
		FILE *f = fopen(tmp.s, "w");
		if (!f || fwrite(b.s, 1, b.len, f) != b.len || fclose(f) != 0 ||
		    rename(tmp.s, file) != 0)
			gx_die(GX_EXIT_DATA, "%s: %s", file, strerror(errno));
	}
	buf_free(&b);
	buf_free(&tmp);
	return 0;
}

/* ---- rejects --------------------------------------------------------- */

static const char rejects_sql[] =
	"SELECT entity, key::text, stage, COALESCE(column_name, ''), COALESCE(sqlstate, ''),"
	" attempts, to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z',"
	" to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z',"
	" COALESCE(resolution, 'open'), replace(reason, E'\\n', ' ')"
	" FROM orchestration.sync_rejects WHERE crm_source = '" CRM "'"
	" AND ($1::text IS NULL OR entity = $1) AND ($2::boolean OR closed_at IS NULL)"
	" ORDER BY entity, closed_at IS NOT NULL, key, id";

static const char rejects_json_sql[] =
	"SELECT row_to_json(j)::text FROM orchestration.sync_rejects j"
	" WHERE crm_source = '" CRM "' AND ($1::text IS NULL OR entity = $1)"
	" AND ($2::boolean OR closed_at IS NULL) ORDER BY entity, closed_at IS NOT NULL, key, id";

/* The keys alone, for gx-extract --keys: the open ones, in key order. */
static const char reject_keys_sql[] =
	"SELECT key::text FROM orchestration.sync_rejects WHERE crm_source = '" CRM "'"
	" AND entity = $1 AND closed_at IS NULL ORDER BY key";

static int cmd_rejects(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", no_argument, 0, 'k' }, { "json", no_argument, 0, 'j' },
		{ "all", no_argument, 0, 'a' }, { 0 } };
	int ch, keys = 0, json = 0, all = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'k')
			keys = 1;
		else if (ch == 'j')
			json = 1;
		else if (ch == 'a')
			all = 1;
		else
			gx_bad_option(ch, argv);
	}
	if (argc - optind > 1 || (keys && (argc - optind != 1 || json || all)))
		bad_args("rejects [ENTITY] [--keys | --json] [--all] (--keys: one ENTITY, open only)");
	const char *p[] = { optind < argc ? argv[optind] : NULL, all ? "t" : "f" };
	PGconn *c = connect_db();
	PGresult *r = gx_pg_execp(c, keys ? reject_keys_sql : json ? rejects_json_sql :
				  rejects_sql, keys ? 1 : 2, p);

	if (keys || json) {
		for (int i = 0; i < PQntuples(r); i++)
			printf("%s\n", PQgetvalue(r, i, 0));
	} else {
		printf("%-22s %-14s %-5s %-20s %-8s %8s %-20s %-20s %-6s %s\n", "entity", "key",
		       "stage", "column", "sqlstate", "attempts", "first seen", "last seen",
		       "state", "reason");
		for (int i = 0; i < PQntuples(r); i++)
			printf("%-22s %-14s %-5s %-20s %-8s %8s %-20s %-20s %-6s %s\n",
			       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
			       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
			       PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8),
			       PQgetvalue(r, i, 9));
	}
	PQclear(r);
	PQfinish(c);
	return 0;
}

static int cmd_last(int argc, char **argv) { return cmd_list(argc, argv, 1); }
static int cmd_runs(int argc, char **argv) { return cmd_list(argc, argv, 0); }

/* The commands, in the order of the usage text. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "init", cmd_init }, { "lock", cmd_lock }, { "begin", cmd_begin },
	{ "finish", cmd_finish }, { "checkpoint", cmd_checkpoint },
	{ "last", cmd_last }, { "list", cmd_runs }, { "rejects", cmd_rejects },
	{ "status", cmd_status },
	{ "metrics", cmd_metrics }, { NULL, NULL }
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, 0, 'D' }, { "debug", no_argument, 0, 'g' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' }, { 0 } };
	int ch;

	gx_init(argv[0]);
	opterr = 0;
	/* Options before the command only: "+" stops at the first non-option. */
	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'D': conninfo = optarg; break;
		case 'g': gx_debug_on = 1; break;
		case 'h': usage();
		case 'V': gx_version();
		default: gx_bad_option(ch, argv);
		}
	}
	if (optind >= argc)
		gx_usage_error("a command is required");
	const char *cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;	/* each command parses its own options (0: glibc restarts) */
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(cmd, c->name)) {
			int status = c->run(argc, argv);
			gx_flush();
			return status;
		}
	gx_usage_error("%s: unknown command", cmd);
}
