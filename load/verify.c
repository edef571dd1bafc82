/* --verify [--repair]: the stream (a whole-table read) against the target,
 * on every column of the stream, without writing to the target unless
 * asked to repair.
 *
 * The batches of the load are reused as they are: COPY into the stage, then
 * the batch's statement, which here is a comparison instead of the upsert
 * (verify_prepare swaps them): the stage's rows whose key the target lacks
 * (missing) or whose columns differ as the upsert would see them (IS
 * DISTINCT FROM; different, with the columns) go to pg_temp.gx_drift, and
 * with --repair the rows themselves to pg_temp.gx_fix; the batch's keys go
 * to pg_temp.gx_seen. At the end marker the target's keys that never came
 * are the extras (an anti-join with gx_seen). Everything stays on the
 * server, so gx-load's memory is the batch's, whatever the table or the
 * drift; the target is only read (no row lock, no new row version) until a
 * repair writes the drifted rows.
 *
 * A repair is one statement each for the missing and different rows (the
 * load's own upsert, from gx_fix) and for the extras (a delete NULL-safe on
 * the key), at the end, in the one transaction of the run: a truncated
 * stream or a refused repair then changes nothing, and the transaction's
 * writes are exactly the drift. Deletes are guarded as --prune's are: only
 * after a complete read with nothing rejected, and at most --prune-max
 * percent of the table. */
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define STAGE "pg_temp.gx_stage"
#define SEEN "pg_temp.gx_seen"
#define DRIFT "pg_temp.gx_drift"
#define FIX "pg_temp.gx_fix"
#define SHOWN "20"	/* drifted rows named on stderr; all in --report */

/* A column's name as an SQL string literal. */
static void add_literal(gx_buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addc(b, '\'');
		buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

static int is_key(const struct target *t, size_t col)
{
	for (size_t k = 0; k < t->nkeys; k++)
		if (t->keycol[k] == col)
			return 1;
	return 0;
}

static void add_keys(gx_buf *b, const struct target *t, const char *pre)
{
	for (size_t k = 0; k < t->nkeys; k++) {
		buf_addf(b, "%s%s", k ? ", " : "", pre ? pre : "");
		gx_pg_add_ident(b, t->keys[k]);
	}
}

/* jsonb_build_object('k1', pre.k1, ...): a key as the report shows it. */
static void add_key_json(gx_buf *b, const struct target *t, const char *pre)
{
	buf_adds(b, "jsonb_build_object(");
	for (size_t k = 0; k < t->nkeys; k++) {
		if (k)
			buf_adds(b, ", ");
		add_literal(b, t->keys[k]);
		buf_addf(b, ", %s", pre);
		gx_pg_add_ident(b, t->keys[k]);
	}
	buf_addc(b, ')');
}

/* A key column that may hold NULL (a UNIQUE NULLS NOT DISTINCT key). */
static void find_nullable(struct verify *v, const struct target *t, struct session *db)
{
	v->nullable = gx_malloc(t->nkeys * sizeof *v->nullable);
	for (size_t k = 0; k < t->nkeys; k++) {
		const char *p[] = { t->ident.s, t->keys[k] };
		PGresult *r = sql_execp(db, "SELECT NOT a.attnotnull FROM pg_attribute a"
					" WHERE a.attrelid = to_regclass($1) AND a.attname = $2"
					" AND a.attnum > 0 AND NOT a.attisdropped", 2, p);

		v->nullable[k] = PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), "t");
		PQclear(r);
	}
}

/* The stream's row s and the target's row t have the same key, NULL-safely.
 * For the batch's join, an equality the target's unique index can serve
 * (for a nullable key, OR'ed with both NULL: a bitmap OR of two index
 * scans); for the anti-join of the extras, two equalities a hash join can
 * use (IS NOT DISTINCT FROM can be neither):
 *   (s.k IS NULL) = (t.k IS NULL) AND COALESCE(s.k::text, '') = COALESCE(t.k::text, '') */
static void add_match(gx_buf *b, const struct target *t, const int *nullable, int hashed)
{
	for (size_t k = 0; k < t->nkeys; k++) {
		const char *c = t->keys[k];

		buf_adds(b, k ? " AND " : "");
		if (!nullable[k]) {
			buf_adds(b, "s."), gx_pg_add_ident(b, c);
			buf_adds(b, " = t."), gx_pg_add_ident(b, c);
		} else if (!hashed) {
			buf_adds(b, "(s."), gx_pg_add_ident(b, c);
			buf_adds(b, " = t."), gx_pg_add_ident(b, c);
			buf_adds(b, " OR (s."), gx_pg_add_ident(b, c);
			buf_adds(b, " IS NULL AND t."), gx_pg_add_ident(b, c);
			buf_adds(b, " IS NULL))");
		} else {
			buf_adds(b, "(s."), gx_pg_add_ident(b, c);
			buf_adds(b, " IS NULL) = (t."), gx_pg_add_ident(b, c);
			buf_adds(b, " IS NULL) AND COALESCE(s."), gx_pg_add_ident(b, c);
			buf_adds(b, "::text, '') = COALESCE(t."), gx_pg_add_ident(b, c);
			buf_adds(b, "::text, '')");
		}
	}
}

/* Per stream column: compare it as text (a type with no equality operator,
 * such as json or point), as the upsert does. */
static char *text_columns(const struct target *t, struct session *db)
{
	const char *p[] = { t->ident.s };
	PGresult *r = sql_execp(db, "SELECT a.attname FROM pg_attribute a"
				" WHERE a.attrelid = to_regclass($1) AND a.attnum > 0"
				" AND NOT a.attisdropped AND NOT EXISTS (SELECT 1 FROM pg_operator o"
				"  WHERE o.oprname = '=' AND o.oprleft = a.atttypid"
				"  AND o.oprright = a.atttypid)", 1, p);
	char *as_text = gx_malloc(t->ncols);

	for (size_t i = 0; i < t->ncols; i++) {
		as_text[i] = 0;
		for (int row = 0; row < PQntuples(r); row++)
			as_text[i] |= !strcmp(PQgetvalue(r, row, 0), t->cols[i]);
	}
	PQclear(r);
	return as_text;
}

static void add_col(gx_buf *b, const struct target *t, const char *pre, size_t i,
		    const char *as_text)
{
	buf_adds(b, pre);
	gx_pg_add_ident(b, t->cols[i]);
	if (as_text[i])
		buf_adds(b, "::text");
}

/* The batch's statement: its drifted rows into gx_drift (and gx_fix), with
 * the three counts the upsert returns (nothing created or updated; the
 * distinct keys, for the duplicates). */
static void build_compare(struct verify *v, const struct target *t, const char *as_text,
			  gx_buf *b)
{
	int nonkey = t->ncols > t->nkeys, first;

	buf_adds(b, "WITH gx_src AS (SELECT DISTINCT ON (");
	add_keys(b, t, NULL);
	buf_adds(b, ") * FROM " STAGE " ORDER BY ");
	add_keys(b, t, NULL);
	buf_adds(b, ", gx_line DESC), gx_d AS (SELECT s.*, t.ctid IS NULL AS gx_missing, "
		 "CASE WHEN t.ctid IS NOT NULL THEN array_remove(ARRAY[");
	first = 1;
	for (size_t i = 0; i < t->ncols; i++) {
		if (is_key(t, i))
			continue;
		buf_adds(b, first ? "CASE WHEN " : ", CASE WHEN ");
		first = 0;
		add_col(b, t, "s.", i, as_text);
		buf_adds(b, " IS DISTINCT FROM ");
		add_col(b, t, "t.", i, as_text);
		buf_adds(b, " THEN ");
		add_literal(b, t->cols[i]);
		buf_adds(b, " END");
	}
	buf_adds(b, "]::text[], NULL) END AS gx_columns FROM gx_src s LEFT JOIN ");
	buf_add(b, t->ident.s, t->ident.len);
	buf_adds(b, " t ON ");
	add_match(b, t, v->nullable, 0);
	buf_adds(b, " WHERE t.ctid IS NULL");
	if (nonkey) {
		buf_adds(b, " OR ROW(");
		for (size_t i = 0, n = 0; i < t->ncols; i++)
			if (!is_key(t, i)) {
				buf_adds(b, n++ ? ", " : "");
				add_col(b, t, "s.", i, as_text);
			}
		buf_adds(b, ") IS DISTINCT FROM ROW(");
		for (size_t i = 0, n = 0; i < t->ncols; i++)
			if (!is_key(t, i)) {
				buf_adds(b, n++ ? ", " : "");
				add_col(b, t, "t.", i, as_text);
			}
		buf_adds(b, ")");
	}
	buf_adds(b, "), gx_r AS (INSERT INTO " DRIFT " SELECT CASE WHEN gx_missing THEN "
		 "'missing' ELSE 'different' END, ");
	add_key_json(b, t, "d.");
	buf_adds(b, ", gx_columns, gx_line FROM gx_d d)");
	if (v->repair) {
		buf_adds(b, ", gx_f AS (INSERT INTO " FIX " SELECT ");
		for (size_t i = 0; i < t->ncols; i++) {
			buf_adds(b, i ? ", " : "");
			gx_pg_add_ident(b, t->cols[i]);
		}
		buf_adds(b, ", gx_line FROM gx_d)");
	}
	buf_adds(b, " SELECT 0, 0, (SELECT count(*) FROM gx_src)");
}

static void create_fix(struct load *L)
{
	if (L->v.repair)
		sql_run(&L->db, "CREATE TEMP TABLE gx_fix ON COMMIT DROP AS SELECT * FROM "
			STAGE " WITH NO DATA");
}

/* In the transaction, after BEGIN (again for a careful replay): the empty
 * gx_seen (typed as the target's keys) and gx_drift, the target's size. */
void verify_begin(struct load *L)
{
	struct verify *v = &L->v;
	gx_buf sql = GX_BUF_INIT;
	PGresult *r;

	buf_adds(&sql, "CREATE TEMP TABLE gx_seen ON COMMIT DROP AS SELECT ");
	add_keys(&sql, &L->t, NULL);
	buf_adds(&sql, " FROM ");
	buf_add(&sql, L->t.ident.s, L->t.ident.len);
	buf_adds(&sql, " WITH NO DATA");
	sql_run(&L->db, sql.s);
	sql_run(&L->db, "CREATE TEMP TABLE gx_drift (gx_kind text, gx_key jsonb, "
		"gx_columns text[], gx_line bigint) ON COMMIT DROP");
	if (L->t.cols)
		create_fix(L);
	buf_reset(&sql);
	buf_adds(&sql, "SELECT count(*) FROM ");
	buf_add(&sql, L->t.ident.s, L->t.ident.len);
	r = sql_exec(&L->db, sql.s);
	v->base = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	buf_free(&sql);
}

/* From the first record, after target_prepare: the batch's statement
 * becomes the comparison (the upsert is kept for the repair), and a batch
 * keeps its keys in gx_seen before the stage is emptied. */
void verify_prepare(struct load *L)
{
	struct verify *v = &L->v;
	struct target *t = &L->t;
	char *as_text;

	for (size_t i = 0; i < t->ncols; i++)
		if (!strncmp(t->cols[i], "gx_", 3) && (!strcmp(t->cols[i], "gx_missing") ||
						       !strcmp(t->cols[i], "gx_columns")))
			gx_die(GX_EXIT_DATA, "column \"%s\" is reserved for --verify", t->cols[i]);
	find_nullable(v, t, &L->db);
	as_text = text_columns(t, &L->db);
	buf_add(&v->upsert_sql, t->upsert_sql.s, t->upsert_sql.len);
	buf_reset(&t->upsert_sql);
	build_compare(v, t, as_text, &t->upsert_sql);
	gx_debug("compare: %s", t->upsert_sql.s);
	free(as_text);

	/* Before what target_prepare put there (emptying the stage). */
	gx_buf sql = GX_BUF_INIT;
	buf_adds(&sql, "INSERT INTO " SEEN " SELECT ");
	add_keys(&sql, t, NULL);
	buf_adds(&sql, " FROM " STAGE "; ");
	size_t n = sql.len;
	buf_add(&sql, t->keep_sql.s, t->keep_sql.len);
	buf_free(&t->keep_sql);
	t->keep_sql = sql;
	sql = (gx_buf)GX_BUF_INIT;
	buf_add(&sql, t->keep_sql.s, n);
	buf_add(&sql, t->done_sql.s, t->done_sql.len);
	buf_free(&t->done_sql);
	t->done_sql = sql;
	create_fix(L);
}

/* Extras are the target's keys a stream lacks only when the stream read
 * the whole table: its end marker names no window. */
void verify_check_end(struct load *L, const struct gx_reader *end)
{
	static const char *const window[] = { "since", "until", "after", "limit", "more",
					      "shard", "shard_bounds" };

	for (size_t i = 0; i < sizeof window / sizeof window[0]; i++) {
		const struct gx_field *f = reader_get(end, window[i]);
		if (!f || f->type == GX_NULL || (f->type == GX_BOOL && f->val[0] == 'f'))
			continue;
		rollback(&L->db);
		gx_die(GX_EXIT_DATA, "%s: --verify needs a complete read of the table, and the "
		       "stream's end marker has \"%s\": rolled back, nothing compared",
		       L->t.table, window[i]);
	}
}

static unsigned long long count_of(struct session *db, const char *sql)
{
	PGresult *r = sql_exec(db, sql);
	unsigned long long n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);

	PQclear(r);
	return n;
}

/* The extras into gx_drift: target rows whose key the stream never had. */
static void find_extras(struct load *L)
{
	gx_buf sql = GX_BUF_INIT;

	/* The planner needs the size of gx_seen for a hash anti-join. */
	sql_run(&L->db, "ANALYZE " SEEN);
	buf_adds(&sql, "INSERT INTO " DRIFT " SELECT 'extra', ");
	add_key_json(&sql, &L->t, "t.");
	buf_adds(&sql, ", NULL, NULL FROM ");
	buf_add(&sql, L->t.ident.s, L->t.ident.len);
	buf_adds(&sql, " t WHERE NOT EXISTS (SELECT 1 FROM " SEEN " s WHERE ");
	if (!L->v.nullable)	/* no record came: every row is an extra */
		buf_adds(&sql, "true");
	else
		add_match(&sql, &L->t, L->v.nullable, 1);
	buf_adds(&sql, ")");
	sql_run(&L->db, sql.s);
	buf_free(&sql);
}

/* The drift's counts, per kind and per column ({"col": n, ...}). */
static void count_drift(struct load *L)
{
	struct verify *v = &L->v;
	PGresult *r = sql_exec(&L->db, "SELECT count(*) FILTER (WHERE gx_kind = 'missing'),"
			       " count(*) FILTER (WHERE gx_kind = 'extra'),"
			       " count(*) FILTER (WHERE gx_kind = 'different'),"
			       " (SELECT COALESCE(jsonb_object_agg(c, n), '{}')::text FROM"
			       "  (SELECT c, count(*) AS n FROM " DRIFT ", unnest(gx_columns) c"
			       "   GROUP BY c) x) FROM " DRIFT);

	v->missing = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	v->extra = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	v->different = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	buf_reset(&v->columns);
	buf_adds(&v->columns, PQgetvalue(r, 0, 3));
	PQclear(r);
}

#define DRIFT_ROW "SELECT '{\"kind\":\"' || gx_kind || '\",\"key\":' || gx_key::text ||" \
	" ',\"columns\":' || COALESCE(to_json(gx_columns)::text, 'null') || '}'" \
	" FROM " DRIFT " ORDER BY gx_kind, gx_key"

/* The drifted rows: the first SHOWN on stderr, all of them in --report
 * (through a cursor: a table's worth of drift never sits in our memory). */
static void report_drift(struct load *L)
{
	struct verify *v = &L->v;
	unsigned long long drift = v->missing + v->extra + v->different;
	PGresult *r;

	gx_info("%s: verify: %llu rows compared, %llu drifted: missing %llu, extra %llu, "
		"different %llu%s%s", L->t.table, L->n.processed, drift, v->missing, v->extra,
		v->different, v->different ? "; columns " : "", v->different ? v->columns.s : "");
	if (drift) {
		r = sql_exec(&L->db, DRIFT_ROW " LIMIT " SHOWN);
		for (int i = 0; i < PQntuples(r); i++)
			gx_info("%s: drift: %s", L->t.table, PQgetvalue(r, i, 0));
		if (drift > (unsigned long long)atoi(SHOWN))
			gx_info("%s: drift: ... and %llu more%s", L->t.table, drift - (unsigned long long)atoi(SHOWN),
				v->report ? " (all in the report file)" : "");
		PQclear(r);
	}
	if (!v->report)
		return;
	sql_run(&L->db, "DECLARE gx_rep NO SCROLL CURSOR FOR " DRIFT_ROW);
	do {
		r = sql_exec(&L->db, "FETCH 1000 FROM gx_rep");
		for (int i = 0; i < PQntuples(r); i++)
			if (fprintf(v->report, "%s\n", PQgetvalue(r, i, 0)) < 0)
				gx_die(GX_EXIT_DATA, "%s: write error", v->report_path);
		int n = PQntuples(r);
		PQclear(r);
		if (!n)
			break;
	} while (1);
	sql_run(&L->db, "CLOSE gx_rep");
	if (fclose(v->report) != 0)
		gx_die(GX_EXIT_DATA, "%s: write error", v->report_path);
	v->report = NULL;
}

/* A refused repair: nothing changed; the run, with what the verify found,
 * is recorded as failed. */
static noreturn void refuse(struct load *L, const char *run, const gx_buf *end, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof msg, "%s: --repair refused: %s; rolled back, nothing repaired",
		 L->t.table, why);
	rollback(&L->db);
	L->n.created = L->n.updated = L->n.deleted = 0;
	L->n.end = gx_clock();
	if (run)
		verify_record(L, run, end, msg);
	gx_die(GX_EXIT_DATA, "%s", msg);
}

/* The repair: the missing and different rows through the load's upsert,
 * the extras deleted, NULL-safe on the key. */
static void repair(struct load *L, const char *run, const gx_buf *end)
{
	struct verify *v = &L->v;
	unsigned long long rejected = L->n.rejected + L->n.upstream_rejected;
	gx_buf sql = GX_BUF_INIT;
	char why[256];
	PGresult *r;

	if (v->extra && rejected) {
		snprintf(why, sizeof why, "%llu records were rejected, and the rows of their "
			 "keys would be deleted", rejected);
		refuse(L, run, end, why);
	}
	if ((double)v->extra * 100 > L->prune.max * (double)v->base) {
		snprintf(why, sizeof why, "it would delete %llu of the %llu rows (%.1f%%), more "
			 "than --prune-max %g%%", v->extra, v->base,
			 v->base ? 100.0 * (double)v->extra / (double)v->base : 100.0, L->prune.max);
		refuse(L, run, end, why);
	}
	if (v->missing + v->different) {
		sql_run(&L->db, "TRUNCATE " STAGE "; INSERT INTO " STAGE " SELECT * FROM " FIX);
		r = sql_try(&L->db, v->upsert_sql.s);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			if (!record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE)))
				gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(L->db.pg));
			snprintf(why, sizeof why, "PostgreSQL refused a drifted row: %s",
				 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
			PQclear(r);
			refuse(L, run, end, why);
		}
		L->n.created = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		L->n.updated = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
		PQclear(r);
	}
	if (v->extra) {
		buf_adds(&sql, "WITH gx_gone AS (DELETE FROM ");
		buf_add(&sql, L->t.ident.s, L->t.ident.len);
		buf_adds(&sql, " t WHERE NOT EXISTS (SELECT 1 FROM " SEEN " s WHERE ");
		if (!v->nullable)
			buf_adds(&sql, "true");
		else
			add_match(&sql, &L->t, v->nullable, 1);
		buf_adds(&sql, ") RETURNING 1) SELECT count(*) FROM gx_gone");
		L->n.deleted = count_of(&L->db, sql.s);
	}
	gx_info("%s: repaired: inserted %llu, updated %llu, deleted %llu", L->t.table,
		L->n.created, L->n.updated, L->n.deleted);
	buf_free(&sql);
}

/* After the end marker: the extras, the drift's counts and report, and
 * with --repair the repair (or its refusal). */
void verify_apply(struct load *L, const char *run, const gx_buf *end)
{
	find_extras(L);
	count_drift(L);
	report_drift(L);
	if (L->v.repair)
		repair(L, run, end);
}

static const char record_sql[] =
	"UPDATE orchestration.sync_history SET"
	" status = CASE WHEN $15::text IS NOT NULL THEN 'failed'"
	"  WHEN $2::bigint > 0 THEN 'partial' ELSE 'success' END,"
	" error_message = $15::text,"
	" end_time = clock_timestamp(), records_processed = $3::bigint,"
	" records_created = $4::bigint, records_updated = $5::bigint, records_failed = $2::bigint,"
	" performance_metrics = performance_metrics || jsonb_build_object("
	"  'verify', true, 'repair', $13::boolean, 'missing', $9::bigint, 'extra', $10::bigint,"
	"  'different', $11::bigint, 'drift_rows', $9::bigint + $10::bigint + $11::bigint,"
	"  'drift_columns', $12::jsonb, 'deleted', $6::bigint,"
	"  'duration_seconds', $7::numeric, 'records_per_second', $8::numeric,"
	"  'verify_stream', $14::jsonb, 'report_file', $16::text)"
	"  || CASE WHEN $17::boolean THEN '{\"dry_run\": true}'::jsonb ELSE '{}' END"
	" WHERE id = $1::bigint AND status = 'running'";

/* The verify in orchestration.sync_history: its own mode (the caller began
 * the run with configuration.mode 'verify'), never a checkpoint: the end
 * marker is kept as verify_stream, not stream, which gx-state checkpoint
 * reads. error: a refused repair. */
void verify_record(struct load *L, const char *run, const gx_buf *end, const char *error)
{
	const struct verify *v = &L->v;
	const struct counts *n = &L->n;
	double s = n->end - n->start;
	char val[12][32];

	snprintf(val[0], 32, "%llu", n->rejected + n->upstream_rejected);
	snprintf(val[1], 32, "%llu", n->processed);
	snprintf(val[2], 32, "%llu", n->created);
	snprintf(val[3], 32, "%llu", n->updated);
	snprintf(val[4], 32, "%llu", n->deleted);
	snprintf(val[5], 32, "%.3f", s);
	snprintf(val[6], 32, "%.1f", s > 0 ? (double)n->processed / s : (double)n->processed);
	snprintf(val[7], 32, "%llu", v->missing);
	snprintf(val[8], 32, "%llu", v->extra);
	snprintf(val[9], 32, "%llu", v->different);
	const char *p[] = { run, val[0], val[1], val[2], val[3], val[4], val[5], val[6],
			    val[7], val[8], val[9], v->columns.len ? v->columns.s : "{}",
			    v->repair ? "t" : "f", end->len ? end->s : NULL, error,
			    v->report_path, L->dry_run ? "t" : "f" };
	PGresult *r = sql_execp(&L->db, record_sql, 17, p);
	int done = atoi(PQcmdTuples(r)) == 1;

	PQclear(r);
	if (!done)
		gx_die(GX_EXIT_DATA, "--run %s: the run is no longer running: rolled back, "
		       "nothing repaired", run);
}

void verify_free(struct verify *v)
{
	free(v->nullable);
	buf_free(&v->upsert_sql);
	buf_free(&v->columns);
}
