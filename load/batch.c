/* Applying the records: three paths, tried in order.
 *
 * A statement that fails aborts the whole transaction, so only a savepoint
 * taken before it can save the work done so far. But a savepoint that
 * writes is a subtransaction with an XID of its own, kept until COMMIT, and
 * past 64 of them (PGPROC_MAX_CACHED_SUBXIDS) every other session's snapshot
 * overflows: each of its visibility checks of a recent row, in any table,
 * then looks up pg_subtrans, for as long as the load runs.
 *
 * So a load first runs "fast", without savepoints, while spill.c keeps a
 * copy of the input read so far, and sends the whole stream as one COPY,
 * a chunk at a time, as it reads it:
 *  - "copy": straight into the target, when it had no rows at BEGIN (a
 *    first or rebuilt sync), no rules, and nothing else to do per row
 *    (no --prune, --verify or open rejects): PostgreSQL's least work;
 *  - "staged": into the stage, then one upsert of all of it.
 * The first record PostgreSQL refuses rolls everything back, and the run
 * starts again from that copy on the next path; "careful", the last, takes
 * --batch records at a time, each in a savepoint: a record COPY refuses is
 * known by its line and rejected, the rest copied again; a batch whose
 * upsert fails loses the rows the checks of the target (NOT NULL, CHECK)
 * find in the stage, rejected, and is tried again; anything else is split
 * in halves and retried, down to single records. Before the careful path,
 * a staged upsert that fails gets the same checks in a savepoint (one
 * subtransaction). A load without rejects has no subtransaction at all. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "threshold.h"

#define NONE ((size_t)-1)
/* Bytes of COPY text per send on the fast paths: one CopyData message,
 * smaller than a socket's buffer, so that PostgreSQL takes it in while we
 * read and encode the next (at 256 KiB the two took turns: 1.8-2.2 s
 * against 1.1 s for 200 k appointments into an empty table). */
#define FAST_CHUNK (1 << 16)
/* A careful batch: at most --batch records and this much COPY text (its
 * input lines are kept too): memory is bounded by it. */
#define CAREFUL_BYTES (2 << 20)

static const char *const path_name[] = { "staged", "copy", "careful" };

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

/* In the context of a refusal by COPY into the stage ("COPY gx_stage,
 * line N, column C: ..."): the text after what (", line ", ", column "),
 * or NULL. */
static const char *copy_context(const char *context, const char *what)
{
	const char *c = context ? strstr(context, what) : NULL;

	return c && !strncmp(context, "COPY gx_stage, ", 15) ? c + strlen(what) : NULL;
}

/* The column a COPY error names, matched against our columns; NULL if none. */
static const char *copy_column(const struct target *t, const char *context)
{
	const char *c = copy_context(context, ", column "), *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; c && i < t->ncols; i++)
		if (t->collen[i] > best_len && !strncmp(c, t->cols[i], t->collen[i]) &&
		    c[t->collen[i]] == ':')
			best = t->cols[i], best_len = t->collen[i];
	return best;
}

/* The line of the COPY a refusal names, 0 if none. */
static unsigned long copy_line(const char *context)
{
	const char *c = copy_context(context, ", line ");

	return c ? strtoul(c, NULL, 10) : 0;
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

/* Rejects found inside a batch's savepoint, reported once it is
 * released (a rolled-back savepoint would take kept rejects with it). */
struct pending {
	struct pend { size_t row; char *sqlstate, *error, *column; } *v;
	size_t n, cap;
};

static char *dup_or_null(const char *s)
{
	return s ? gx_strdup(s) : NULL;
}

static void pend_add(struct pending *p, size_t row, const char *sqlstate, const char *error,
		     const char *column)
{
	GX_GROW(p->v, p->n + 1, p->cap);
	p->v[p->n++] = (struct pend){ row, dup_or_null(sqlstate),
				      gx_strdup(error ? error : "unknown error"),
				      dup_or_null(column) };
}

static int by_row(const void *a, const void *b)
{
	size_t x = ((const struct pend *)a)->row, y = ((const struct pend *)b)->row;

	return (x > y) - (x < y);
}

static void pend_clear(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].sqlstate);
		free(p->v[i].error);
		free(p->v[i].column);
	}
	p->n = 0;
}

/* A record refused as read (r) or as a row of the batch: its keys kept for
 * --prune (a rejected row is not a deleted one), then rejected. */
static void reject_record(struct load *L, const struct gx_reader *r, const char *sqlstate,
			  const char *error, const char *column)
{
	if (L->prune.mode)
		copy_keep_keys(&L->prune.kept_keys, &L->b, &L->t, r);
	reject(L, r->lineno, r->line.s, r->line.len, sqlstate, error, column);
}

static void reject_row(struct load *L, size_t row, const char *sqlstate, const char *error,
		       const char *column)
{
	const struct row *w = &L->b.rows[row];

	if (L->prune.mode)
		batch_keep_keys(&L->prune.kept_keys, &L->b, &L->t, row);
	reject(L, w->line, L->b.orig.s + w->orig_off, w->orig_len, sqlstate, error, column);
}

/* The upsert of what the stage holds (rows records): NULL when done (and
 * counted), else the failed result of a record's error (others end us). */
static PGresult *upsert(struct load *L, unsigned long long rows)
{
	/* A stream whose keys only ascend (the staged path) holds none twice:
	 * no DISTINCT ON, no sort of every row. Not when verifying (the
	 * statement is the comparison) nor for a careful batch. */
	const char *sql = L->b.path == PATH_STAGED && !L->b.unordered && !L->v.on ?
			  L->t.upsert_unique_sql.s : L->t.upsert_sql.s;
	PGresult *r;

	deadline(&L->db);
	r = PQexec(L->db.pg, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		L->n.created += strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		L->n.updated += strtoull(PQgetvalue(r, 0, 1), NULL, 10);
		L->n.duplicates += rows - strtoull(PQgetvalue(r, 0, 2), NULL, 10);
		PQclear(r);
		return NULL;
	}
	if (!record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE))) {
		gx_debug("failed SQL: %s", sql);
		gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(L->db.pg));
	}
	gx_debug("upsert refused: %s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	return r;
}

/* COPYs rows [lo, hi) into the stage: NULL when done, else the failed
 * result of a record's error, with *bad the row it names (NONE if none). */
static PGresult *stage_rows(struct load *L, size_t lo, size_t hi, size_t *bad)
{
	while (lo < hi) {
		size_t upto;
		PGresult *r = copy_rows(&L->db, &L->t, &L->b, lo, hi, &upto);

		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			PQclear(r);	/* ended early by a notice: the rest next */
			lo = upto;
			continue;
		}
		if (!record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE)))
			gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(L->db.pg));
		unsigned long line = copy_line(PQresultErrorField(r, PG_DIAG_CONTEXT));
		*bad = line >= 1 && line <= upto - lo ? lo + line - 1 : NONE;
		return r;
	}
	return NULL;
}

/* Takes the lines of r (sorted) out of the stage. */
static void unstage(struct load *L, PGresult *r)
{
	gx_buf arr = GX_BUF_INIT;

	buf_addc(&arr, '{');
	for (int i = 0; i < PQntuples(r); i++)
		buf_addf(&arr, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
	buf_addc(&arr, '}');
	const char *p[] = { arr.s };
	PQclear(sql_execp(&L->db, "DELETE FROM pg_temp.gx_stage WHERE gx_line = ANY($1::bigint[])",
			  1, p));
	buf_free(&arr);
}

static size_t find_row(const struct batch *b, unsigned long line)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->rows[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == b->n || b->rows[lo].line != line)
		gx_die(GX_EXIT_BUG, "staged line %lu is not in the batch", line);
	return lo;
}

/* --- careful --------------------------------------------------------------- */

/* COPY rows [lo, hi) into the stage and upsert them: NULL when loaded (and
 * counted), else the failed result of a record's error (others end us). */
static PGresult *load_rows(struct load *L, size_t lo, size_t hi)
{
	size_t bad;
	PGresult *r = stage_rows(L, lo, hi, &bad);

	if (r)
		return r;
	gx_debug("upsert of lines %lu..%lu", L->b.rows[lo].line, L->b.rows[hi - 1].line);
	return upsert(L, hi - lo);
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
		const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);

		if (!col)
			col = copy_column(&L->t, PQresultErrorField(r, PG_DIAG_CONTEXT));
		reject_row(L, lo, PQresultErrorField(r, PG_DIAG_SQLSTATE),
			   PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), col);
		PQclear(r);
		return;
	}
	PQclear(r);
	apply_rows(L, lo, lo + (hi - lo) / 2);
	apply_rows(L, lo + (hi - lo) / 2, hi);
}

/* The batch's rows COPY refuses, each known by its line: pending rejects,
 * the others staged. 0 when a refusal named no line. */
static int stage_batch(struct load *L, struct pending *pend, size_t *staged)
{
	size_t s = 0, n = L->b.n, bad, again;

	while (s < n) {
		sql_run(&L->db, "SAVEPOINT gx_copy");
		PGresult *r = stage_rows(L, s, n, &bad);
		if (!r) {
			sql_run(&L->db, "RELEASE SAVEPOINT gx_copy");
			*staged += n - s;
			return 1;
		}
		sql_run(&L->db, "ROLLBACK TO SAVEPOINT gx_copy");
		if (bad == NONE) {
			PQclear(r);
			return 0;
		}
		const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
		pend_add(pend, bad, PQresultErrorField(r, PG_DIAG_SQLSTATE),
			 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
			 col ? col : copy_column(&L->t, PQresultErrorField(r, PG_DIAG_CONTEXT)));
		PQclear(r);
		if (bad > s && (r = stage_rows(L, s, bad, &again))) {
			PQclear(r);	/* refused now, taken the first time: bisect */
			return 0;
		}
		sql_run(&L->db, "RELEASE SAVEPOINT gx_copy");
		*staged += bad - s;
		s = bad + 1;
	}
	return 1;
}

/* After a refused upsert (rolled back to its savepoint): the staged rows
 * the checks find, out of the stage, pending (pend) or, on the staged path,
 * rejected now from the spill file. Returns how many. */
static size_t check_rows(struct load *L, struct pending *pend);

/* The stage's upsert, once more without the rows the checks refuse: NULL
 * when done. */
static PGresult *upsert_checked(struct load *L, unsigned long long rows, struct pending *pend)
{
	PGresult *r;
	size_t k;

	if (!L->t.nchecks)
		return upsert(L, rows);
	sql_run(&L->db, "SAVEPOINT gx_up");
	if (!(r = upsert(L, rows))) {
		sql_run(&L->db, "RELEASE SAVEPOINT gx_up");
		return NULL;
	}
	sql_run(&L->db, "ROLLBACK TO SAVEPOINT gx_up");
	if (!(k = check_rows(L, pend)))
		return r;	/* not theirs */
	PQclear(r);
	if ((r = upsert(L, rows - k)))
		return r;
	sql_run(&L->db, "RELEASE SAVEPOINT gx_up");
	return NULL;
}

/* A careful batch, in savepoint gx_batch (see the top). */
static void careful_batch(struct load *L)
{
	struct pending pend = { 0 };
	size_t staged = 0;
	PGresult *r = NULL;

	sql_run(&L->db, "SAVEPOINT gx_batch");
	if (stage_batch(L, &pend, &staged) && !(r = upsert_checked(L, staged, &pend))) {
		sql_run(&L->db, L->t.done_sql.s);
		if (pend.n)	/* in line order, as they came */
			qsort(pend.v, pend.n, sizeof *pend.v, by_row);
		for (size_t i = 0; i < pend.n; i++)
			reject_row(L, pend.v[i].row, pend.v[i].sqlstate, pend.v[i].error,
				   pend.v[i].column);
	} else {
		PQclear(r);
		gx_debug("lines %lu..%lu: bisecting", L->b.rows[0].line,
			 L->b.rows[L->b.n - 1].line);
		sql_run(&L->db, "ROLLBACK TO SAVEPOINT gx_batch; RELEASE SAVEPOINT gx_batch");
		apply_rows(L, 0, L->b.n);
	}
	pend_clear(&pend);
	free(pend.v);
}

/* --- the checks ------------------------------------------------------------- */

struct found {
	PGresult *r;
	int i;		/* next row of r */
};

static int spill_found(struct load *L, const struct gx_reader *rec, void *arg)
{
	struct found *f = arg;

	if (rec->control || strtoul(PQgetvalue(f->r, f->i, 0), NULL, 10) != rec->lineno)
		return 1;
	const struct check *c = &L->t.checks[atoi(PQgetvalue(f->r, f->i, 1))];
	reject_record(L, rec, c->sqlstate, c->error, c->column);
	return ++f->i < PQntuples(f->r);
}

static size_t check_rows(struct load *L, struct pending *pend)
{
	/* the staged records whose key wins, as the upsert would write them */
	PGresult *r = sql_exec(&L->db, L->t.check_sql.s);
	size_t n = (size_t)PQntuples(r);

	gx_debug("the checks refuse %zu staged rows", n);
	if (n) {
		unstage(L, r);
		if (pend) {
			for (size_t i = 0; i < n; i++) {
				const struct check *c = &L->t.checks[atoi(PQgetvalue(r, (int)i, 1))];
				size_t row = find_row(&L->b, strtoul(PQgetvalue(r, (int)i, 0), NULL, 10));
				pend_add(pend, row, c->sqlstate, c->error, c->column);
			}
		} else {
			struct found f = { r, 0 };
			spill_each(L, spill_found, &f);
			if (f.i != PQntuples(r))
				gx_die(GX_EXIT_BUG, "a staged line is not in the spill file");
		}
	}
	PQclear(r);
	return n;
}

/* --- the fast paths ------------------------------------------------------- */

static void refused(struct load *L, PGresult *r)
{
	gx_debug("%s path: refused: %s", path_name[L->b.path],
		 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	PQclear(r);
	L->b.refused = 1;
}

static void fast_open(struct load *L)
{
	session_unbounded(&L->db, 1);	/* the COPY lasts as long as the input */
	copy_start(&L->db, L->b.path == PATH_DIRECT ? L->t.direct_sql.s : L->t.copy_sql.s);
	L->b.copying = 1;
}

/* Ends the open COPY: its rows are in, or the load was refused. */
static void fast_close(struct load *L)
{
	PGresult *r = copy_end(&L->db);

	L->b.copying = 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		if (!record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE)))
			gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(L->db.pg));
		refused(L, r);
		return;
	}
	if (L->b.path == PATH_DIRECT)
		L->n.created += strtoull(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	session_unbounded(&L->db, 0);
}

/* The stage holds the stream: one upsert (with the checks if refused). */
static void staged_apply(struct load *L)
{
	PGresult *r;

	if (!L->b.sent)
		return;
	if ((r = upsert_checked(L, L->b.sent, NULL)))
		refused(L, r);
	else
		sql_run(&L->db, L->t.keep_sql.s);
}

/* The spill file could not take the chunk: what was sent is applied, and
 * the load goes on careful, from this chunk (or, refused, starts again). */
static void fast_leave(struct load *L)
{
	struct batch *b = &L->b;

	if (b->copying)
		fast_close(L);
	if (!b->refused && b->path == PATH_STAGED)
		staged_apply(L);
	if (b->refused)
		return;
	if (b->path == PATH_DIRECT)
		batch_restage(b, &L->t);
	gx_debug("careful from line %lu on", b->n ? b->rows[0].line : 0);
	b->path = PATH_CAREFUL;
	b->sent = 0;
	buf_free(&b->spill_buf);
}

/* Sends the chunk (after the spill file has its lines). */
static void fast_flush(struct load *L)
{
	struct batch *b = &L->b;

	if (!b->n)
		return;
	if (!spill_sync(b)) {
		fast_leave(L);
		return;
	}
	if (!b->copying)
		fast_open(L);
	int spoke = copy_put(&L->db, b->text.s, b->text.len);
	b->sent += b->n;
	batch_reset(b);
	if (spoke)
		fast_close(L);
}

/* Back to the state before the first record, in a new transaction, on the
 * next path: what was loaded, counted and rejected so far is loaded,
 * counted and rejected again by the replay. */
static void restart(struct load *L)
{
	struct batch *b = &L->b;

	rollback(&L->db);
	b->path = b->path == PATH_DIRECT ? PATH_STAGED : PATH_CAREFUL;
	if (b->path != PATH_CAREFUL && !spill_sync(b))
		b->path = PATH_CAREFUL;
	gx_debug("a record was refused: loading again from the start, %s", path_name[b->path]);
	b->refused = b->copying = 0;
	b->sent = 0;
	b->unordered = b->keys_seen = 0;
	load_begin(L);
	L->n.processed = L->n.created = L->n.updated = L->n.rejected = L->n.duplicates = 0;
	buf_reset(&L->prune.kept_keys);
	batch_reset(b);
	if (L->rej.f && (fflush(L->rej.f) != 0 || ftruncate(fileno(L->rej.f), 0) != 0 ||
			 fseek(L->rej.f, 0, SEEK_SET) != 0))
		gx_die(GX_EXIT_DATA, "%s: write error", L->rej.path);
}

void batch_recover(struct load *L)
{
	while (L->b.refused) {
		restart(L);
		spill_replay(L);
	}
}

const char *batch_path(const struct batch *b)
{
	return path_name[b->path];
}

/* A full batch: applied (careful) or sent on as the stream's next chunk. */
static void batch_send(struct load *L)
{
	if (L->b.path == PATH_CAREFUL)
		batch_apply(L);
	else
		fast_flush(L);
}

void batch_apply(struct load *L)
{
	struct batch *b = &L->b;

	if (b->path == PATH_CAREFUL) {
		if (b->n)
			careful_batch(L);
		batch_reset(b);
		return;
	}
	fast_flush(L);
	if (b->path == PATH_CAREFUL) {	/* the spill file gave out */
		batch_apply(L);
		return;
	}
	if (!b->refused && b->copying)
		fast_close(L);
	if (!b->refused && b->path == PATH_STAGED)
		staged_apply(L);
	b->sent = 0;
}

void batch_finish(struct load *L)
{
	batch_apply(L);
	while (L->b.refused) {
		batch_recover(L);
		batch_apply(L);
	}
}

void batch_add(struct load *L, const struct gx_reader *r)
{
	const char *why, *sqlstate;

	L->n.processed++;
	if (copy_add(&L->b, &L->t, r, &why, &sqlstate) < 0)
		reject_record(L, r, sqlstate, why, NULL);
	else if (L->b.n >= L->b.size ||
		 L->b.text.len >= (L->b.path == PATH_CAREFUL ? CAREFUL_BYTES : FAST_CHUNK))
		batch_send(L);
}
