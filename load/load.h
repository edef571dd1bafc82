/* gx-load internals: one struct load holds the run, the files split it into
 * the target's catalog (target.c), NDJSON -> COPY text (copy.c), applying a
 * batch with bisection of failures (batch.c) and the run's outcome
 * (report.c). */
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

	/* the stream's columns: the keys of the first record */
	char **cols;
	size_t *collen, ncols;
	size_t *pos;			/* scratch: column -> field of a record */
	int set_created, set_updated;	/* we fill sync_created_at / _updated_at */
	gx_buf copy_sql, upsert_sql;

	struct batch b;
	gx_buf scratch;

	/* counts */
	unsigned long long processed, created, updated, rejected, duplicates;
	unsigned long long upstream_rejected;
	double start, end;
};

/* target.c */
void target_check(struct load *L);
void target_prepare(struct load *L, const struct gx_reader *r);

/* copy.c: 0 and the record in the batch, or -1 and why in *why (static). */
int copy_add(struct load *L, const struct gx_reader *r, const char **why,
	     const char **sqlstate);
PGresult *copy_send(struct load *L, size_t lo, size_t hi);
void batch_reset(struct batch *b);
void batch_free(struct batch *b);

/* batch.c */
void batch_apply(struct load *L);
void reject(struct load *L, unsigned long line, const char *orig, size_t orig_len,
	    const char *sqlstate, const char *error, const char *column);
void rollback(struct load *L);

/* report.c */
void run_check(struct load *L, const char *run);
void run_finish(struct load *L, const char *run, const gx_buf *end_marker, int dry_run);
/* The summary line on stderr; with stats (opened early, so that a bad path
 * fails before loading) the same as JSON. */
void report(const struct load *L, FILE *stats, const char *stats_path);

#endif
