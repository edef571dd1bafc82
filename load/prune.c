/* --prune: rows the target holds but a complete stream lacks are deleted
 * (--prune=soft: stamped in deleted_at), after the upsert, in the same
 * transaction. The keys the stream held are collected server-side in
 * gx_seen, batch by batch (see done_sql in target.c), plus the keys of the
 * records PostgreSQL refused: a rejected row is not a deleted row. The
 * guard: more than --prune-max percent of the target going means a
 * truncated or empty source, not deletes, and everything is rolled back. */
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define SEEN "pg_temp.gx_seen"

static noreturn void refuse(const struct target *t, struct session *db, const char *why)
{
	rollback(db);
	gx_die(GX_EXIT_DATA, "%s: --prune refused: %s; rolled back, nothing loaded",
	       t->table, why);
}

/* Which key columns may hold NULL (a UNIQUE NULLS NOT DISTINCT key, the
 * only kind a table without a primary key has): 1 per such key. */
static int *nullable_keys(const struct target *t, struct session *db)
{
	int *nullable = gx_malloc(t->nkeys * sizeof *nullable);

	for (size_t k = 0; k < t->nkeys; k++) {
		const char *p[] = { t->ident.s, t->keys[k] };
		PGresult *r = sql_execp(db, "SELECT NOT a.attnotnull FROM pg_attribute a"
					" WHERE a.attrelid = to_regclass($1) AND a.attname = $2"
					" AND a.attnum > 0 AND NOT a.attisdropped", 2, p);

		nullable[k] = PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), "t");
		PQclear(r);
	}
	return nullable;
}

/* The stream's row s and the target's row t have the same key. "=" would
 * never match a NULL, and every row whose key holds one would be deleted
 * although the stream had it: a nullable key matches NULL-safely, in two
 * equalities that a hash anti-join can still use (IS NOT DISTINCT FROM
 * cannot be hashed: the delete would be a nested loop over the table).
 *   s.k = t.k                                      (NOT NULL)
 *   (s.k IS NULL) = (t.k IS NULL)
 *   AND COALESCE(s.k::text, '') = COALESCE(t.k::text, '')   (nullable) */
static void add_key_match(gx_buf *b, const struct target *t, const int *nullable)
{
	for (size_t k = 0; k < t->nkeys; k++) {
		const char *side[] = { "s.", "t." };

		if (k)
			buf_adds(b, " AND ");
		if (!nullable[k]) {
			buf_adds(b, "s.");
			gx_pg_add_ident(b, t->keys[k]);
			buf_adds(b, " = t.");
			gx_pg_add_ident(b, t->keys[k]);
			continue;
		}
		for (int i = 0; i < 2; i++) {
			buf_adds(b, i ? " = (" : "(");
			buf_adds(b, side[i]);
			gx_pg_add_ident(b, t->keys[k]);
			buf_adds(b, " IS NULL)");
		}
		for (int i = 0; i < 2; i++) {
			buf_adds(b, i ? " = COALESCE(" : " AND COALESCE(");
			buf_adds(b, side[i]);
			gx_pg_add_ident(b, t->keys[k]);
			buf_adds(b, "::text, '')");
		}
	}
}

/* For --prune=soft: deleted_at must be a timestamp (and stamping
 * sync_updated_at too when the table has one). */
static void check_soft(struct prune *pr, const struct target *t, struct session *db)
{
	const char *p[] = { t->ident.s };
	PGresult *r = sql_execp(db, "SELECT a.attname, format_type(a.atttypid, NULL)"
				" FROM pg_attribute a WHERE a.attrelid = to_regclass($1)"
				" AND a.attname IN ('deleted_at', 'sync_updated_at')"
				" AND a.attnum > 0 AND NOT a.attisdropped", 1, p);
	const char *type = NULL;

	for (int i = 0; i < PQntuples(r); i++) {
		if (!strcmp(PQgetvalue(r, i, 0), "deleted_at"))
			type = PQgetvalue(r, i, 1);
		else
			pr->stamp = 1;
	}
	if (!type)
		gx_die(GX_EXIT_DATA, "%s: --prune=soft needs a deleted_at timestamptz column",
		       t->table);
	if (strcmp(type, "timestamp with time zone") && strcmp(type, "timestamp without time zone"))
		gx_die(GX_EXIT_DATA, "%s: --prune=soft: deleted_at is %s, not a timestamptz",
		       t->table, type);
	for (size_t k = 0; k < t->nkeys; k++)
		if (!strcmp(t->keys[k], "deleted_at"))
			gx_die(GX_EXIT_DATA, "--prune=soft: deleted_at cannot be a key");
	PQclear(r);
}

/* At the start, in the transaction: the table's (live) rows, the base of
 * --prune-max, and the empty set of keys seen, typed as the table's. */
void prune_begin(struct prune *p, const struct target *t, struct session *db)
{
	gx_buf sql = GX_BUF_INIT;
	PGresult *r;

	if (p->mode == PRUNE_SOFT)
		check_soft(p, t, db);
	buf_adds(&sql, "CREATE TEMP TABLE gx_seen ON COMMIT DROP AS SELECT ");
	for (size_t k = 0; k < t->nkeys; k++) {
		if (k)
			buf_adds(&sql, ", ");
		gx_pg_add_ident(&sql, t->keys[k]);
	}
	buf_adds(&sql, " FROM ");
	buf_add(&sql, t->ident.s, t->ident.len);
	buf_adds(&sql, " WITH NO DATA");
	sql_run(db, sql.s);

	buf_reset(&sql);
	buf_adds(&sql, "SELECT count(*) FROM ");
	buf_add(&sql, t->ident.s, t->ident.len);
	if (p->mode == PRUNE_SOFT)
		buf_adds(&sql, " WHERE deleted_at IS NULL");
	r = sql_exec(db, sql.s);
	p->base = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	buf_free(&sql);
}

/* A stream tells what the source lacks only when it read the whole table:
 * its end marker names no window (gx-extract's since, until, after, limit,
 * more, shard and shard_bounds are null, false or absent) and nothing was
 * rejected upstream (gx-map's rejects are keys we never saw). */
void prune_check_end(const struct target *t, struct session *db, const struct gx_reader *end,
		     unsigned long long upstream_rejected)
{
	static const char *const window[] = { "since", "until", "after", "limit", "more",
					      "shard", "shard_bounds" };
	char why[256];

	for (size_t i = 0; i < sizeof window / sizeof window[0]; i++) {
		const struct gx_field *f = reader_get(end, window[i]);
		if (!f || f->type == GX_NULL || (f->type == GX_BOOL && f->val[0] == 'f'))
			continue;
		snprintf(why, sizeof why, "the stream is not a complete read of the table "
			 "(its end marker has \"%s\": %s%.*s%s)", window[i],
			 f->type == GX_STR ? "\"" : "", f->vlen > 64 ? 64 : (int)f->vlen,
			 f->val, f->type == GX_STR ? "\"" : "");
		refuse(t, db, why);
	}
	if (upstream_rejected) {
		snprintf(why, sizeof why, "%llu records were rejected upstream, and the rows "
			 "of their keys would be deleted", upstream_rejected);
		refuse(t, db, why);
	}
}

/* The keys of rejected records into gx_seen: all at once, or one by one
 * when some key is no value of its column's type (then it is no row's key
 * and can be left out). */
static void keep_rejected_keys(const struct prune *pr, struct session *db)
{
	static const char copy[] = "COPY " SEEN " FROM STDIN";
	const char *p, *end;
	int one_by_one = 0;

	if (!pr->kept_keys.len)
		return;
	p = pr->kept_keys.s;
	end = p + pr->kept_keys.len;
	sql_run(db, "SAVEPOINT gx_keys");
	while (p < end) {
		const char *next = one_by_one ? (char *)memchr(p, '\n', (size_t)(end - p)) + 1 : end;
		PGresult *r = copy_text(db, copy, p, (size_t)(next - p));

		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			sql_run(db, "RELEASE SAVEPOINT gx_keys; SAVEPOINT gx_keys");
			p = next;
		} else if (record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE))) {
			sql_run(db, "ROLLBACK TO SAVEPOINT gx_keys");
			p = one_by_one ? next : p;
			one_by_one = 1;
		} else {
			gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(db->pg));
		}
		PQclear(r);
	}
	sql_run(db, "RELEASE SAVEPOINT gx_keys");
}

static void build_prune(const struct prune *p, const struct target *t, struct session *db,
			gx_buf *b)
{
	int *nullable = nullable_keys(t, db);

	if (p->mode == PRUNE_HARD) {
		buf_adds(b, "WITH gx_gone AS (DELETE FROM ");
		buf_add(b, t->ident.s, t->ident.len);
		buf_adds(b, " AS t WHERE ");
	} else {
		buf_adds(b, "WITH gx_gone AS (UPDATE ");
		buf_add(b, t->ident.s, t->ident.len);
		buf_adds(b, " AS t SET deleted_at = now()");
		if (p->stamp)
			buf_adds(b, ", sync_updated_at = now()");
		buf_adds(b, " WHERE t.deleted_at IS NULL AND ");
	}
	buf_adds(b, "NOT EXISTS (SELECT 1 FROM " SEEN " AS s WHERE ");
	add_key_match(b, t, nullable);
	buf_adds(b, ") RETURNING 1) SELECT count(*) FROM gx_gone");
	free(nullable);
}

unsigned long long prune_apply(struct prune *p, const struct target *t, struct session *db)
{
	gx_buf sql = GX_BUF_INIT;
	PGresult *r;
	char why[256];
	unsigned long long deleted;

	keep_rejected_keys(p, db);
	/* The planner needs the size of gx_seen for a hash anti-join. */
	sql_run(db, "ANALYZE " SEEN);
	build_prune(p, t, db, &sql);
	r = sql_exec(db, sql.s);
	deleted = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	buf_free(&sql);
	if ((double)deleted * 100 > p->max * (double)p->base) {
		snprintf(why, sizeof why, "it would %sdelete %llu of the %llu%s rows (%.1f%%), "
			 "more than --prune-max %g%%", p->mode == PRUNE_SOFT ? "soft-" : "",
			 deleted, p->base, p->mode == PRUNE_SOFT ? " live" : "",
			 p->base ? 100.0 * (double)deleted / (double)p->base : 100.0, p->max);
		refuse(t, db, why);
	}
	return deleted;
}
