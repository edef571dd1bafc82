/* The rows of one window, streamed as records: mysql_use_result, so memory
 * stays that of one row whatever the table size. */
#include "extract.h"

#include <stdlib.h>
#include <string.h>

/* The "key": prefix of every emitted column, computed once. Column names
 * must make a valid record: distinct, and never the control key "@gx". */
static size_t *prefixes(gx_buf *names, const MYSQL_FIELD *f, size_t nbk, size_t nf)
{
	size_t *off = gx_malloc((nf + 1) * sizeof *off);

	for (size_t i = nbk; i < nf; i++) {
		if (!strcmp(f[i].name, "@gx"))
			gx_die(GX_EXIT_DATA, "a column is named \"@gx\", the key "
			       "of control lines: rename it in the query");
		for (size_t j = nbk; j < i; j++)
			if (f[j].name_length == f[i].name_length &&
			    !memcmp(f[j].name, f[i].name, f[i].name_length))
				gx_die(GX_EXIT_DATA, "two columns are named '%s': "
				       "give one an alias in the query", f[i].name);
		off[i] = names->len;
		buf_addc(names, i == nbk ? '{' : ',');
		json_add_str(names, f[i].name, f[i].name_length);
		buf_addc(names, ':');
	}
	off[nf] = names->len;
	return off;
}

/* A cursor that is NULL, or a zero or pre-1000 date ("0000-00-00 ..."). */
static int null_cursor(const MYSQL_FIELD *f, const char *v, unsigned long len)
{
	if (!v)
		return 1;
	return value_is_date(f) && strncmp(v, "1000-01-01", len < 10 ? len : 10) < 0;
}

static void set_last(gx_buf *last, const MYSQL_FIELD *f, MYSQL_ROW row,
		     const unsigned long *len, size_t nbk, int has_cursor,
		     const struct value_cs *cs, gx_buf *tmp)
{
	buf_reset(last);
	buf_addc(last, '[');
	for (size_t i = 0; i < nbk; i++) {
		if (i)
			buf_addc(last, ',');
		/* The cursor is passed back as a string: it goes into SQL as a
		 * quoted literal, which the server compares as its own type. */
		if (i == 0 && has_cursor && row[0])
			json_add_str(last, row[0], len[0]);
		else {
			const char *v = row[i];
			unsigned long n = len[i];
			value_cs_convert(&cs[i], tmp, &v, &n);
			value_add(last, &f[i], v, n);
		}
	}
	buf_addc(last, ']');
}

/* --progress: a line every r->progress seconds, never on stdout (on stderr,
 * or live on the scripts' terminal: gx_progress). The clock is read per
 * record: cheap next to formatting it. */
static void progress(struct run *r)
{
	double now = gx_clock(), secs = now - r->t0;

	if (now < r->next)
		return;
	r->next = now + r->progress;
	gx_progress("progress: %llu records in %.1f s (%.0f rows/s)", r->records, secs,
		secs > 0 ? (double)r->records / secs : 0.0);
}

/* A retry row's key (columns 1..nkeys, converted) against the keys asked
 * for: marks the ones it is. Keys compare as the server's text. */
static void retry_found(struct retry *k, MYSQL_ROW row, const unsigned long *len,
			const struct value_cs *cs, gx_buf *tmp)
{
	for (size_t i = 0; i < k->n; i++) {
		size_t j = 0;
		for (; j < k->nkeys; j++) {
			const char *v = row[1 + j];
			unsigned long n = len[1 + j];
			const struct after_val *a = &k->keys[i].v[j];

			value_cs_convert(&cs[1 + j], tmp, &v, &n);
			if (!v || n != a->text.len || memcmp(v, a->text.s, n))
				break;
		}
		if (j == k->nkeys)
			k->found[i] = 1;
	}
}

void rows_stream(MYSQL *my, const char *sql, size_t nbk, int has_cursor,
		 const struct window *w, struct run *r, struct retry *retry)
{
	gx_buf names = GX_BUF_INIT, line = GX_BUF_INIT, tmp = GX_BUF_INIT;
	struct value_cs *cs;
	MYSQL_RES *res;
	MYSQL_FIELD *f;
	MYSQL_ROW row;
	size_t nf, *off;

	/* Strings come in their columns' own character sets (see value_cs). */
	db_exec(my, "SET SESSION character_set_results = NULL");
	if (mysql_real_query(my, sql, strlen(sql)) || !(res = mysql_use_result(my)))
		db_die(my, "query failed");
	nf = mysql_num_fields(res);
	f = mysql_fetch_fields(res);
	cs = gx_malloc(nf * sizeof *cs);
	for (size_t i = 0; i < nf; i++)
		value_cs_open(&cs[i], &f[i]);
	if (nf <= nbk)
		gx_die(GX_EXIT_DATA, "the query selects no columns of its own");
	off = prefixes(&names, f, nbk, nf);
	while ((row = mysql_fetch_row(res))) {
		const unsigned long *len = mysql_fetch_lengths(res);

		/* A retry: the row is there; the window read it already (or
		 * will, a walk cut short by --limit) when it is inside it. */
		if (retry) {
			retry_found(retry, row, len, cs, &tmp);
			if (row[0] && row[0][0] == '1')
				continue;
		}
		/* LIMIT N+1 read one row past the limit: it says there is more. */
		else if (w->has_limit && r->records == w->limit) {
			r->more = 1;
			continue;
		}
		buf_reset(&line);
		for (size_t i = nbk; i < nf; i++) {
			const char *v = row[i];
			unsigned long n = len[i];
			size_t bad = value_cs_convert(&cs[i], &tmp, &v, &n);

			if (bad && !r->unmappable)
				buf_addf(&r->unmappable_at, "column %s, character set %s",
					 f[i].name, cs[i].name);
			r->unmappable += bad;
			buf_add(&line, names.s + off[i], off[i + 1] - off[i]);
			r->invalid_utf8 += value_add(&line, &f[i], v, n);
		}
		buf_add(&line, "}\n", 2);
		gx_out(line.s, line.len);
		r->records++;
		if (retry) {
			r->retried++;
			continue;
		}
		set_last(&r->last, f, row, len, nbk, has_cursor, cs, &tmp);
		if (has_cursor && null_cursor(&f[0], row[0], len[0])) {
			r->null_cursor++;
		} else if (has_cursor && value_is_date(&f[0]) &&
			   strcmp(row[0], r->max_cursor.s ? r->max_cursor.s : "") > 0) {
			buf_reset(&r->max_cursor);
			buf_add(&r->max_cursor, row[0], len[0]);
		}
		if (r->progress)
			progress(r);
	}
	/* NULL also ends a stream cut by the server or the network: then we
	 * die here, and the missing end marker tells the reader. */
	if (mysql_errno(my))
		db_die(my, "query failed after %llu records", r->records);
	mysql_free_result(res);
	for (size_t i = 0; i < nf; i++)
		value_cs_close(&cs[i]);
	free(cs);
	buf_free(&tmp);
	free(off);
	buf_free(&names);
	buf_free(&line);
}
