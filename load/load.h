/* gx-load internals. struct load is the run, made of one part per owner:
 * the PostgreSQL session with its bounds and signals (session.c), the
 * target's catalog and SQL (target.c), the batch: NDJSON -> COPY text
 * (copy.c), applied with bisection of failures (batch.c), the input kept
 * for a replay (spill.c), --prune (prune.c) and the counts, reported with
 * the run's outcome (report.c). A file writes its own part; main.c and
 * batch.c, which run the steps, hand each file the parts it needs. */
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

/* session.c: the connection. Every statement goes through session.c, bounded
 * by --timeout. */
struct session {
	PGconn *pg;
	unsigned timeout;		/* --timeout seconds, 0: none */
};

/* target.c: the table, its key, the stream's columns (the keys of the first
 * record) and the SQL of a batch, built from them. */
struct target {
	const char *table;		/* as given: SCHEMA.TABLE */
	gx_buf ident;			/* the table as a quoted identifier */
	char **keys;
	size_t nkeys;
	enum load_mode mode;
	char **cols;
	size_t *collen, ncols;
	size_t *keycol;			/* key -> its column */
	int set_created, set_updated;	/* we fill sync_created_at / _updated_at */
	gx_buf stage_sql, copy_sql, upsert_sql;
	gx_buf upsert_unique_sql;	/* the same for a stage without a key twice */
	gx_buf direct_sql;		/* COPY straight into the target */
	gx_buf now_tail;		/* its sync_* values: the run's now() */
	int empty;			/* no rows at BEGIN, nothing against a direct COPY */
	gx_buf check_sql;		/* the stage's rows the upsert would refuse */
	struct check { const char *sqlstate; char *error, *column; } *checks;
	size_t nchecks, checks_cap;
	gx_buf keep_sql;		/* after a batch: keep its keys, empty the stage */
	gx_buf done_sql;		/* the same, and release its savepoint */
};

/* How the records reach the target (batch.c). A load starts on the first
 * path it can take and moves down at the first record PostgreSQL refuses,
 * replaying the input from the spill file. */
enum path {
	PATH_STAGED,	/* one COPY into the stage, one upsert at the end */
	PATH_DIRECT,	/* one COPY straight into the target (empty at BEGIN) */
	PATH_CAREFUL	/* --batch records at a time, each in a savepoint */
};

/* One buffered record of the batch: its COPY text is text[off, next off),
 * its input line orig[orig_off, orig_off + orig_len). */
struct row {
	size_t off, orig_off, orig_len;
	unsigned long line;
};

/* copy.c and batch.c: COPY text and input lines of the records not yet
 * sent: on the fast paths a chunk, careful up to --batch records kept for
 * retries; memory is bounded by them, not the table. The fast paths need
 * spill.c's copy of the input; without one the load runs careful. */
struct batch {
	gx_buf text, orig;
	struct row *rows;
	size_t n, cap;
	unsigned long long size;	/* --batch */
	size_t *pos;			/* copy.c: column -> field of a record */
	gx_buf scratch;			/* copy.c: a decoded string */
	enum path path;
	int copying;			/* a fast path's COPY is open */
	int refused;			/* a fast path met a refusal: start again */
	unsigned long long sent;	/* records in the fast path's COPYs */
	int unordered, keys_seen;	/* copy.c: keys not strictly ascending */
	long long last_key;
	/* spill.c */
	int spill_fd;			/* -1: none */
	int spilled;			/* there was one */
	int spill_full;			/* a write failed: no more lines */
	gx_buf spill_buf;		/* lines not yet written */
	unsigned long long spill_len;	/* bytes written */
	unsigned long replayed;		/* lines replayed so far */
};

/* batch.c, reject(): --rejects, --max-errors and --max-error-rate. */
struct rejects {
	const char *path;
	FILE *f;
	unsigned long long max;
	double rate;			/* --max-error-rate, < 0: none */
	gx_buf line;
};

/* keep.c: with --run, the rejects kept by key in orchestration.sync_rejects,
 * in the load's transaction, and the open ones this run settles. */
struct keep {
	const char *run;		/* --run; NULL: nothing is kept */
	char *entity;			/* the run's entity (its sync_type) */
	unsigned long long open;	/* its open rejects when the load began */
	gx_buf copy, gone;		/* COPY text not yet sent: rejects, gone keys */
	gx_buf scratch;
	unsigned long long unkeyed;	/* rejects without a key (not kept) */
	unsigned long long map_rejects;	/* gx-map's reject lines so far */
	unsigned long long kept, closed_loaded, closed_gone;	/* keep_apply */
};

/* prune.c: --prune. */
struct prune {
	enum prune_mode mode;
	double max;			/* --prune-max: percent of the target */
	unsigned long long base;	/* its (live) rows before the load */
	int stamp;			/* the table has sync_updated_at */
	gx_buf kept_keys;		/* COPY text of rejected records' keys */
};

/* verify.c: --verify [--repair]. The batch's statement (target.upsert_sql)
 * is then its comparison; the upsert is kept here for the repair. */
struct verify {
	int on, repair;
	const char *report_path;	/* --report */
	FILE *report;
	int *nullable;			/* per key: may hold NULL */
	gx_buf upsert_sql;
	unsigned long long base;	/* the target's rows before */
	unsigned long long missing, extra, different;
	gx_buf columns;			/* {"col": rows differing in it, ...} */
};

/* The counts: of batch.c, prune_apply and the end marker (main.c); report.c
 * reports them. */
struct counts {
	unsigned long long processed, created, updated, rejected, duplicates, deleted;
	unsigned long long upstream_rejected;
	double start, end;
};

struct load {
	struct session db;
	struct target t;
	struct batch b;
	struct rejects rej;
	struct keep keep;
	struct prune prune;
	struct counts n;
	struct verify v;
	int dry_run;
};

/* main.c: BEGIN and what the transaction holds before the first batch (the
 * staging table once the columns are known, --prune's gx_seen): at the start
 * and again for a careful replay (batch.c). */
void load_begin(struct load *L);

/* session.c: statements are bounded by --timeout from deadline() until
 * deadline_off() (called before waiting on the input again). */
void session_open(struct session *db, const char *conninfo);
void deadline(const struct session *db);
void deadline_off(const struct session *db);
void sql_run(struct session *db, const char *sql);
PGresult *sql_exec(struct session *db, const char *sql);
PGresult *sql_execp(struct session *db, const char *sql, int n, const char *const *vals);
PGresult *sql_try(struct session *db, const char *sql);	/* no check */
void rollback(struct session *db);
void session_commit(struct session *db);
void session_unbounded(struct session *db, int on);

/* target.c */
void target_check(struct target *t, struct session *db);
/* After target_prepare: whether the load may COPY straight into the
 * target (empty, no rules), and the checks the upsert would fail. */
void target_paths(struct target *t, struct session *db, int direct, int checks);
void target_prepare(struct target *t, struct session *db, const struct gx_reader *r,
		    enum prune_mode prune);
/* After target_prepare: sql runs first after each applied batch, while
 * the stage holds it. */
void target_per_batch(struct target *t, const char *sql);
void target_stage(struct target *t, struct session *db);
void target_free(struct target *t);

/* copy.c: 0 and the record in the batch, or -1 and why in *why (static). */
int copy_add(struct batch *b, const struct target *t, const struct gx_reader *r,
	     const char **why, const char **sqlstate);
PGresult *copy_rows(struct session *db, const struct target *t, const struct batch *b,
		    size_t lo, size_t hi, size_t *upto);
size_t row_end(const struct batch *b, size_t i);
void batch_restage(struct batch *b, const struct target *t);
/* A COPY in parts: copy_put returns 1 when the server spoke meanwhile
 * (a refusal: end the COPY now). */
void copy_start(struct session *db, const char *sql);
int copy_put(struct session *db, const char *p, size_t n);
PGresult *copy_end(struct session *db);
PGresult *copy_text(struct session *db, const char *sql, const char *p, size_t n);
/* For --prune: the keys of a rejected record, from its fields or from its
 * row of the batch, go to kept (unless it has none). */
void copy_keep_keys(gx_buf *kept, struct batch *b, const struct target *t,
		    const struct gx_reader *r);
void batch_keep_keys(gx_buf *kept, const struct batch *b, const struct target *t,
		     size_t row);
void batch_reset(struct batch *b);
void batch_free(struct batch *b);

/* batch.c: batch_add takes a record (counted, rejected or added to the
 * batch, which is applied when full); batch_apply applies the rest. */
void batch_add(struct load *L, const struct gx_reader *r);
void batch_apply(struct load *L);
/* After batch_add: a fast path that met a refusal starts again, down the
 * paths, from the spill file. */
void batch_recover(struct load *L);
/* At the end marker: the rest applied, down the paths if refused. */
void batch_finish(struct load *L);
const char *batch_path(const struct batch *b);	/* "copy", "staged", "careful" */
void reject(struct load *L, unsigned long line, const char *orig, size_t orig_len,
	    const char *sqlstate, const char *error, const char *column);
/* Rolls back and dies when the rejects are too many (threshold.h): before
 * the end of the stream, or (final) at it, with gx-map's counted too. */
void reject_check(struct load *L, unsigned long line, int final);
/* 1 for an error a record can cause (bad value, constraint), 0 for the
 * server's or ours. */
int record_error(const char *sqlstate);

/* spill.c: the input so far, for a replay. spill_sync writes what is
 * buffered: 0 when there is no spill file (any more); the file then holds
 * exactly the lines of the last successful sync. spill_replay feeds them
 * to batch_add again. */
void spill_open(struct batch *b);
void spill_line(struct batch *b, const struct gx_reader *r);
int spill_sync(struct batch *b);
void spill_replay(struct load *L);
/* fn for each line of the file and the buffer, while it returns 1. */
typedef int (*spill_fn)(struct load *L, const struct gx_reader *r, void *arg);
void spill_each(struct load *L, spill_fn fn, void *arg);
void spill_close(struct batch *b);

/* prune.c; prune_apply returns the rows deleted. */
void prune_begin(struct prune *p, const struct target *t, struct session *db);
void prune_check_end(const struct target *t, struct session *db, const struct gx_reader *end,
		     unsigned long long upstream_rejected);
unsigned long long prune_apply(struct prune *p, const struct target *t, struct session *db);

/* verify.c: verify_begin after BEGIN (in load_begin), verify_prepare after
 * target_prepare, verify_check_end at the end marker, verify_apply after
 * the last batch (drift counted and reported; with --repair, repaired or
 * refused), verify_record in place of run_finish (error: a refusal). */
void verify_begin(struct load *L);
void verify_prepare(struct load *L);
void verify_check_end(struct load *L, const struct gx_reader *end);
void verify_apply(struct load *L, const char *run, const gx_buf *end);
void verify_record(struct load *L, const char *run, const gx_buf *end, const char *error);
void verify_free(struct verify *v);

/* keep.c: keep_start names the run's entity; keep_begin (in load_begin)
 * makes the transaction's temporary tables and counts the open rejects;
 * keep_prepare (after target_prepare) makes each batch note, while staged,
 * the open ones it loads; keep_control takes gx-map's "reject" and
 * gx-extract's "gone" lines; keep_load_reject a record this load refused;
 * keep_apply settles orchestration.sync_rejects before the run is finished. */
void keep_start(struct keep *k, struct session *db, const char *run);
void keep_begin(struct keep *k, struct session *db);
void keep_prepare(const struct keep *k, struct target *t);
void keep_control(struct keep *k, struct session *db, const struct target *t,
		  const struct gx_reader *r);
void keep_load_reject(struct keep *k, struct session *db, const struct target *t,
		      unsigned long line, const char *orig, size_t orig_len,
		      const char *sqlstate, const char *error, const char *column);
void keep_apply(struct keep *k, struct session *db);
/* {"rejects_kept":B,...} for the run's performance_metrics. */
void keep_metrics(const struct keep *k, gx_buf *json);
void keep_free(struct keep *k);

/* report.c */
void run_check(struct session *db, const char *run);
void run_finish(struct load *L, const char *run, const gx_buf *end_marker, int dry_run);
/* The summary line on stderr; with stats (opened early, so that a bad path
 * fails before loading) the same as JSON. */
void report(const struct load *L, FILE *stats, const char *stats_path);

#endif
