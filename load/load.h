/* gx-load internals: one struct load holds the run, the files split it into
 * the PostgreSQL session with its bounds and signals (session.c), the
 * target's catalog (target.c), NDJSON -> COPY text (copy.c), applying a
 * batch with bisection of failures (batch.c), --prune (prune.c) and the
 * run's outcome (report.c). */
#ifndef GX_LOAD_H
#define GX_LOAD_H

#include "gx.h"
#include "pg.h"
#include "stream.h"

enum load_mode {
	MODE_CHANGED,	/* update a row only when a column differs (default) */
	MODE_FORCE,	/* --force-overwrite: rewrite every existing row */
	MODE_INSERT	/* --insert-only: leave existing rows alone */
};

enum prune_mode {
	PRUNE_NONE,
	PRUNE_HARD,	/* --prune: delete the rows the stream lacks */
	PRUNE_SOFT	/* --prune=soft: set their deleted_at instead */
};

/* One buffered record of the batch: its COPY text is text[off, next off),
 * its input line orig[orig_off, orig_off + orig_len). */
struct row {
	size_t off, orig_off, orig_len;
	unsigned long line;
};

/* The batch: COPY text and input lines of up to --batch records, kept for
 * retries so that memory is bounded by the batch, not the table. */
struct batch {
	gx_buf text, orig;
	struct row *rows;
	size_t n, cap;
};

struct load {
	PGconn *pg;
	const char *table;		/* as given: SCHEMA.TABLE */
	gx_buf ident;			/* the table as a quoted identifier */
	char **keys;
	size_t nkeys;
	enum load_mode mode;
	int dry_run;
	unsigned long long max_errors, batch_size;
	const char *rejects_path;
	FILE *rejects;
	unsigned timeout;		/* --timeout seconds, 0: none */

	enum prune_mode prune;
	double prune_max;		/* percent of the target */
	unsigned long long prune_base;	/* its (live) rows before the load */
	int prune_stamp;		/* the table has sync_updated_at */
	gx_buf kept_keys;		/* COPY text of rejected records' keys */

	/* the stream's columns: the keys of the first record */
	char **cols;
	size_t *collen, ncols;
	size_t *pos;			/* scratch: column -> field of a record */
	size_t *keycol;			/* key -> its column */
	int set_created, set_updated;	/* we fill sync_created_at / _updated_at */
	gx_buf stage_sql, copy_sql, upsert_sql;
	gx_buf keep_sql;		/* after a batch: keep its keys, empty the stage */
	gx_buf done_sql;		/* the same, and release its savepoint */

	/* Batches run without a savepoint until a record is refused, then
	 * all again from the spill file, each in a savepoint (batch.c). */
	int careful;
	FILE *spill;

	struct batch b;
	gx_buf scratch;

	/* counts */
	unsigned long long processed, created, updated, rejected, duplicates, deleted;
	unsigned long long upstream_rejected;
	double start, end;
};

/* session.c: statements are bounded by --timeout from deadline() until
 * deadline_off() (called before waiting on the input again). */
void session_open(struct load *L, const char *conninfo);
void deadline(const struct load *L);
void deadline_off(const struct load *L);
void sql_run(struct load *L, const char *sql);
PGresult *sql_exec(struct load *L, const char *sql);
PGresult *sql_execp(struct load *L, const char *sql, int n, const char *const *vals);
PGresult *sql_try(struct load *L, const char *sql);	/* no check */
void rollback(struct load *L);
void session_commit(struct load *L);

/* target.c */
void target_check(struct load *L);
void target_prepare(struct load *L, const struct gx_reader *r);
void target_stage(struct load *L);

/* copy.c: 0 and the record in the batch, or -1 and why in *why (static). */
int copy_add(struct load *L, const struct gx_reader *r, const char **why,
	     const char **sqlstate);
PGresult *copy_send(struct load *L, size_t lo, size_t hi);
PGresult *copy_text(struct load *L, const char *sql, const char *p, size_t n);
/* For --prune: the keys of a rejected record, from its fields or from its
 * row of the batch, go to L->kept_keys (unless it has none). */
void copy_keep_keys(struct load *L, const struct gx_reader *r);
void batch_keep_keys(struct load *L, size_t row);
void batch_reset(struct batch *b);
void batch_free(struct batch *b);

/* batch.c: batch_add takes a record (counted, rejected or added to the
 * batch, which is applied when full); batch_apply applies the rest. */
void batch_add(struct load *L, const struct gx_reader *r);
void batch_apply(struct load *L);
void reject(struct load *L, unsigned long line, const char *orig, size_t orig_len,
	    const char *sqlstate, const char *error, const char *column);
/* 1 for an error a record can cause (bad value, constraint), 0 for the
 * server's or ours. */
int record_error(const char *sqlstate);

/* spill.c: the input so far, for a careful replay. spill_ready is 0 when
 * there is none (any more): the run is then careful. */
void spill_open(struct load *L);
void spill_line(struct load *L, const struct gx_reader *r);
int spill_ready(struct load *L);
void spill_replay(struct load *L);
void spill_close(struct load *L);

/* prune.c */
void prune_begin(struct load *L);
void prune_check_end(struct load *L, const struct gx_reader *end);
void prune_apply(struct load *L);

/* report.c */
void run_check(struct load *L, const char *run);
void run_finish(struct load *L, const char *run, const gx_buf *end_marker, int dry_run);
/* The summary line on stderr; with stats (opened early, so that a bad path
 * fails before loading) the same as JSON. */
void report(const struct load *L, FILE *stats, const char *stats_path);

#endif
