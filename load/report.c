/* The run's outcome: orchestration.sync_history (--run), the summary line on
 * stderr and --stats. */
#define _XOPEN_SOURCE 700	/* realpath */
#include <stdlib.h>
#include <string.h>

#include "load.h"

static unsigned long long unchanged(const struct counts *n)
{
	return n->processed - n->created - n->updated - n->rejected - n->duplicates;
}

static double seconds(const struct counts *n)
{
	return n->end - n->start;
}

static double rate(const struct counts *n)
{
	double s = seconds(n);

	return s > 0 ? (double)n->processed / s : (double)n->processed;
}

/* Fails early when --run does not name a running run; run_finish checks
 * again, atomically, at the end. */
void run_check(struct session *db, const char *run)
{
	const char *p[] = { run };
	PGresult *r = sql_execp(db, "SELECT status FROM orchestration.sync_history "
				  "WHERE id = $1::bigint", 1, p);

	if (PQntuples(r) == 0)
		gx_die(GX_EXIT_DATA, "--run %s: no such run in orchestration.sync_history", run);
	if (strcmp(PQgetvalue(r, 0, 0), "running"))
		gx_die(GX_EXIT_DATA, "--run %s: the run is not running (status %s)", run,
		       PQgetvalue(r, 0, 0));
	PQclear(r);
}

static const char finish_sql[] =
	"UPDATE orchestration.sync_history SET"
	" status = CASE WHEN $2::bigint > 0 THEN 'partial' ELSE 'success' END,"
	" end_time = clock_timestamp(), records_processed = $3::bigint,"
	" records_created = $4::bigint, records_updated = $5::bigint, records_failed = $2::bigint,"
	" performance_metrics = performance_metrics || jsonb_build_object("
	"  'unchanged', $6::bigint, 'duration_seconds', $7::numeric,"
	"  'records_per_second', $8::numeric, 'rejected_upstream', $9::bigint,"
	"  'duplicates', $10::bigint, 'rejects_file', $11::text, 'stream', $12::jsonb,"
	"  'deleted', $14::bigint)"
	"  || CASE WHEN $13::boolean THEN '{\"dry_run\": true}'::jsonb ELSE '{}' END"
	"  || $15::jsonb"
	" WHERE id = $1::bigint AND status = 'running'";

/* Finishes run `run` with this load's counts: in the load's transaction
 * (so data, counts and checkpoint commit together), or after a dry run's
 * rollback in a transaction of its own. */
void run_finish(struct load *L, const char *run, const gx_buf *end_marker, int dry_run)
{
	const struct counts *n = &L->n;
	char v[12][32];
	char *abs = L->rej.path ? realpath(L->rej.path, NULL) : NULL;
	gx_buf kept = GX_BUF_INIT;	/* what keep.c did with the rejects */

	snprintf(v[0], sizeof v[0], "%llu", n->rejected + n->upstream_rejected);
	snprintf(v[1], sizeof v[1], "%llu", n->processed);
	snprintf(v[2], sizeof v[2], "%llu", n->created);
	snprintf(v[3], sizeof v[3], "%llu", n->updated);
	snprintf(v[4], sizeof v[4], "%llu", unchanged(n));
	snprintf(v[5], sizeof v[5], "%.3f", seconds(n));
	snprintf(v[6], sizeof v[6], "%.1f", rate(n));
	snprintf(v[7], sizeof v[7], "%llu", n->upstream_rejected);
	snprintf(v[8], sizeof v[8], "%llu", n->duplicates);
	snprintf(v[9], sizeof v[9], "%llu", n->deleted);
	const char *p[] = { run, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
			    abs ? abs : L->rej.path, end_marker->s, dry_run ? "t" : "f",
			    v[9], NULL };
	keep_metrics(&L->keep, &kept);
	p[14] = kept.s;
	PGresult *r = sql_execp(&L->db, finish_sql, 15, p);
	int done = atoi(PQcmdTuples(r)) == 1;

	PQclear(r);
	free(abs);
	buf_free(&kept);
	if (!done) {
		if (!dry_run)
			rollback(&L->db);
		r = sql_execp(&L->db, "SELECT status FROM orchestration.sync_history "
				"WHERE id = $1::bigint", 1, p);
		gx_die(GX_EXIT_DATA, "--run %s: the run is no longer running (status %s): "
		       "rolled back, nothing loaded", run,
		       PQntuples(r) ? PQgetvalue(r, 0, 0) : "deleted");
	}
}

/* Which path the load took (batch.c), for the summary. */
static const char *path_said(const struct batch *b)
{
	switch (b->path) {
	case PATH_DIRECT: return "copied straight into the empty table";
	case PATH_STAGED: return "staged, one upsert";
	case PATH_CAREFUL: break;
	}
	return !b->spilled ? "careful: batches in savepoints (no spill file)" :
	       "careful: batches in savepoints (a record was refused)";
}

void report(const struct load *L, FILE *stats, const char *stats_path)
{
	const struct counts *n = &L->n;
	char dups[64] = "", deleted[64] = "";

	/* Records whose key came again later in their batch: only the last
	 * one was loaded; they are in processed and nowhere else. */
	if (n->duplicates)
		snprintf(dups, sizeof dups, ", duplicate keys %llu", n->duplicates);
	if (L->prune.mode)
		snprintf(deleted, sizeof deleted, ", deleted %llu%s", n->deleted,
			 L->prune.mode == PRUNE_SOFT ? " (soft)" : "");
	gx_info("%s: processed %llu, created %llu, updated %llu, unchanged %llu%s, "
		"rejected %llu (upstream rejected %llu)%s in %.2f s (%.0f rows/s), %s%s",
		L->t.table, n->processed, n->created, n->updated, unchanged(n), deleted,
		n->rejected, n->upstream_rejected, dups, seconds(n), rate(n), path_said(&L->b),
		L->dry_run ? "; dry run: rolled back" : "");
	if (!stats)
		return;

	gx_buf j = GX_BUF_INIT;

	buf_adds(&j, "{\"table\":");
	json_add_str(&j, L->t.table, strlen(L->t.table));
	buf_addf(&j, ",\"processed\":%llu,\"created\":%llu,\"updated\":%llu,"
		 "\"unchanged\":%llu,\"deleted\":%llu,\"rejected\":%llu,"
		 "\"upstream_rejected\":%llu,\"duplicates\":%llu,\"seconds\":%.3f,"
		 "\"rows_per_second\":%.1f,\"path\":\"%s\",\"dry_run\":%s}\n", n->processed,
		 n->created, n->updated, unchanged(n), n->deleted, n->rejected,
		 n->upstream_rejected, n->duplicates, seconds(n), rate(n), batch_path(&L->b),
		 L->dry_run ? "true" : "false");
	if (fwrite(j.s, 1, j.len, stats) != j.len || fclose(stats) != 0)
		gx_die(GX_EXIT_DATA, "%s: write error", stats_path);
	buf_free(&j);
}
