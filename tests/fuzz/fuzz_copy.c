/* libFuzzer target: bytes as an NDJSON stream through gx-load's NDJSON ->
 * COPY text conversion (load/copy.c, copy_add). The columns are the first
 * record's keys, as gx-load takes them; each record after it is converted
 * into the batch, and its row is read back by an independent reader of
 * PostgreSQL's COPY text format (copyfromparse.c): one raw \n at the end,
 * raw tabs between the fields, \N alone for NULL, the escapes. Each field
 * must give its member's value: a string decoded, a number, boolean,
 * object or array as its JSON text, null as NULL; and the row ends with
 * the record's line number. A record is refused exactly when its keys are
 * not the columns or a string holds U+0000, and then leaves the batch as
 * it was. The keys --prune keeps of a refused record (copy_keep_keys)
 * must read back as its key members; of a loaded one, they must be the
 * same from the record as from its row (batch_keep_keys). tests/copy_roundtrip.bats
 * puts the same conversion through PostgreSQL's own COPY. */
#define _POSIX_C_SOURCE 200809L
#include "load.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reading.h"

static struct target T;
static struct batch B;
static gx_buf kept;	/* --prune's kept keys */

static void columns_free(void)
{
	for (size_t i = 0; i < T.ncols; i++)
		free(T.cols[i]);
	free(T.cols);
	free(T.collen);
	free(T.keys);
	free(T.keycol);
	T.cols = NULL, T.collen = NULL, T.keys = NULL, T.keycol = NULL;
	T.ncols = T.nkeys = 0;
}

/* The first record's keys, as gx-load's stream_columns takes them (none
 * twice, none with U+0000); the upsert keys are the last and the first. */
static int columns(const struct gx_reader *r)
{
	if (r->nf == 0)
		return -1;
	T.ncols = r->nf;
	T.cols = gx_malloc(r->nf * sizeof *T.cols);
	T.collen = gx_malloc(r->nf * sizeof *T.collen);
	for (size_t i = 0; i < r->nf; i++) {
		T.cols[i] = gx_strndup(r->f[i].key, r->f[i].klen);
		T.collen[i] = r->f[i].klen;
	}
	for (size_t i = 0; i < r->nf; i++) {
		if (strlen(T.cols[i]) != T.collen[i])
			return -1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(T.cols[i], T.cols[j]))
				return -1;
	}
	T.nkeys = r->nf > 1 ? 2 : 1;
	T.keys = gx_malloc(T.nkeys * sizeof *T.keys);
	T.keycol = gx_malloc(T.nkeys * sizeof *T.keycol);
	T.keycol[0] = r->nf - 1;
	T.keycol[T.nkeys - 1] = 0;
	for (size_t k = 0; k < T.nkeys; k++)
		T.keys[k] = T.cols[T.keycol[k]];
	return 0;
}

static int octal(char c)
{
	return c >= '0' && c <= '7';
}

/* One field s[0..n) of a row as COPY text reads it into out; 0 for NULL
 * (\N alone). Only the escapes copy.c means to write are taken. */
static int copy_field(gx_buf *out, const char *s, size_t n)
{
	buf_reset(out);
	if (n == 2 && s[0] == '\\' && s[1] == 'N')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20)
			abort();	/* a raw control character: COPY would misread */
		if (s[i] != '\\') {
			buf_addc(out, s[i]);
			continue;
		}
		if (++i == n)
			abort();
		switch (s[i]) {
		case 'b': buf_addc(out, '\b'); break;
		case 'f': buf_addc(out, '\f'); break;
		case 'n': buf_addc(out, '\n'); break;
		case 'r': buf_addc(out, '\r'); break;
		case 't': buf_addc(out, '\t'); break;
		case 'v': buf_addc(out, '\v'); break;
		case '\\': buf_addc(out, '\\'); break;
		default: {
			int v = 0, k = 0;
			for (; k < 3 && i < n && octal(s[i]); k++, i++)
				v = v * 8 + (s[i] - '0');
			i--;
			/* copy.c writes three digits, for control characters only;
			 * nothing else (\N inside a field, \., \x) */
			if (k != 3 || v >= 0x20 || v == 0)
				abort();
			buf_addc(out, (char)v);
		}
		}
	}
	return 1;
}

/* The member of r named like column col, or NULL. */
static const struct gx_field *member(const struct gx_reader *r, const char *name, size_t len)
{
	for (size_t k = 0; k < r->nf; k++)
		if (r->f[k].klen == len && !memcmp(r->f[k].key, name, len))
			return &r->f[k];
	return NULL;
}

/* Whether the string v holds U+0000 (PostgreSQL text cannot). */
static int has_nul(const struct gx_field *v)
{
	static gx_buf tmp;
	int nul = 0;

	buf_reset(&tmp);
	if (v->type == GX_STR && json_unescape(&tmp, v->val, v->vlen, &nul) < 0)
		abort();
	return nul;
}

/* The COPY text line s[0..n) as nv fields, the values of v[], then the
 * field last when not NULL, then a newline. */
static void check_line(const char *s, size_t n, const struct gx_field *const *v,
		       size_t nv, const char *last)
{
	static gx_buf want, got;
	const char *end = s + n - 1, *f = s;
	int nul;

	if (!n || *end != '\n' || memchr(s, '\n', n - 1))
		abort();	/* one line */
	for (size_t col = 0; col < nv + (last != NULL); col++) {
		const char *tab = memchr(f, '\t', (size_t)(end - f));
		size_t fn = (size_t)((tab ? tab : end) - f);
		if (!tab != (col + 1 == nv + (last != NULL)))
			abort();	/* too few or too many fields */
		if (col == nv) {
			if (fn != strlen(last) || memcmp(f, last, fn))
				abort();
			break;
		}
		int notnull = copy_field(&got, f, fn);
		if (notnull != (v[col]->type != GX_NULL))
			abort();
		buf_reset(&want);
		if (v[col]->type == GX_STR) {
			if (json_unescape(&want, v[col]->val, v[col]->vlen, &nul) < 0 || nul)
				abort();
		} else if (v[col]->type != GX_NULL) {
			buf_add(&want, v[col]->val, v[col]->vlen);
		}
		if (got.len != want.len || (want.len && memcmp(got.s, want.s, want.len)))
			abort();	/* COPY would read another value */
		if (!tab)
			break;
		f = tab + 1;
	}
}

/* Batch row i: the record's members in column order, then its line
 * number. */
static void check_row(const struct gx_reader *r, size_t row)
{
	static const struct gx_field **v;
	static size_t nv;
	char line[32];

	GX_GROW(v, T.ncols, nv);
	for (size_t c = 0; c < T.ncols; c++)
		if (!(v[c] = member(r, T.cols[c], T.collen[c])))
			abort();
	snprintf(line, sizeof line, "%lu", r->lineno);
	check_line(B.text.s + B.rows[row].off, B.text.len - B.rows[row].off,
		   v, T.ncols, line);
}

/* The keys --prune keeps of a refused record: its key members, unless
 * one is missing or cannot be text. */
static void check_kept(const struct gx_reader *r)
{
	const struct gx_field *v[2];
	int keep = 1;

	buf_reset(&kept);
	copy_keep_keys(&kept, &B, &T, r);
	for (size_t k = 0; k < T.nkeys; k++) {
		v[k] = reader_get(r, T.keys[k]);
		keep &= v[k] && !has_nul(v[k]);
	}
	if (!keep) {
		if (kept.len)
			abort();	/* kept a key it does not have */
		return;
	}
	check_line(kept.s, kept.len, v, T.nkeys, NULL);
}

/* Whether copy_add must take the record: its keys are the columns, and
 * no string holds U+0000. */
static int acceptable(const struct gx_reader *r)
{
	if (r->nf != T.ncols)
		return 0;
	for (size_t c = 0; c < T.ncols; c++) {
		const struct gx_field *v = member(r, T.cols[c], T.collen[c]);
		if (!v || has_nul(v))
			return 0;
	}
	return 1;
}

static void check_record(const struct gx_reader *r)
{
	static gx_buf from_row;
	struct batch *b = &B;
	size_t text_len = b->text.len, n = b->n;
	const char *why = NULL, *sqlstate = NULL;
	int ok = copy_add(b, &T, r, &why, &sqlstate) == 0;

	if (ok != acceptable(r))
		abort();
	if (!ok) {
		if (!why || !*why || b->text.len != text_len || b->n != n ||
		    (b->text.s && b->text.s[text_len]))
			abort();	/* a refused record leaves no trace */
		check_kept(r);
		return;
	}
	if (b->n != n + 1 || b->rows[n].off != text_len || b->rows[n].line != r->lineno)
		abort();
	check_row(r, n);
	buf_reset(&kept);
	copy_keep_keys(&kept, b, &T, r);
	buf_reset(&from_row);
	buf_add(&from_row, kept.s, kept.len);
	buf_reset(&kept);
	batch_keep_keys(&kept, b, &T, n);
	if (from_row.len != kept.len || memcmp(from_row.s, kept.s, from_row.len))
		abort();	/* the two ways of keeping keys differ */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gx_reader r;	/* static: survives the longjmp */
	static FILE *in;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	reader_init(&r, in, "fuzz");
	r.max_line = 1 << 16;
	reading = 1;
	if (setjmp(die_jmp) == 0) {
		while (reader_next(&r)) {
			reading = 0;
			if (!r.control) {
				if (!T.cols && columns(&r) < 0)
					break;
				check_record(&r);
			}
			reading = 1;
		}
	}
	reading = 0;
	columns_free();
	batch_free(&B);
	memset(&B, 0, sizeof B);
	buf_free(&kept);
	reader_free(&r);
	fclose(in);
	return 0;
}
