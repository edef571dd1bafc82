/* NDJSON records -> PostgreSQL COPY text format, kept in the batch and sent
 * in large chunks. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define CHUNK (1 << 20)	/* bytes per PQputCopyData */
#define PIECE (1 << 15)	/* bytes of a careful COPY between looks at the server */

/* Appends s escaped for COPY text: the backslash, the delimiter (tab) and
 * the line ends would otherwise be read as syntax; the other control
 * characters are escaped so that a COPY stream stays readable. */
static void add_escaped(gx_buf *b, const char *s, size_t n)
{
	size_t i = 0;

	buf_grow(b, n);
	while (i < n) {
		size_t run = i;
		while (run < n && (unsigned char)s[run] >= 0x20 && s[run] != '\\')
			run++;
		buf_add(b, s + i, run - i);
		if (run == n)
			break;
		unsigned char c = (unsigned char)s[run];
		switch (c) {
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		case '\v': buf_add(b, "\\v", 2); break;
		default: buf_addf(b, "\\%03o", c);	/* octal: one byte */
		}
		i = run + 1;
	}
}

/* Finds each column's field in the record: the same keys, in any order. */
static int map_fields(struct batch *b, const struct target *t, const struct gx_reader *r)
{
	if (r->nf != t->ncols)
		return -1;
	if (!b->pos)
		b->pos = gx_malloc(t->ncols * sizeof *b->pos);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct gx_field *f = &r->f[i];
		if (f->klen == t->collen[i] && !memcmp(f->key, t->cols[i], f->klen)) {
			b->pos[i] = i;
			continue;
		}
		size_t j = 0;
		while (j < r->nf && (r->f[j].klen != t->collen[i] ||
				     memcmp(r->f[j].key, t->cols[i], t->collen[i])))
			j++;
		if (j == r->nf)
			return -1;
		b->pos[i] = j;
	}
	/* Distinct columns found in distinct fields, as many as there are
	 * fields: exactly the same keys. */
	return 0;
}

/* Appends one value as COPY text (a string decoded in scratch). -1 for a
 * string PostgreSQL cannot hold. */
static int add_value(gx_buf *scratch, gx_buf *b, const struct gx_field *f)
{
	int nul;

	switch (f->type) {
	case GX_NULL:
		buf_add(b, "\\N", 2);
		return 0;
	case GX_BOOL:
	case GX_NUM:
		buf_add(b, f->val, f->vlen);
		return 0;
	case GX_STR:
		/* Without a backslash the JSON text is the value (the reader
		 * refused raw control characters); the common case. */
		if (!memchr(f->val, '\\', f->vlen)) {
			buf_add(b, f->val, f->vlen);
			return 0;
		}
		buf_reset(scratch);
		if (json_unescape(scratch, f->val, f->vlen, &nul) < 0)
			gx_die(GX_EXIT_BUG, "string passed the reader but not json_unescape");
		if (nul)
			return -1;
		add_escaped(b, scratch->s, scratch->len);
		return 0;
	case GX_OBJ:
	case GX_ARR:
		add_escaped(b, f->val, f->vlen);
		return 0;
	}
	return 0;
}

/* After the columns: the line, for the stage; straight into the target,
 * the run's now() for the sync_* columns it fills, or nothing. */
static void add_tail(struct batch *b, const struct target *t, unsigned long line)
{
	if (b->path != PATH_DIRECT)
		buf_addf(&b->text, "%lu\n", line);
	else if (t->now_tail.len)
		buf_add(&b->text, t->now_tail.s, t->now_tail.len);
	else
		b->text.s[b->text.len - 1] = '\n';
}

/* Keys strictly ascending so far (one integer key): the stream holds no
 * key twice, and the upsert needs no DISTINCT ON (a sort of every row). */
static void note_order(struct batch *b, const struct target *t, const struct gx_reader *r)
{
	const struct gx_field *f;
	char num[24];
	long long v;

	if (b->unordered)
		return;
	f = t->nkeys == 1 ? &r->f[b->pos[t->keycol[0]]] : NULL;
	if (!f || !json_field_int(f, 18, 1)) {
		b->unordered = 1;
		return;
	}
	memcpy(num, f->val, f->vlen);
	num[f->vlen] = '\0';
	v = strtoll(num, NULL, 10);
	if (b->keys_seen && v <= b->last_key)
		b->unordered = 1;
	b->last_key = v;
	b->keys_seen = 1;
}

int copy_add(struct batch *b, const struct target *t, const struct gx_reader *r,
	     const char **why, const char **sqlstate)
{
	size_t line_len = r->line.len;

	if (map_fields(b, t, r) < 0) {
		*why = "the record's keys differ from the first record's";
		*sqlstate = NULL;
		return -1;
	}
	size_t off = b->text.len;
	for (size_t i = 0; i < t->ncols; i++) {
		if (add_value(&b->scratch, &b->text, &r->f[b->pos[i]]) < 0) {
			buf_setlen(&b->text, off);
			*why = "a string holds U+0000, which PostgreSQL text cannot store";
			*sqlstate = "22021";	/* character_not_in_repertoire */
			return -1;
		}
		buf_addc(&b->text, '\t');
	}
	add_tail(b, t, r->lineno);
	note_order(b, t, r);

	GX_GROW(b->rows, b->n + 1, b->cap);
	b->rows[b->n++] = (struct row){ off, b->orig.len, line_len, r->lineno };
	buf_add(&b->orig, r->line.s, line_len);
	return 0;
}

size_t row_end(const struct batch *b, size_t i)
{
	return i + 1 < b->n ? b->rows[i + 1].off : b->text.len;
}

/* In a COPY the server speaks only to refuse (or with a notice): readable
 * input means the COPY can end now instead of after the rest is sent. */
static int server_spoke(PGconn *pg)
{
	struct pollfd p = { .fd = PQsocket(pg), .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

void copy_start(struct session *db, const char *sql)
{
	PGresult *r = sql_exec(db, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN)
		gx_die(GX_EXIT_BUG, "COPY did not start");
	PQclear(r);
}

/* Sends p[0, n) in pieces; 1 when the server spoke meanwhile. */
int copy_put(struct session *db, const char *p, size_t n)
{
	while (n) {
		size_t k = n < CHUNK ? n : CHUNK;
		deadline(db);
		if (PQputCopyData(db->pg, p, (int)k) != 1)
			gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(db->pg));
		p += k, n -= k;
	}
	return server_spoke(db->pg);
}

PGresult *copy_end(struct session *db)
{
	PGresult *r;

	deadline(db);
	if (PQputCopyEnd(db->pg, NULL) != 1)
		gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(db->pg));
	r = PQgetResult(db->pg);
	for (PGresult *more; (more = PQgetResult(db->pg)); )
		PQclear(more);
	if (!r)
		gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(db->pg));
	return r;
}

/* Runs a COPY ... FROM STDIN of the text p[0, n); returns COPY's result
 * (the caller checks it: a data error there is the data's, not ours). */
PGresult *copy_text(struct session *db, const char *sql, const char *p, size_t n)
{
	copy_start(db, sql);
	copy_put(db, p, n);
	return copy_end(db);
}

/* COPYs rows [lo, hi) of the batch into the stage, a piece of rows at a
 * time; when the server speaks (a refusal) the rest is not sent. *upto is
 * the first row not sent. */
PGresult *copy_rows(struct session *db, const struct target *t, const struct batch *b,
		    size_t lo, size_t hi, size_t *upto)
{
	size_t i = lo;

	copy_start(db, t->copy_sql.s);
	while (i < hi) {
		size_t j = i + 1;
		while (j < hi && b->rows[j].off - b->rows[i].off < PIECE)
			j++;
		const char *p = b->text.s + b->rows[i].off;
		int spoke = copy_put(db, p, row_end(b, j - 1) - b->rows[i].off);
		i = j;
		if (spoke)
			break;
	}
	*upto = i;
	return copy_end(db);
}

/* A batch written for the target (COPY straight into it) rewritten for the
 * stage: each row's columns, then its line. */
void batch_restage(struct batch *b, const struct target *t)
{
	gx_buf text = GX_BUF_INIT;

	for (size_t i = 0; i < b->n; i++) {
		const char *s = b->text.s + b->rows[i].off, *f = s;

		for (size_t c = 0; c < t->ncols; c++)
			f = strpbrk(f, "\t\n") + 1;	/* fields hold neither: escaped */
		b->rows[i].off = text.len;
		buf_add(&text, s, (size_t)(f - 1 - s));
		buf_addf(&text, "\t%lu\n", b->rows[i].line);
	}
	buf_free(&b->text);
	b->text = text;
}

void copy_keep_keys(gx_buf *kept, struct batch *b, const struct target *t,
		    const struct gx_reader *r)
{
	size_t off = kept->len;

	for (size_t k = 0; k < t->nkeys; k++) {
		const struct gx_field *f = reader_get(r, t->keys[k]);
		if (!f || add_value(&b->scratch, kept, f) < 0) {
			buf_setlen(kept, off);	/* no key: no row to keep */
			return;
		}
		buf_addc(kept, k + 1 < t->nkeys ? '\t' : '\n');
	}
}

/* The row's COPY text is its columns, tab-separated, then its line. */
void batch_keep_keys(gx_buf *kept, const struct batch *b, const struct target *t,
		     size_t row)
{
	const char *s = b->text.s + b->rows[row].off;

	for (size_t k = 0; k < t->nkeys; k++) {
		const char *f = s;
		for (size_t c = 0; c < t->keycol[k]; c++)
			f = strchr(f, '\t') + 1;
		buf_add(kept, f, strcspn(f, "\t"));
		buf_addc(kept, k + 1 < t->nkeys ? '\t' : '\n');
	}
}

void batch_reset(struct batch *b)
{
	buf_reset(&b->text);
	buf_reset(&b->orig);
	b->n = 0;
}

void batch_free(struct batch *b)
{
	buf_free(&b->text);
	buf_free(&b->orig);
	buf_free(&b->scratch);
	free(b->rows);
	free(b->pos);
}
