/* With --run, rejected records are kept by key in orchestration.sync_rejects,
 * in the run's own transaction, so that the data, the checkpoint, the run's
 * counts and its rejects commit together or not at all (gx(7), "Rejected
 * rows"). Rejects come from gx-map, as {"@gx":"reject",...,"key":[...]}
 * control lines, and from this load (reject() in batch.c); gx-extract --keys
 * reads the open ones again on the next run. During the load they collect
 * in temporary tables: gx_rej (this run's rejects), gx_gone (keys gx-extract
 * found no row for) and gx_loaded (open rejects whose records loaded, noted
 * batch by batch while the stage holds them); keep_apply settles
 * orchestration.sync_rejects from them at the end. A key is a JSON array of
 * the key's values ([42]): as the stream writes them, and as
 * jsonb_build_array() writes the staged columns. */
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define CRM "genius"
#define FLUSH_AT (1 << 20)	/* bytes of COPY text held before sending */

void keep_start(struct keep *k, struct session *db, const char *run)
{
	const char *p[] = { run };
	PGresult *r = sql_execp(db, "SELECT sync_type FROM orchestration.sync_history"
				" WHERE id = $1::bigint", 1, p);

	k->run = run;
	k->entity = gx_strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

void keep_begin(struct keep *k, struct session *db)
{
	const char *p[] = { k->entity };
	PGresult *r;

	buf_reset(&k->copy);
	buf_reset(&k->gone);
	k->unkeyed = k->map_rejects = 0;
	if (!k->run)
		return;
	sql_run(db, "CREATE TEMP TABLE gx_rej (key jsonb, stage text, line bigint,"
		" sqlstate text, col text, reason text) ON COMMIT DROP;"
		" CREATE TEMP TABLE gx_gone (key jsonb) ON COMMIT DROP;"
		" CREATE TEMP TABLE gx_loaded (key jsonb) ON COMMIT DROP");
	sql_run(db, "SAVEPOINT gx_keep");
	r = sql_try(db, "SELECT 1 FROM orchestration.sync_rejects LIMIT 0");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		rollback(db);
		gx_die(GX_EXIT_DATA, "orchestration.sync_rejects does not exist: run "
		       "gx-state init (it creates it beside sync_history)");
	}
	PQclear(r);
	sql_run(db, "RELEASE SAVEPOINT gx_keep");
	r = sql_execp(db, "CREATE TEMP TABLE gx_open ON COMMIT DROP AS SELECT key"
		      " FROM orchestration.sync_rejects WHERE crm_source = '" CRM "'"
		      " AND entity = $1 AND closed_at IS NULL", 1, p);
	k->open = strtoull(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	/* Its size, for the planner: a hash of the few open keys, probed by
	 * each batch (unanalyzed, it guessed 1,360 rows and sorted the batch). */
	if (k->open)
		sql_run(db, "ANALYZE pg_temp.gx_open");
}

/* After each batch, while the stage holds it: the open rejects it loaded. */
void keep_prepare(const struct keep *k, struct target *t)
{
	gx_buf sql = GX_BUF_INIT;

	if (!k->run || !k->open)
		return;
	/* Compared as text (o.key->>0 = s.id::text), a hash join: building and
	 * comparing a jsonb per staged row cost 93 ms per 10,000 rows, this
	 * 2.6 ms. */
	buf_adds(&sql, "INSERT INTO pg_temp.gx_loaded SELECT o.key FROM pg_temp.gx_open o"
		 " JOIN pg_temp.gx_stage s ON ");
	for (size_t i = 0; i < t->nkeys; i++) {
		buf_addf(&sql, "%so.key->>%zu = s.", i ? " AND " : "", i);
		gx_pg_add_ident(&sql, t->keys[i]);
		buf_adds(&sql, "::text");
	}
	buf_adds(&sql, "; ");
	target_per_batch(t, sql.s);
	buf_free(&sql);
}

/* s as a COPY text field. */
static void add_field(gx_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': buf_adds(b, "\\\\"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\0': break;
		default: buf_addc(b, s[i]);
		}
	}
}

static void flush(struct keep *k, struct session *db)
{
	if (!k->copy.len)
		return;
	PGresult *r = copy_text(db, "COPY pg_temp.gx_rej FROM STDIN", k->copy.s, k->copy.len);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		gx_die(GX_EXIT_SERVER, "PostgreSQL: keeping the rejects: %s", gx_pg_error(db->pg));
	PQclear(r);
	buf_reset(&k->copy);
}

/* One reject; key is its JSON array, NULL when it has none (then it
 * cannot be retried, and the run cannot move the checkpoint past it). */
static void note(struct keep *k, struct session *db, const char *stage,
		 unsigned long line, const char *key, size_t keylen, const char *sqlstate,
		 const char *column, const char *reason, size_t reason_len)
{
	if (!k->run)
		return;
	if (!key) {
		k->unkeyed++;
		return;
	}
	add_field(&k->copy, key, keylen);
	buf_addf(&k->copy, "\t%s\t%lu\t", stage, line);
	if (sqlstate)
		add_field(&k->copy, sqlstate, strlen(sqlstate));
	else
		buf_adds(&k->copy, "\\N");
	buf_addc(&k->copy, '\t');
	if (column)
		add_field(&k->copy, column, strlen(column));
	else
		buf_adds(&k->copy, "\\N");
	buf_addc(&k->copy, '\t');
	add_field(&k->copy, reason, reason_len);
	buf_addc(&k->copy, '\n');
	if (k->copy.len > FLUSH_AT)
		flush(k, db);
}

/* A JSON string member of a control line, decoded into b (NULL if absent). */
static const char *member(const struct gx_reader *r, const char *name, gx_buf *b)
{
	const struct gx_field *f = reader_get(r, name);
	int has_nul;

	buf_reset(b);
	if (!f || f->type != GX_STR || json_unescape(b, f->val, f->vlen, &has_nul) < 0)
		return NULL;
	return b->s ? b->s : "";
}

/* An array of n numbers and strings (a null, or an array in it, is no
 * row's key). */
static int keyed(const struct gx_field *f, size_t n)
{
	size_t values = 1;

	if (!f || f->type != GX_ARR || f->vlen < 3)
		return 0;
	for (size_t i = 1; i + 1 < f->vlen; i++) {
		char c = f->val[i];
		if (c == '"') {
			for (i++; i < f->vlen && f->val[i] != '"'; i++)
				i += f->val[i] == '\\';
		} else if (c == ',') {
			values++;
		} else if (c == 'n' || c == 't' || c == 'f' || c == '[' || c == '{') {
			return 0;
		}
	}
	return values == n;
}

void keep_control(struct keep *k, struct session *db, const struct target *t,
		  const struct gx_reader *r)
{
	const struct gx_field *type = reader_get(r, "@gx");
	const struct gx_field *key = reader_get(r, "key");

	if (!type || type->type != GX_STR)
		return;
	if (type->vlen == 6 && !memcmp(type->val, "reject", 6)) {
		const struct gx_field *line = reader_get(r, "line");
		const char *reason = member(r, "reason", &k->scratch);
		size_t reason_len = k->scratch.len;
		gx_buf col = GX_BUF_INIT;
		const char *column = member(r, "column", &col);

		k->map_rejects++;
		if (!reason) {
			reason = "rejected by gx-map";
			reason_len = strlen(reason);
		}
		note(k, db, "map", line && line->type == GX_NUM ? strtoul(line->val, NULL, 10) : 0,
		     keyed(key, t->nkeys) ? key->val : NULL, key ? key->vlen : 0, NULL, column,
		     reason, reason_len);
		buf_free(&col);
	} else if (type->vlen == 4 && !memcmp(type->val, "gone", 4) && k->run &&
		   keyed(key, t->nkeys)) {
		add_field(&k->gone, key->val, key->vlen);
		buf_addc(&k->gone, '\n');
	}
}

void keep_load_reject(struct keep *k, struct session *db, const struct target *t,
		      unsigned long line, const char *orig, size_t orig_len,
		      const char *sqlstate, const char *error, const char *column)
{
	struct gx_reader r;
	gx_buf text = GX_BUF_INIT, *key = &k->scratch;
	FILE *in;
	size_t i = 0;

	if (!k->run)
		return;
	/* The record is one line the reader took before: read its key. */
	buf_add(&text, orig, orig_len);
	buf_addc(&text, '\n');
	if (!(in = fmemopen(text.s, text.len, "r")))
		gx_die(GX_EXIT_BUG, "fmemopen failed");
	reader_init(&r, in, "reject");
	buf_reset(key);
	if (reader_next(&r) && !r.control)
		for (buf_addc(key, '['); i < t->nkeys; i++) {
			const struct gx_field *f = reader_get(&r, t->keys[i]);
			if (!f || (f->type != GX_NUM && f->type != GX_STR))
				break;
			if (i)
				buf_addc(key, ',');
			if (f->type == GX_STR)
				buf_addc(key, '"');
			buf_add(key, f->val, f->vlen);
			if (f->type == GX_STR)
				buf_addc(key, '"');
		}
	buf_addc(key, ']');
	note(k, db, "load", line, i == t->nkeys ? key->s : NULL, key->len, sqlstate, column,
	     error, strlen(error));
	reader_free(&r);
	fclose(in);
	buf_free(&text);
}

static unsigned long long count(struct session *db, const char *sql, const struct keep *k)
{
	const char *p[] = { k->entity, k->run };
	PGresult *r = sql_execp(db, sql, 2, p);
	unsigned long long n = strtoull(PQcmdTuples(r), NULL, 10);

	PQclear(r);
	return n;
}

/* Settles orchestration.sync_rejects, in the load's transaction: this run's
 * rejects (new, or seen again: attempts + 1), then the open ones it loaded
 * and the ones the source no longer has, unless rejected again. */
void keep_apply(struct keep *k, struct session *db)
{
	if (!k->run)
		return;
	flush(k, db);
	if (k->gone.len) {
		PGresult *r = copy_text(db, "COPY pg_temp.gx_gone FROM STDIN", k->gone.s,
					k->gone.len);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(db->pg));
		PQclear(r);
	}
	k->kept = count(db,
		"INSERT INTO orchestration.sync_rejects AS j (crm_source, entity, key, stage,"
		" reason, sqlstate, column_name, line, first_seen, last_seen, attempts,"
		" first_run, last_run)"
		" SELECT DISTINCT ON (key) '" CRM "', $1, key, stage, reason, sqlstate, col,"
		" line, now(), now(), 1, $2::bigint, $2::bigint FROM pg_temp.gx_rej"
		" ORDER BY key, line DESC"
		" ON CONFLICT (crm_source, entity, key) WHERE closed_at IS NULL DO UPDATE SET"
		" stage = EXCLUDED.stage, reason = EXCLUDED.reason, sqlstate = EXCLUDED.sqlstate,"
		" column_name = EXCLUDED.column_name, line = EXCLUDED.line, last_seen = now(),"
		" attempts = j.attempts + 1, last_run = EXCLUDED.last_run", k);
	k->closed_loaded = count(db,
		"UPDATE orchestration.sync_rejects SET closed_at = now(), resolution = 'loaded',"
		" closed_run = $2::bigint WHERE crm_source = '" CRM "' AND entity = $1"
		" AND closed_at IS NULL AND key IN (SELECT key FROM pg_temp.gx_loaded)"
		" AND key NOT IN (SELECT key FROM pg_temp.gx_rej)", k);
	k->closed_gone = count(db,
		"UPDATE orchestration.sync_rejects SET closed_at = now(), resolution = 'gone',"
		" closed_run = $2::bigint WHERE crm_source = '" CRM "' AND entity = $1"
		" AND closed_at IS NULL AND key IN (SELECT key FROM pg_temp.gx_gone)"
		" AND key NOT IN (SELECT key FROM pg_temp.gx_rej)", k);
}

void keep_metrics(const struct keep *k, gx_buf *json)
{
	if (!k->run) {
		buf_adds(json, "{}");
		return;
	}
	buf_addf(json, "{\"rejects_kept\":%s,\"rejects_unkeyed\":%llu,\"rejects_recorded\":%llu,"
		 "\"rejects_closed\":%llu,\"rejects_loaded\":%llu,\"rejects_gone\":%llu}",
		 k->unkeyed ? "false" : "true", k->unkeyed, k->kept,
		 k->closed_loaded + k->closed_gone, k->closed_loaded, k->closed_gone);
}

void keep_free(struct keep *k)
{
	free(k->entity);
	buf_free(&k->copy);
	buf_free(&k->gone);
	buf_free(&k->scratch);
}
