/* gx-load: NDJSON records on stdin -> one PostgreSQL table, upserted by key
 * in one transaction that commits only after the stream's end marker.
 *
 *   gx-load --table SCHEMA.TABLE --key COL [--key COL2]
 *           [--force-overwrite | --insert-only] [--dry-run]
 *           [--prune[=soft] [--prune-max PCT]] [--verify [--repair] [--report FILE]]
 *           [--rejects FILE] [--max-errors N] [--batch N] [--stats FILE]
 *           [--run ID] [--db CONNINFO] [--timeout S] [--debug]
 *
 * Steps: check the table and its unique key; BEGIN (with --prune: count
 * its rows); from the first record, check the columns, create a temporary
 * staging table and pick the path (batch.c): the whole stream as one COPY
 * straight into the target when it is empty, else one COPY into the stage
 * and one upsert at the end (the last record of a key wins; by default a
 * row is updated only if a column differs); records are sent as they are
 * read, a copy of the input kept in a spill file. The first record
 * PostgreSQL refuses rolls back and replays the input from it on the next
 * path, down to "careful": --batch records at a time, each in a SAVEPOINT,
 * the refused records found by COPY's line, by the target's checks or by
 * bisection, and rejected. At the end marker: with --prune, check that the
 * stream was a complete read and delete the rows it lacked (or refuse past
 * --prune-max); finish --run in orchestration.sync_history, COMMIT (or
 * ROLLBACK for --dry-run), report, naming the path taken.
 *
 * With --verify the batches compare instead of upserting, and the drift is
 * reported (and with --repair repaired) at the end marker (verify.c).
 *
 * Whatever stops it before COMMIT (bad data, a lost or silent server, a
 * signal, kill -9) leaves the target as it was: the transaction is still
 * open and PostgreSQL rolls it back.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "threshold.h"

static noreturn void usage(void)
{
	fprintf(stdout,
"usage: gx-load --table SCHEMA.TABLE --key COL [--key COL]... [options]\n"
"               < records.ndjson\n"
"  --table SCHEMA.TABLE  the target; names are used as written (quoted)\n"
"  --key COL             the upsert key (repeat for a composite key); the table\n"
"                        needs a unique index or constraint on exactly these\n"
"                        columns\n"
"  --force-overwrite     rewrite every existing row (default: only the rows\n"
"                        that differ)\n"
"  --insert-only         insert new keys, leave existing rows alone\n"
"  --dry-run             do everything, report, then roll back\n"
"  --prune               delete the rows the stream lacks; only for a complete\n"
"                        stream (its end marker names no since, until, after,\n"
"                        limit, more or shard, and nothing was rejected upstream)\n"
"  --prune=soft          set their deleted_at (timestamptz) instead, and clear it\n"
"                        on rows that come back\n"
"  --prune-max PCT       refuse (roll back, exit 1) when more than PCT percent of\n"
"                        the table's (live) rows would go (default 10)\n"
"  --verify              compare instead of loading: report the rows missing in\n"
"                        the target, extra in it and different (with columns);\n"
"                        writes nothing to the target; needs a complete stream\n"
"  --repair              --verify, then fix exactly the drifted rows (extras\n"
"                        deleted as --prune would, within --prune-max)\n"
"  --report FILE         with --verify: every drifted row there as NDJSON\n"
"                        {\"kind\":K,\"key\":{...},\"columns\":[...]}\n"
"  --rejects FILE        write refused records there as NDJSON\n"
"                        {\"line\":N,\"sqlstate\":S,\"error\":E,\"record\":{...}}\n"
"  --max-errors N        fail (and roll back) past N rejected records (default 0)\n"
"  --max-error-rate PCT  ... only when also more than PCT percent of the stream\n"
"                        was rejected (gx-map's rejects too): a systemic failure\n"
"  --batch N             records sent at a time (default 10000, and at most\n"
"                        64 KiB); once a record is refused, per savepoint\n"
"                        (and at most 2 MiB)\n"
"  --stats FILE          write the counts as a JSON object\n"
"  --run ID              finish this running orchestration.sync_history run in\n"
"                        the same transaction as the data, and keep its rejects\n"
"                        by key in orchestration.sync_rejects\n"
"  --db CONNINFO         libpq connection string (never with a password)\n"
"  --timeout S           give up (exit 2) when PostgreSQL does not accept the\n"
"                        connection or finish a statement within S seconds, or\n"
"                        says nothing at all for S + 2 (default: wait for ever);\n"
"                        the COPY of the stream lasts as long as its input\n"
"  --debug               log the SQL to stderr\n"
"  --help, --version\n"
"The columns are the keys of the first record; the stream must end with its end\n"
"marker, else nothing is committed (exit 3). A key repeated within a batch loads\n"
"its last record (the others count as duplicate keys). Datetimes without an\n"
"offset are read as UTC unless PGTZ names a zone. Connection: PGHOST, PGPORT,\n"
"PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass. An empty table is loaded by one\n"
"COPY straight into it, any other through a staging table and one upsert; the\n"
"summary says which. Until a record is refused, the input read so far is kept\n"
"in an unlinked file in $TMPDIR (as large as the input; without room there,\n"
"batches run in savepoints).\n"
"Exit: 0 ok, 1 bad usage or data (or --prune refused), 2 server, 3 truncated\n"
"input; SIGINT, SIGTERM or SIGHUP before COMMIT: one line, nothing committed,\n"
"killed by that signal (130, 143, 129 in a shell); once COMMIT is sent they\n"
"wait for its outcome.\n"
"Example: gx-map appointments.map < raw.ndjson |\n"
"           gx-load --table ingestion.genius_appointment --key id\n");
	gx_flush();
	exit(0);
}

/* A count in the end marker ("rejected" of gx-map), 0 when absent. */
static unsigned long long marker_count(const struct gx_reader *r, const char *key)
{
	const struct gx_field *f = reader_get(r, key);

	if (!f)
		return 0;
	if (!json_field_int(f, 19, 0))
		gx_die(GX_EXIT_DATA, "line %lu: end marker: \"%s\" is not a count", r->lineno, key);
	return strtoull(f->val, NULL, 10);
}

/* The first path (batch.c): straight into the target when it is empty and
 * the load has nothing else to do per row; without a spill file, careful. */
static void choose_path(struct load *L)
{
	int direct = !L->v.on && !L->prune.mode && !L->keep.open && L->b.spill_fd >= 0;

	target_paths(&L->t, &L->db, direct, !L->v.on);
	L->b.path = L->b.spill_fd < 0 ? PATH_CAREFUL : direct && L->t.empty ? PATH_DIRECT :
		    PATH_STAGED;
	gx_debug("path: %s", batch_path(&L->b));
}

/* Reads the stream to its end marker, loading batch by batch (keeping a
 * copy of the input for a replay, see batch.c); a stream without one (a
 * killed upstream) rolls everything back (exit 3). */
static void read_records(struct load *L, struct gx_reader *r, gx_buf *end)
{
	reader_init(r, stdin, "stdin");
	while (reader_next(r)) {
		spill_line(&L->b, r);
		if (r->control) {
			keep_control(&L->keep, &L->db, &L->t, r);
			reject_check(L, r->lineno, 0);
			if (r->end_seen && !end->len) {
				buf_add(end, r->line.s, r->line.len);
				L->n.upstream_rejected = marker_count(r, "rejected");
				if (L->v.on)
					verify_check_end(L, r);
				else if (L->prune.mode)
					prune_check_end(&L->t, &L->db, r, L->n.upstream_rejected);
			}
			continue;
		}
		if (!L->t.cols) {
			target_prepare(&L->t, &L->db, r, L->prune.mode);
			keep_prepare(&L->keep, &L->t);
			if (L->v.on)
				verify_prepare(L);
			choose_path(L);
			deadline_off(&L->db);
		}
		batch_add(L, r);
		batch_recover(L);
		deadline_off(&L->db);	/* back to waiting for the input */
	}
	if (!r->end_seen) {
		rollback(&L->db);
		reader_expect_end(r);
	}
	batch_finish(L);
	if (r->end_records != L->n.processed &&
	    r->end_records != L->n.processed + L->n.upstream_rejected) {
		rollback(&L->db);
		gx_die(GX_EXIT_DATA, "the end marker counts %llu records but %llu arrived: the "
		       "stream lost lines; rolled back", r->end_records, L->n.processed);
	}
	reject_check(L, r->lineno, 1);
	spill_close(&L->b);
}

void load_begin(struct load *L)
{
	sql_run(&L->db, "BEGIN");
	if (L->v.on)
		verify_begin(L);
	if (L->t.cols)
		target_stage(&L->t, &L->db);
	if (L->prune.mode)
		prune_begin(&L->prune, &L->t, &L->db);
	keep_begin(&L->keep, &L->db);
}

static void load_free(struct load *L)
{
	target_free(&L->t);
	batch_free(&L->b);
	buf_free(&L->rej.line);
	buf_free(&L->prune.kept_keys);
	verify_free(&L->v);
	keep_free(&L->keep);
}

/* --prune-max: a percentage, 0 to 100, decimals allowed. */
static double parse_percent(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 100))
		gx_die(GX_EXIT_DATA, "--prune-max: \"%s\" is not a percentage (0 to 100)", s);
	return v;
}

static enum prune_mode parse_prune(const char *s)
{
	if (!s)
		return PRUNE_HARD;
	if (strcmp(s, "soft"))
		gx_die(GX_EXIT_DATA, "--prune=%s: only --prune or --prune=soft", s);
	return PRUNE_SOFT;
}

static FILE *open_output(const char *path, const char *what)
{
	FILE *f = gx_fopen_private(path, "w");

	if (!f)
		gx_die(GX_EXIT_DATA, "%s: cannot write the %s: %s", path, what, strerror(errno));
	return f;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "table", required_argument, 0, 't' }, { "key", required_argument, 0, 'k' },
		{ "force-overwrite", no_argument, 0, 'F' }, { "insert-only", no_argument, 0, 'I' },
		{ "dry-run", no_argument, 0, 'n' }, { "rejects", required_argument, 0, 'r' },
		{ "max-errors", required_argument, 0, 'e' }, { "batch", required_argument, 0, 'b' },
		{ "max-error-rate", required_argument, 0, 'E' },
		{ "stats", required_argument, 0, 's' }, { "run", required_argument, 0, 'R' },
		{ "prune", optional_argument, 0, 'P' }, { "prune-max", required_argument, 0, 'M' },
		{ "db", required_argument, 0, 'd' }, { "timeout", required_argument, 0, 'T' },
		{ "debug", no_argument, 0, 'D' }, { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' }, { "verify", no_argument, 0, 'v' },
		{ "repair", no_argument, 0, 'H' }, { "report", required_argument, 0, 'O' },
		{ 0 } };
	struct load L = { .t.mode = MODE_CHANGED, .b.size = 10000, .prune.max = 10,
			  .rej.rate = -1 };
	const char *conninfo = NULL, *stats_path = NULL, *run = NULL;
	FILE *stats = NULL;
	struct gx_reader r;
	gx_buf end = GX_BUF_INIT;
	unsigned long long timeout = 0;
	size_t keys_cap = 0;
	int ch, force = 0, insert = 0;

	gx_init(argv[0]);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': L.t.table = optarg; break;
		case 'k':
			GX_GROW(L.t.keys, L.t.nkeys + 1, keys_cap);
			L.t.keys[L.t.nkeys++] = optarg;
			break;
		case 'F': force = 1; break;
		case 'I': insert = 1; break;
		case 'n': L.dry_run = 1; break;
		case 'r': L.rej.path = optarg; break;
		case 'e': L.rej.max = gx_parse_count("--max-errors", optarg); break;
		case 'E': L.rej.rate = gx_parse_percent("--max-error-rate", optarg); break;
		case 'b': L.b.size = gx_parse_count("--batch", optarg); break;
		case 's': stats_path = optarg; break;
		case 'R': gx_parse_count("--run", run = optarg); break;
		case 'P': L.prune.mode = parse_prune(optarg); break;
		case 'M': L.prune.max = parse_percent(optarg); break;
		case 'v': L.v.on = 1; break;
		case 'H': L.v.on = L.v.repair = 1; break;
		case 'O': L.v.report_path = optarg; break;
		case 'd': conninfo = optarg; break;
		case 'T': timeout = gx_parse_count("--timeout", optarg); break;
		case 'D': gx_debug_on = 1; break;
		case 'h': usage();
		case 'V': gx_version();
		default: gx_bad_option(ch, argv);
		}
	}
	if (optind != argc)
		gx_usage_error("%s: unexpected argument", argv[optind]);
	if (!L.t.table || !L.t.nkeys)
		gx_usage_error("--table and --key are required");
	if (force && insert)
		gx_die(GX_EXIT_DATA, "--force-overwrite and --insert-only exclude each other");
	if (L.v.on && (force || insert || L.prune.mode))
		gx_die(GX_EXIT_DATA, "--verify compares: it takes no --force-overwrite, "
		       "--insert-only or --prune (--repair deletes the extras)");
	if (L.v.report_path && !L.v.on)
		gx_die(GX_EXIT_DATA, "--report: only with --verify");
	if (L.b.size == 0)
		gx_die(GX_EXIT_DATA, "--batch: must be at least 1");
	if (timeout > 86400)
		gx_die(GX_EXIT_DATA, "--timeout: at most 86400 seconds");
	L.db.timeout = (unsigned)timeout;
	L.t.mode = force ? MODE_FORCE : insert ? MODE_INSERT : MODE_CHANGED;
	L.n.start = gx_clock();

	session_open(&L.db, conninfo);
	target_check(&L.t, &L.db);
	if (run) {
		run_check(&L.db, run);
		if (!L.v.on)	/* a verify loads nothing: no reject is kept or settled */
			keep_start(&L.keep, &L.db, run);
	}
	load_begin(&L);
	if (L.rej.path)
		L.rej.f = open_output(L.rej.path, "rejects");
	if (stats_path)
		stats = open_output(stats_path, "stats");
	if (L.v.report_path)
		L.v.report = open_output(L.v.report_path, "report");
	deadline_off(&L.db);

	spill_open(&L.b);
	read_records(&L, &r, &end);
	if (L.prune.mode)
		L.n.deleted = prune_apply(&L.prune, &L.t, &L.db);
	if (L.v.on)
		verify_apply(&L, run, &end);
	keep_apply(&L.keep, &L.db);
	if (L.rej.f && fclose(L.rej.f) != 0)
		gx_die(GX_EXIT_DATA, "%s: write error", L.rej.path);

	L.n.end = gx_clock();
	if (L.dry_run) {
		rollback(&L.db);
		if (run && L.v.on)
			verify_record(&L, run, &end, NULL);
		else if (run)
			run_finish(&L, run, &end, 1);
	} else {
		if (run && L.v.on)
			verify_record(&L, run, &end, NULL);
		else if (run)
			run_finish(&L, run, &end, 0);
		session_commit(&L.db);
	}
	report(&L, stats, stats_path);

	PQfinish(L.db.pg);
	reader_free(&r);
	load_free(&L);
	buf_free(&end);
	return 0;
}
