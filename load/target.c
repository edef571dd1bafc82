/* The target table: checks against its catalog, the staging table and the
 * SQL of one batch (COPY into the stage, upsert from it). */
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define STAGE "pg_temp.gx_stage"
#define LINE_COL "gx_line"

static int is_key(const struct target *t, const char *col)
{
	for (size_t k = 0; k < t->nkeys; k++)
		if (!strcmp(t->keys[k], col))
			return 1;
	return 0;
}

/* The keys as a JSON array of strings: one query parameter for any count. */
static void keys_json(const struct target *t, gx_buf *b)
{
	buf_addc(b, '[');
	for (size_t k = 0; k < t->nkeys; k++) {
		if (k)
			buf_addc(b, ',');
		json_add_str(b, t->keys[k], strlen(t->keys[k]));
	}
	buf_addc(b, ']');
}

/* ON CONFLICT (keys) needs a unique index or constraint on exactly these
 * columns that can arbitrate: not partial, not on expressions, not
 * deferrable. */
static const char unique_sql[] =
	"SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass($1)"
	" AND i.indisunique AND i.indisvalid AND i.indimmediate"
	" AND i.indpred IS NULL AND i.indexprs IS NULL"
	" AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o)"
	"  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n"
	"  WHERE k.o <= i.indnkeyatts ORDER BY 1)"
	" = ARRAY(SELECT jsonb_array_elements_text($2::jsonb) ORDER BY 1)";

/* The table exists and its key columns have a unique index: checked before
 * reading any input, so a wrong --table or --key fails at once. */
void target_check(struct target *t, struct session *db)
{
	gx_buf keys = GX_BUF_INIT;
	PGresult *r;

	for (size_t k = 0; k < t->nkeys; k++)
		for (size_t j = 0; j < k; j++)
			if (!strcmp(t->keys[k], t->keys[j]))
				gx_die(GX_EXIT_DATA, "--key %s given twice", t->keys[k]);
	gx_pg_add_ident(&t->ident, t->table);
	const char *p1[] = { t->ident.s };
	r = sql_execp(db, "SELECT to_regclass($1) IS NOT NULL", 1, p1);
	if (strcmp(PQgetvalue(r, 0, 0), "t"))
		gx_die(GX_EXIT_DATA, "%s: no such table", t->table);
	PQclear(r);

	keys_json(t, &keys);
	const char *p2[] = { t->ident.s, keys.s };
	r = sql_execp(db, unique_sql, 2, p2);
	if (PQntuples(r) == 0) {
		buf_reset(&keys);
		for (size_t k = 0; k < t->nkeys; k++)
			buf_addf(&keys, "%s%s", k ? ", " : "", t->keys[k]);
		gx_die(GX_EXIT_DATA, "%s: no unique index or constraint on exactly (%s): "
		       "the upsert needs one (ON CONFLICT)", t->table, keys.s);
	}
	PQclear(r);
	buf_free(&keys);
}

/* The columns come from the first record: its keys, in its order. */
static void stream_columns(struct target *t, const struct gx_reader *r,
			   enum prune_mode prune)
{
	if (r->nf == 0)
		gx_die(GX_EXIT_DATA, "line %lu: the first record has no columns", r->lineno);
	t->ncols = r->nf;
	t->cols = gx_malloc(r->nf * sizeof *t->cols);
	t->collen = gx_malloc(r->nf * sizeof *t->collen);
	for (size_t i = 0; i < r->nf; i++) {
		t->cols[i] = gx_strndup(r->f[i].key, r->f[i].klen);
		t->collen[i] = r->f[i].klen;
		if (strlen(t->cols[i]) != t->collen[i])
			gx_die(GX_EXIT_DATA, "line %lu: a key holds U+0000", r->lineno);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->cols[i], t->cols[j]))
				gx_die(GX_EXIT_DATA, "line %lu: key \"%s\" appears twice",
				       r->lineno, t->cols[i]);
		if (!strcmp(t->cols[i], LINE_COL))
			gx_die(GX_EXIT_DATA, "line %lu: column \"%s\" is reserved for "
			       "gx-load's staging table", r->lineno, LINE_COL);
	}
	t->keycol = gx_malloc(t->nkeys * sizeof *t->keycol);
	for (size_t k = 0; k < t->nkeys; k++) {
		size_t i = 0;
		while (i < t->ncols && strcmp(t->cols[i], t->keys[k]))
			i++;
		if (i == t->ncols)
			gx_die(GX_EXIT_DATA, "line %lu: key column \"%s\" is not in the "
			       "stream", r->lineno, t->keys[k]);
		t->keycol[k] = i;
	}
	for (size_t i = 0; prune == PRUNE_SOFT && i < t->ncols; i++)
		if (!strcmp(t->cols[i], "deleted_at"))
			gx_die(GX_EXIT_DATA, "line %lu: the stream has a deleted_at column, which "
			       "--prune=soft sets", r->lineno);
}

/* Per target column: exists, is generated, compares as text (a type with
 * no equality operator, such as json, cannot be compared directly). */
static const char columns_sql[] =
	"SELECT a.attname, a.attgenerated <> '', NOT EXISTS (SELECT 1 FROM pg_operator o"
	"  WHERE o.oprname = '=' AND o.oprleft = a.atttypid AND o.oprright = a.atttypid)"
	" FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0"
	" AND NOT a.attisdropped";

/* Checks the stream's columns against the target; returns per column
 * whether to compare it as text. */
static char *check_columns(struct target *t, struct session *db)
{
	const char *p[] = { t->ident.s };
	PGresult *r = sql_execp(db, columns_sql, 1, p);
	char *as_text = gx_malloc(t->ncols);
	gx_buf bad = GX_BUF_INIT;
	int has_created = 0, has_updated = 0;

	for (size_t i = 0; i < t->ncols; i++) {
		int row = 0, n = PQntuples(r);
		while (row < n && strcmp(PQgetvalue(r, row, 0), t->cols[i]))
			row++;
		if (row == n) {
			buf_addf(&bad, "%s\"%s\"", bad.len ? ", " : "", t->cols[i]);
			continue;
		}
		if (!strcmp(PQgetvalue(r, row, 1), "t"))
			gx_die(GX_EXIT_DATA, "%s: column \"%s\" is generated: it cannot "
			       "be loaded", t->table, t->cols[i]);
		as_text[i] = !strcmp(PQgetvalue(r, row, 2), "t");
	}
	if (bad.len)
		gx_die(GX_EXIT_DATA, "%s has no column %s (the stream's columns must be "
		       "the target's)", t->table, bad.s);
	for (int row = 0; row < PQntuples(r); row++) {
		has_created |= !strcmp(PQgetvalue(r, row, 0), "sync_created_at");
		has_updated |= !strcmp(PQgetvalue(r, row, 0), "sync_updated_at");
	}
	PQclear(r);
	t->set_created = has_created;
	t->set_updated = has_updated;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!strcmp(t->cols[i], "sync_created_at"))
			t->set_created = 0;
		if (!strcmp(t->cols[i], "sync_updated_at"))
			t->set_updated = 0;
	}
	buf_free(&bad);
	return as_text;
}

/* "pre"."c1", "pre"."c2", ... for the columns (keys included or not). */
static void add_cols(gx_buf *b, const struct target *t, const char *pre, int keys,
		     const char *as_text)
{
	int first = 1;

	for (size_t i = 0; i < t->ncols; i++) {
		if (!keys && is_key(t, t->cols[i]))
			continue;
		if (!first)
			buf_adds(b, ", ");
		first = 0;
		if (pre)
			buf_addf(b, "%s.", pre);
		gx_pg_add_ident(b, t->cols[i]);
		if (as_text && as_text[i])
			buf_adds(b, "::text");
	}
}

static void add_keys(gx_buf *b, const struct target *t)
{
	for (size_t k = 0; k < t->nkeys; k++) {
		if (k)
			buf_adds(b, ", ");
		gx_pg_add_ident(b, t->keys[k]);
	}
}

/* What an existing key does. --prune=soft brings a row that comes back to
 * life (deleted_at = NULL), whatever the mode: an update like any other. */
static void add_conflict(gx_buf *b, const struct target *t, const char *as_text,
			 int undelete)
{
	int has_set = t->ncols > t->nkeys;
	int first = 1;

	if (t->mode == MODE_INSERT || (t->mode == MODE_CHANGED && !has_set)) {
		if (!undelete) {
			buf_adds(b, "DO NOTHING");
			return;
		}
		buf_adds(b, "DO UPDATE SET deleted_at = NULL");
		if (t->set_updated)
			buf_adds(b, ", sync_updated_at = now()");
		buf_adds(b, " WHERE t.deleted_at IS NOT NULL");
		return;
	}
	buf_adds(b, "DO UPDATE SET ");
	for (size_t i = 0; i < t->ncols; i++) {
		/* Keys are equal by definition; with nothing else to set,
		 * --force-overwrite still rewrites the row through a key. */
		if (is_key(t, t->cols[i]) && (has_set || !first))
			continue;
		if (!first)
			buf_adds(b, ", ");
		first = 0;
		gx_pg_add_ident(b, t->cols[i]);
		buf_adds(b, " = EXCLUDED.");
		gx_pg_add_ident(b, t->cols[i]);
	}
	if (undelete)
		buf_adds(b, ", deleted_at = NULL");
	if (t->set_updated)
		buf_adds(b, ", sync_updated_at = now()");
	if (t->mode == MODE_CHANGED) {
		buf_adds(b, " WHERE ROW(");
		add_cols(b, t, "t", 0, as_text);
		buf_adds(b, ") IS DISTINCT FROM ROW(");
		add_cols(b, t, "EXCLUDED", 0, as_text);
		buf_adds(b, undelete ? ") OR t.deleted_at IS NOT NULL" : ")");
	}
}

/* Within a batch the last record of a key wins (DISTINCT ON ... gx_line
 * DESC); the database counts what it inserted (xmax = 0) and updated. */
static void build_upsert(struct target *t, gx_buf *b, const char *as_text, int undelete,
			 int distinct)
{
	buf_adds(b, "WITH gx_src AS (SELECT ");
	if (distinct) {
		buf_adds(b, "DISTINCT ON (");
		add_keys(b, t);
		buf_adds(b, ") ");
	}
	add_cols(b, t, NULL, 1, NULL);
	buf_adds(b, " FROM " STAGE);
	if (distinct) {
		buf_adds(b, " ORDER BY ");
		add_keys(b, t);
		buf_adds(b, ", " LINE_COL " DESC)");
	} else {
		buf_adds(b, ")");
	}
	if (t->mode == MODE_CHANGED && t->ncols > t->nkeys) {
		/* Rows equal to the target's are left out before the upsert: an
		 * ON CONFLICT whose WHERE is false still locks (writes) the row;
		 * a read-only anti-join does not. The upsert's WHERE stays, for
		 * rows changed meanwhile by others. */
		buf_adds(b, ", gx_in AS (SELECT * FROM gx_src s WHERE NOT EXISTS (SELECT 1 FROM ");
		buf_add(b, t->ident.s, t->ident.len);
		buf_adds(b, " t WHERE ");
		for (size_t k = 0; k < t->nkeys; k++) {
			buf_adds(b, k ? " AND t." : "t.");
			gx_pg_add_ident(b, t->keys[k]);
			buf_adds(b, " = s.");
			gx_pg_add_ident(b, t->keys[k]);
		}
		buf_adds(b, " AND ROW(");
		add_cols(b, t, "t", 0, as_text);
		buf_adds(b, ") IS NOT DISTINCT FROM ROW(");
		add_cols(b, t, "s", 0, as_text);
		buf_adds(b, undelete ? ") AND t.deleted_at IS NULL))" : ")))");
	} else {
		buf_adds(b, ", gx_in AS (SELECT * FROM gx_src)");
	}
	buf_adds(b, ", gx_up AS (INSERT INTO ");
	buf_add(b, t->ident.s, t->ident.len);
	buf_adds(b, " AS t (");
	add_cols(b, t, NULL, 1, NULL);
	if (t->set_created)
		buf_adds(b, ", sync_created_at");
	if (t->set_updated)
		buf_adds(b, ", sync_updated_at");
	buf_adds(b, ") SELECT ");
	add_cols(b, t, NULL, 1, NULL);
	if (t->set_created)
		buf_adds(b, ", now()");
	if (t->set_updated)
		buf_adds(b, ", now()");
	buf_adds(b, " FROM gx_in ON CONFLICT (");
	add_keys(b, t);
	buf_adds(b, ") ");
	add_conflict(b, t, as_text, undelete);
	buf_adds(b, " RETURNING (t.xmax = 0) AS inserted)"
		 " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),"
		 " (SELECT count(*) FROM gx_src) FROM gx_up");
}

/* From the first record: the column list, checked against the target; the
 * SQL of the staging table (the target's types for the stream's columns,
 * no constraints: those are checked by the upsert) and of a batch. */
void target_prepare(struct target *t, struct session *db, const struct gx_reader *r,
		    enum prune_mode prune)
{
	char *as_text;

	stream_columns(t, r, prune);
	as_text = check_columns(t, db);

	buf_adds(&t->stage_sql, "CREATE TEMP TABLE gx_stage ON COMMIT DROP AS SELECT ");
	add_cols(&t->stage_sql, t, NULL, 1, NULL);
	buf_adds(&t->stage_sql, ", NULL::bigint AS " LINE_COL " FROM ");
	buf_add(&t->stage_sql, t->ident.s, t->ident.len);
	buf_adds(&t->stage_sql, " WITH NO DATA");

	buf_adds(&t->copy_sql, "COPY " STAGE " (");
	add_cols(&t->copy_sql, t, NULL, 1, NULL);
	buf_adds(&t->copy_sql, ", " LINE_COL ") FROM STDIN");
	build_upsert(t, &t->upsert_sql, as_text, prune == PRUNE_SOFT, 1);
	build_upsert(t, &t->upsert_unique_sql, as_text, prune == PRUNE_SOFT, 0);
	gx_debug("upsert: %s", t->upsert_sql.s);
	if (prune) {
		buf_adds(&t->keep_sql, "INSERT INTO pg_temp.gx_seen SELECT ");
		add_keys(&t->keep_sql, t);
		buf_adds(&t->keep_sql, " FROM " STAGE "; ");
	}
	buf_adds(&t->keep_sql, "TRUNCATE " STAGE);
	buf_addf(&t->done_sql, "%s; RELEASE SAVEPOINT gx_batch", t->keep_sql.s);
	free(as_text);
	target_stage(t, db);
}

/* What may refuse a row the upsert writes, checked in SQL on the stage:
 * NOT NULL and CHECK constraints over the stream's columns alone, in the
 * order PostgreSQL checks them (columns, then constraints by name). Not
 * when a trigger may change the row first, nor for a partitioned table. */
static const char notnull_sql[] =
	"SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1)"
	" AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull ORDER BY a.attnum";
static const char checks_sql[] =
	"SELECT c.conname, pg_get_expr(c.conbin, c.conrelid), (SELECT"
	" array_agg(a.attname::text) FROM pg_attribute a WHERE a.attrelid = c.conrelid"
	" AND a.attnum = ANY (c.conkey))::text, r.relname FROM pg_constraint c"
	" JOIN pg_class r ON r.oid = c.conrelid WHERE c.conrelid = to_regclass($1)"
	" AND c.contype = 'c' ORDER BY c.conname";
static const char plain_sql[] =
	"SELECT r.relname, r.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_trigger g"
	"  WHERE g.tgrelid = r.oid AND NOT g.tgisinternal),"
	" NOT EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = r.oid"
	"  AND w.rulename <> '_RETURN') FROM pg_class r WHERE r.oid = to_regclass($1)";

static int stream_col(const struct target *t, const char *name, size_t n)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (t->collen[i] == n && !strncmp(t->cols[i], name, n))
			return 1;
	return 0;
}

/* Every column a constraint names ({a,b,...} of array_agg) is streamed. */
static int streamed(const struct target *t, const char *arr)
{
	if (!arr || arr[0] != '{')
		return 0;
	for (const char *p = arr + 1; *p && *p != '}'; ) {
		size_t n = strcspn(p, ",}");
		if (*p == '"' || !stream_col(t, p, n))
			return 0;	/* quoted names: not worth parsing */
		p += n + (p[n] == ',');
	}
	return 1;
}

static void add_check(struct target *t, const char *sqlstate, char *error, const char *column)
{
	GX_GROW(t->checks, t->nchecks + 1, t->checks_cap);
	t->checks[t->nchecks++] = (struct check){ sqlstate, error,
						  column ? gx_strdup(column) : NULL };
}

/* One condition: in the CASE that names the check, and in the WHERE. */
static void add_cond(struct target *t, gx_buf *cases, gx_buf *where, const char *cond)
{
	buf_addf(cases, " WHEN %s THEN %zu", cond, t->nchecks);
	buf_addf(where, "%s%s", where->len ? " OR " : "", cond);
}

static void build_checks(struct target *t, struct session *db, const char *relname)
{
	const char *p[] = { t->ident.s };
	gx_buf cases = GX_BUF_INIT, where = GX_BUF_INIT, c = GX_BUF_INIT;
	PGresult *r = sql_execp(db, notnull_sql, 1, p);

	for (int i = 0; i < PQntuples(r); i++) {
		const char *col = PQgetvalue(r, i, 0);
		if (!stream_col(t, col, strlen(col)))
			continue;
		buf_reset(&c);
		buf_adds(&c, "s.");
		gx_pg_add_ident(&c, col);
		buf_adds(&c, " IS NULL");
		add_cond(t, &cases, &where, c.s);
		buf_reset(&c);
		buf_addf(&c, "null value in column \"%s\" of relation \"%s\" violates "
			 "not-null constraint", col, relname);
		add_check(t, "23502", gx_strdup(c.s), col);
	}
	PQclear(r);
	r = sql_execp(db, checks_sql, 1, p);
	for (int i = 0; i < PQntuples(r); i++) {
		if (!streamed(t, PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2)))
			continue;
		buf_reset(&c);
		buf_addf(&c, "(%s) IS FALSE", PQgetvalue(r, i, 1));
		add_cond(t, &cases, &where, c.s);
		buf_reset(&c);
		buf_addf(&c, "new row for relation \"%s\" violates check constraint \"%s\"",
			 PQgetvalue(r, i, 3), PQgetvalue(r, i, 0));
		add_check(t, "23514", gx_strdup(c.s), NULL);
	}
	PQclear(r);
	if (t->nchecks) {
		/* the rows the upsert writes: the last of each key */
		buf_addf(&t->check_sql, "SELECT gx_line, CASE%s END FROM (SELECT DISTINCT ON (",
			 cases.s);
		add_keys(&t->check_sql, t);
		buf_adds(&t->check_sql, ") * FROM " STAGE " ORDER BY ");
		add_keys(&t->check_sql, t);
		buf_addf(&t->check_sql, ", " LINE_COL " DESC) s WHERE %s ORDER BY 1", where.s);
		gx_debug("checks: %s", t->check_sql.s);
	}
	buf_free(&cases);
	buf_free(&where);
	buf_free(&c);
}

/* After target_prepare, in the transaction: may the load COPY straight
 * into the target (direct: the caller allows it, and the table is empty
 * and has no rules), and which checks can find the rows the upsert would
 * refuse (checks: the caller allows them). */
void target_paths(struct target *t, struct session *db, int direct, int checks)
{
	const char *p[] = { t->ident.s };
	PGresult *r;
	char *relname;
	int plain, no_rules;

	if (!direct && !checks)
		return;
	r = sql_execp(db, plain_sql, 1, p);
	relname = gx_strdup(PQgetvalue(r, 0, 0));
	plain = !strcmp(PQgetvalue(r, 0, 1), "t");
	no_rules = !strcmp(PQgetvalue(r, 0, 2), "t");
	PQclear(r);
	if (checks && plain)
		build_checks(t, db, relname);
	free(relname);
	if (!direct || !no_rules)
		return;
	gx_buf q = GX_BUF_INIT;
	buf_adds(&q, "SELECT NOT EXISTS (SELECT 1 FROM ");
	buf_add(&q, t->ident.s, t->ident.len);
	buf_adds(&q, "), now()::text");
	r = sql_exec(db, q.s);
	t->empty = !strcmp(PQgetvalue(r, 0, 0), "t");
	for (int i = 0; i < t->set_created + t->set_updated; i++)
		buf_addf(&t->now_tail, "%s%s", i ? "\t" : "", PQgetvalue(r, 0, 1));
	if (t->now_tail.len)
		buf_addc(&t->now_tail, '\n');
	PQclear(r);
	buf_free(&q);

	buf_adds(&t->direct_sql, "COPY ");
	buf_add(&t->direct_sql, t->ident.s, t->ident.len);
	buf_adds(&t->direct_sql, " (");
	add_cols(&t->direct_sql, t, NULL, 1, NULL);
	if (t->set_created)
		buf_adds(&t->direct_sql, ", sync_created_at");
	if (t->set_updated)
		buf_adds(&t->direct_sql, ", sync_updated_at");
	buf_adds(&t->direct_sql, ") FROM STDIN");
}

/* The staging table, in the current transaction. */
void target_stage(struct target *t, struct session *db)
{
	sql_run(db, t->stage_sql.s);
}

void target_per_batch(struct target *t, const char *sql)
{
	gx_buf keep = GX_BUF_INIT, done = GX_BUF_INIT;

	buf_addf(&keep, "%s%s", sql, t->keep_sql.s);
	buf_addf(&done, "%s%s", sql, t->done_sql.s);
	buf_free(&t->keep_sql);
	buf_free(&t->done_sql);
	t->keep_sql = keep;
	t->done_sql = done;
}

void target_free(struct target *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->collen);
	free(t->keycol);
	free(t->keys);
	buf_free(&t->ident);
	buf_free(&t->stage_sql);
	buf_free(&t->copy_sql);
	buf_free(&t->upsert_sql);
	buf_free(&t->upsert_unique_sql);
	buf_free(&t->keep_sql);
	buf_free(&t->done_sql);
	buf_free(&t->direct_sql);
	buf_free(&t->now_tail);
	buf_free(&t->check_sql);
	for (size_t i = 0; i < t->nchecks; i++) {
		free(t->checks[i].error);
		free(t->checks[i].column);
	}
	free(t->checks);
}
