/* gx-load: NDJSON records on stdin -> one PostgreSQL table, upserted by key
 * in one transaction that commits only after the stream's end marker.
 *
 *   gx-load --table SCHEMA.TABLE --key COL [--key COL2]
 *           [--force-overwrite | --insert-only] [--dry-run]
 *           [--rejects FILE] [--max-errors N] [--batch N] [--stats FILE]
 *           [--run ID] [--db CONNINFO] [--debug]
 *
 * Steps: BEGIN; check the table and its unique key; from the first record,
 * check the columns and create a temporary staging table; per batch of
 * records: SAVEPOINT, COPY into the stage, upsert into the table (the last
 * record of a key in a batch wins; by default a row is updated only if a
 * column differs), TRUNCATE the stage, RELEASE, bisecting a refused batch
 * down to the records to reject; at the end marker: finish --run in
 * orchestration.sync_history, COMMIT (or ROLLBACK for --dry-run), report.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

static noreturn void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: gx-load --table SCHEMA.TABLE --key COL [--key COL]... [options] < records.ndjson\n"
"  --table SCHEMA.TABLE  the target; names are used as written (quoted)\n"
"  --key COL             the upsert key (repeat for a composite key); the table\n"
"                        needs a unique index or constraint on exactly these columns\n"
"  --force-overwrite     rewrite every existing row (default: only rows that differ)\n"
"  --insert-only         insert new keys, leave existing rows alone\n"
"  --dry-run             do everything, report, then roll back\n"
"  --rejects FILE        write refused records there as NDJSON\n"
"                        {\"line\":N,\"sqlstate\":S,\"error\":E,\"record\":{...}}\n"
"  --max-errors N        fail (and roll back) past N rejected records (default 0)\n"
"  --batch N             records per COPY and upsert (default 10000)\n"
"  --stats FILE          write the counts as a JSON object\n"
"  --run ID              finish this running orchestration.sync_history run in the\n"
"                        same transaction as the data\n"
"  --db CONNINFO         libpq connection string (never with a password)\n"
"  --debug               log the SQL to stderr\n"
"  --help, --version\n"
"The columns are the keys of the first record; the stream must end with its end\n"
"marker, else nothing is committed (exit 3). A key repeated within a batch loads\n"
"its last record (the others count as duplicate keys). Datetimes without an\n"
"offset are read as UTC unless PGTZ names a zone. Connection: PGHOST, PGPORT,\n"
"PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass. Exit: 0 ok, 1 bad usage or data,\n"
"2 server, 3 truncated input.\n"
"Example: gx-map appointments.map < raw.ndjson | gx-load --table ingestion.genius_appointment --key id\n");
	exit(status);
}

/* A count in the end marker ("rejected" of gx-map), 0 when absent. */
static unsigned long long marker_count(const struct gx_reader *r, const char *key)
{
	const struct gx_field *f = reader_get(r, key);

	if (!f)
		return 0;
	if (f->type != GX_NUM || f->val[0] == '-' || memchr(f->val, '.', f->vlen) ||
	    memchr(f->val, 'e', f->vlen) || memchr(f->val, 'E', f->vlen) || f->vlen > 19)
		gx_die(GX_EXIT_DATA, "line %lu: end marker: \"%s\" is not a count", r->lineno, key);
	return strtoull(f->val, NULL, 10);
}

/* Reads the stream to its end marker, loading batch by batch; a stream
 * without one (a killed upstream) rolls everything back (exit 3). */
static void read_records(struct load *L, struct gx_reader *r, gx_buf *end)
{
	const char *why, *sqlstate;

	reader_init(r, stdin, "stdin");
	while (reader_next(r)) {
		if (r->control) {
			if (r->end_seen && !end->len) {
				buf_add(end, r->line.s, r->line.len);
				L->upstream_rejected = marker_count(r, "rejected");
			}
			continue;
		}
		L->processed++;
		if (!L->cols)
			target_prepare(L, r);
		if (copy_add(L, r, &why, &sqlstate) < 0)
			reject(L, r->lineno, r->line.s, r->line.len, sqlstate, why, NULL);
		else if (L->b.n >= L->batch_size)
			batch_apply(L);
	}
	if (!r->end_seen) {
		rollback(L);
		reader_expect_end(r);
	}
	batch_apply(L);
	if (r->end_records != L->processed &&
	    r->end_records != L->processed + L->upstream_rejected) {
		rollback(L);
		gx_die(GX_EXIT_DATA, "the end marker counts %llu records but %llu arrived: the "
		       "stream lost lines; rolled back", r->end_records, L->processed);
	}
}

static void load_free(struct load *L)
{
	batch_free(&L->b);
	for (size_t i = 0; i < L->ncols; i++)
		free(L->cols[i]);
	free(L->cols);
	free(L->collen);
	free(L->pos);
	free(L->keys);
	buf_free(&L->ident);
	buf_free(&L->copy_sql);
	buf_free(&L->upsert_sql);
	buf_free(&L->scratch);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "table", required_argument, 0, 't' }, { "key", required_argument, 0, 'k' },
		{ "force-overwrite", no_argument, 0, 'F' }, { "insert-only", no_argument, 0, 'I' },
		{ "dry-run", no_argument, 0, 'n' }, { "rejects", required_argument, 0, 'r' },
		{ "max-errors", required_argument, 0, 'e' }, { "batch", required_argument, 0, 'b' },
		{ "stats", required_argument, 0, 's' }, { "run", required_argument, 0, 'R' },
		{ "db", required_argument, 0, 'd' }, { "debug", no_argument, 0, 'D' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' }, { 0 } };
	struct load L = { .mode = MODE_CHANGED, .batch_size = 10000 };
	const char *conninfo = NULL, *stats_path = NULL, *run = NULL;
	FILE *stats = NULL;
	struct gx_reader r;
	gx_buf end = GX_BUF_INIT;
	int ch, force = 0, insert = 0;

	gx_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't': L.table = optarg; break;
		case 'k':
			L.keys = gx_realloc(L.keys, (L.nkeys + 1) * sizeof *L.keys);
			L.keys[L.nkeys++] = optarg;
			break;
		case 'F': force = 1; break;
		case 'I': insert = 1; break;
		case 'n': L.dry_run = 1; break;
		case 'r': L.rejects_path = optarg; break;
		case 'e': L.max_errors = gx_parse_count("--max-errors", optarg); break;
		case 'b': L.batch_size = gx_parse_count("--batch", optarg); break;
		case 's': stats_path = optarg; break;
		case 'R': gx_parse_count("--run", run = optarg); break;
		case 'd': conninfo = optarg; break;
		case 'D': gx_debug_on = 1; break;
		case 'h': usage(0);
		case 'V': gx_version();
		default: usage(1);
		}
	}
	if (optind != argc || !L.table || !L.nkeys)
		usage(1);
	if (force && insert)
		gx_die(GX_EXIT_DATA, "--force-overwrite and --insert-only exclude each other");
	if (L.batch_size == 0)
		gx_die(GX_EXIT_DATA, "--batch: must be at least 1");
	L.mode = force ? MODE_FORCE : insert ? MODE_INSERT : MODE_CHANGED;
	L.start = gx_clock();

	/* The stream is UTF-8; a datetime without an offset is UTC, as the
	 * warehouse's (Django's) sessions read it, unless PGTZ says otherwise. */
	L.pg = gx_pg_connect(conninfo);
	gx_pg_run(L.pg, "SET client_encoding = 'UTF8'");
	if (!getenv("PGTZ"))
		gx_pg_run(L.pg, "SET TimeZone = 'UTC'");
	gx_pg_run(L.pg, "BEGIN");
	target_check(&L);
	if (run)
		run_check(&L, run);
	if (L.rejects_path && !(L.rejects = gx_fopen_private(L.rejects_path, "w")))
		gx_die(GX_EXIT_DATA, "%s: cannot write the rejects", L.rejects_path);
	if (stats_path && !(stats = gx_fopen_private(stats_path, "w")))
		gx_die(GX_EXIT_DATA, "%s: cannot write the stats", stats_path);

	read_records(&L, &r, &end);
	if (L.rejects && fclose(L.rejects) != 0)
		gx_die(GX_EXIT_DATA, "%s: write error", L.rejects_path);

	L.end = gx_clock();
	if (L.dry_run) {
		rollback(&L);
		if (run)
			run_finish(&L, run, &end, 1);
	} else {
		if (run)
			run_finish(&L, run, &end, 0);
		gx_pg_run(L.pg, "COMMIT");
	}
	report(&L, stats, stats_path);

	PQfinish(L.pg);
	reader_free(&r);
	load_free(&L);
	buf_free(&end);
	return 0;
}
