/* Applying a batch: COPY into the stage, then upsert.
 *
 * A statement that fails aborts the whole transaction, so only a savepoint
 * taken before it can save the work done so far. But a savepoint that
 * writes is a subtransaction with an XID of its own, kept until COMMIT, and
 * past 64 of them (PGPROC_MAX_CACHED_SUBXIDS) every other session's snapshot
 * overflows: each of its visibility checks of a recent row, in any table,
 * then looks up pg_subtrans, for as long as the load runs. A savepoint per
 * batch overflows at the 65th batch.
 *
 * So batches first run "fast": at the top level, no savepoint, while
 * spill.c keeps a copy of the input read so far. The first record
 * PostgreSQL refuses rolls everything back, and the run starts again from
 * that copy, "careful": each batch in a savepoint; a refused batch is split
 * in halves and retried, down to single records; a single record that
 * fails is rejected and the rest still loads. A load without rejects has
 * no subtransaction at all; one with rejects pays for its replay. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "threshold.h"

/* Errors a record can cause: data exceptions (bad date, value too long,
 * numeric overflow), integrity constraints (NOT NULL, CHECK, FK, unique),
 * WITH CHECK OPTION, program limits (an index row too large) and errors
 * raised by a trigger. Anything else (a lost connection, a deadlock, a
 * full disk, a bug in our SQL) fails the run instead of every record. */
int record_error(const char *sqlstate)
{
	static const char *const classes[] = { "22", "23", "44", "54", "P0" };

	if (!sqlstate)
		return 0;
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (!strncmp(sqlstate, classes[i], 2))
			return 1;
	return 0;
}

/* The column a COPY error names in its context ("COPY gx_stage, line 1,
 * column NAME: ..."), matched against our columns; NULL if none. */
static const char *copy_column(const struct target *t, const char *context)
{
	const char *c = context ? strstr(context, ", column ") : NULL;
	const char *best = NULL;
	size_t best_len = 0;

	if (!c || strncmp(context, "COPY gx_stage, ", 15))
		return NULL;
	c += 9;
	for (size_t i = 0; i < t->ncols; i++)
		if (t->collen[i] > best_len && !strncmp(c, t->cols[i], t->collen[i]) &&
		    c[t->collen[i]] == ':')
			best = t->cols[i], best_len = t->collen[i];
	return best;
}

void reject(struct load *L, unsigned long line, const char *orig, size_t orig_len,
	    const char *sqlstate, const char *error, const char *column)
{
	L->n.rejected++;
	if (L->rej.f) {
		gx_buf *j = &L->rej.line;
		buf_reset(j);
		buf_addf(j, "{\"line\":%lu,\"sqlstate\":", line);
		if (sqlstate)
			json_add_str(j, sqlstate, strlen(sqlstate));
		else
			buf_adds(j, "null");
		buf_adds(j, ",\"error\":");
		json_add_str(j, error, strlen(error));
		if (column) {
			buf_adds(j, ",\"column\":");
			json_add_str(j, column, strlen(column));
		}
		buf_adds(j, ",\"record\":");
		buf_add(j, orig, orig_len);
		buf_adds(j, "}\n");
		if (fwrite(j->s, 1, j->len, L->rej.f) != j->len)
			gx_die(GX_EXIT_DATA, "%s: write error", L->rej.path);
	} else {
		gx_warn("line %lu: rejected%s%s: %s%s%s", line, sqlstate ? " " : "",
			sqlstate ? sqlstate : "", error, column ? ", column " : "",
			column ? column : "");
	}
	keep_load_reject(&L->keep, &L->db, &L->t, line, orig, orig_len, sqlstate, error,
			 column);
	reject_check(L, line, 0);
}

void reject_check(struct load *L, unsigned long line, int final)
{
	/* gx-map's rejects count with a rate only (a plain --max-errors is this
	 * stage's own); before the end marker, they are its reject lines. */
	unsigned long long up = L->rej.rate < 0 ? 0 : final ? L->n.upstream_rejected :
				L->keep.map_rejects;
	unsigned long long rejected = L->n.rejected + up, seen = L->n.processed + up;

	if (!gx_too_many_rejects(rejected, seen, L->rej.max, L->rej.rate, final))
		return;
	rollback(&L->db);
	if (L->rej.rate < 0)
		gx_die(GX_EXIT_DATA, "%s: %llu records rejected, more than --max-errors %llu "
		       "(last at line %lu): rolled back, nothing loaded", L->t.table,
		       L->n.rejected, L->rej.max, line);
	gx_die(GX_EXIT_DATA, "%s: %llu of %llu records rejected%s (%.1f%%, more than "
	       "--max-errors %llu and %s): a systemic failure (a broken map or a changed "
	       "source type?), not a few bad rows: rolled back, nothing loaded", L->t.table,
	       rejected, seen, final ? "" : " so far", 100.0 * (double)rejected / (double)seen,
	       L->rej.max, final ? "--max-error-rate" : "half of the records");
}

/* COPY rows [lo, hi) into the stage and upsert them: NULL when loaded (and
 * counted), else the failed result of a record's error (others end us). */
static PGresult *load_rows(struct load *L, size_t lo, size_t hi)
{
	PGresult *r = copy_send(&L->db, &L->t, &L->b, lo, hi);

	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		gx_debug("upsert of lines %lu..%lu", L->b.rows[lo].line, L->b.rows[hi - 1].line);
		deadline(&L->db);
		r = PQexec(L->db.pg, L->t.upsert_sql.s);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			L->n.created += strtoull(PQgetvalue(r, 0, 0), NULL, 10);
			L->n.updated += strtoull(PQgetvalue(r, 0, 1), NULL, 10);
			L->n.duplicates += (hi - lo) - strtoull(PQgetvalue(r, 0, 2), NULL, 10);
			PQclear(r);
			return NULL;
		}
	}
	if (!r || !record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE))) {
		gx_debug("failed SQL: %s", L->t.upsert_sql.s);
		gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(L->db.pg));
	}
	gx_debug("lines %lu..%lu refused: %s", L->b.rows[lo].line, L->b.rows[hi - 1].line,
		 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	return r;
}

/* Rows [lo, hi) in a savepoint: NULL when loaded, else the failed result
 * with everything since the savepoint undone. */
static PGresult *try_rows(struct load *L, size_t lo, size_t hi)
{
	PGresult *r;

	sql_run(&L->db, "SAVEPOINT gx_batch");
	if (!(r = load_rows(L, lo, hi))) {
		sql_run(&L->db, L->t.done_sql.s);
		return NULL;
	}
	sql_run(&L->db, "ROLLBACK TO SAVEPOINT gx_batch; RELEASE SAVEPOINT gx_batch");
	return r;
}

static void apply_rows(struct load *L, size_t lo, size_t hi)
{
	PGresult *r = try_rows(L, lo, hi);

	if (!r)
		return;
	if (hi - lo == 1) {
		const struct row *w = &L->b.rows[lo];
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);

		if (!col)
			col = copy_column(&L->t, PQresultErrorField(r, PG_DIAG_CONTEXT));
		if (L->prune.mode)
			batch_keep_keys(&L->prune.kept_keys, &L->b, &L->t, lo);
		reject(L, w->line, L->b.orig.s + w->orig_off, w->orig_len,
		       PQresultErrorField(r, PG_DIAG_SQLSTATE), msg ? msg : "unknown error", col);
		PQclear(r);
		return;
	}
	PQclear(r);
	apply_rows(L, lo, lo + (hi - lo) / 2);
	apply_rows(L, lo + (hi - lo) / 2, hi);
}

/* The whole batch at the top level: 1 when loaded, 0 when a record was
 * refused (the transaction is then aborted). */
static int fast_rows(struct load *L)
{
	PGresult *r = load_rows(L, 0, L->b.n);

	if (!r) {
		sql_run(&L->db, L->t.keep_sql.s);
		return 1;
	}
	PQclear(r);
	return 0;
}

/* Back to the state before the first record, in a new transaction: what
 * was loaded, counted and rejected so far is loaded, counted and rejected
 * again by the replay. */
static void restart(struct load *L)
{
	gx_debug("a record was refused: loading again from the start, carefully");
	rollback(&L->db);
	load_begin(L);
	L->n.processed = L->n.created = L->n.updated = L->n.rejected = L->n.duplicates = 0;
	buf_reset(&L->prune.kept_keys);
	batch_reset(&L->b);
	if (L->rej.f && (fflush(L->rej.f) != 0 || ftruncate(fileno(L->rej.f), 0) != 0 ||
			 fseek(L->rej.f, 0, SEEK_SET) != 0))
		gx_die(GX_EXIT_DATA, "%s: write error", L->rej.path);
}

void batch_apply(struct load *L)
{
	if (!L->b.n)
		return;
	if (spill_ready(&L->b)) {
		if (fast_rows(L)) {
			batch_reset(&L->b);
			return;
		}
		/* The replay ends with this batch: applied there if full, else
		 * left in L->b for us. */
		restart(L);
		spill_replay(L);
	}
	if (L->b.n)
		apply_rows(L, 0, L->b.n);
	batch_reset(&L->b);
}

void batch_add(struct load *L, const struct gx_reader *r)
{
	const char *why, *sqlstate;

	L->n.processed++;
	if (copy_add(&L->b, &L->t, r, &why, &sqlstate) < 0) {
		if (L->prune.mode)
			copy_keep_keys(&L->prune.kept_keys, &L->b, &L->t, r);
		reject(L, r->lineno, r->line.s, r->line.len, sqlstate, why, NULL);
	} else if (L->b.n >= L->b.size) {
		batch_apply(L);
	}
}
