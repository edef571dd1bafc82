/* libFuzzer target: bytes as an NDJSON stream through the common reader
 * (common/stream.c), and the JSON string helpers on the same bytes.
 * The reader ends bad input with gx_die; here gx_die jumps back instead
 * of exiting (tests/fuzz/run builds gx.c with its gx_die renamed). */
#define _POSIX_C_SOURCE 200809L
#include "stream.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf die_jmp;

void gx_die(int status, const char *fmt, ...)
{
	(void)status;
	(void)fmt;
	longjmp(die_jmp, 1);
}

static void check_strings(const uint8_t *data, size_t size)
{
	gx_buf esc = GX_BUF_INIT, back = GX_BUF_INIT;
	int nul;
	long n;

	/* json_add_str must always write a valid JSON string, and decoding it
	 * must give the input back when the input was valid UTF-8. */
	size_t bad = json_add_str(&esc, (const char *)data, size);
	if (esc.len < 2 || esc.s[0] != '"' || esc.s[esc.len - 1] != '"')
		abort();
	n = json_unescape(&back, esc.s + 1, esc.len - 2, &nul);
	if (n < 0)
		abort();
	if (bad == 0 && (back.len != size || (size && memcmp(back.s, data, size))))
		abort();
	if (json_str_check(esc.s + 1, esc.len - 2, &nul) != n)
		abort();
	/* The bytes as escaped string content: decoding must not crash, and
	 * checking and decoding must agree. */
	buf_reset(&back);
	n = json_unescape(&back, (const char *)data, size, &nul);
	if (json_str_check((const char *)data, size, &nul) != n)
		abort();
	(void)json_num_valid((const char *)data, size);
	buf_free(&esc);
	buf_free(&back);
}

/* An independent JSON grammar (RFC 8259) for what the reader accepted:
 * 1 valid, 0 invalid, -1 too deep to say. */
static int ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return (int)i;
}

static int value(const char *s, size_t n, size_t *i, int depth);

static int string(const char *s, size_t n, size_t *i)
{
	size_t j = *i + 1;
	int nul;

	if (*i >= n || s[*i] != '"')
		return 0;
	while (j < n && s[j] != '"')
		j += s[j] == '\\' ? 2 : 1;
	if (j >= n || json_str_check(s + *i + 1, j - *i - 1, &nul) < 0)
		return 0;
	*i = j + 1;
	return 1;
}

static int value(const char *s, size_t n, size_t *i, int depth)
{
	if (depth > 500)
		return -1;
	*i = (size_t)ws(s, n, *i);
	if (*i >= n)
		return 0;
	char c = s[*i];
	if (c == '"')
		return string(s, n, i);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		*i = (size_t)ws(s, n, *i + 1);
		if (*i < n && s[*i] == close) {
			++*i;
			return 1;
		}
		for (;;) {
			if (c == '{') {
				*i = (size_t)ws(s, n, *i);
				if (!string(s, n, i))
					return 0;
				*i = (size_t)ws(s, n, *i);
				if (*i >= n || s[(*i)++] != ':')
					return 0;
			}
			int v = value(s, n, i, depth + 1);
			if (v != 1)
				return v;
			*i = (size_t)ws(s, n, *i);
			if (*i >= n)
				return 0;
			if (s[*i] == close) {
				++*i;
				return 1;
			}
			if (s[(*i)++] != ',')
				return 0;
		}
	}
	size_t e = *i;
	while (e < n && memchr("0123456789+-.eEtruefalsn", s[e], 24))
		e++;
	if ((e - *i == 4 && (!memcmp(s + *i, "true", 4) || !memcmp(s + *i, "null", 4))) ||
	    (e - *i == 5 && !memcmp(s + *i, "false", 5)) || json_num_valid(s + *i, e - *i)) {
		*i = e;
		return 1;
	}
	return 0;
}

static void oracle(const gx_buf *line)
{
	size_t n = line->len, i = 0;

	if (n && line->s[n - 1] == '\r')
		n--;
	int v = value(line->s, n, &i, 0);
	if (v == 0 || (v == 1 && (size_t)ws(line->s, n, i) != n))
		abort();	/* the reader accepted a line that is not JSON */
}

/* One pass of the reader over the bytes; digest: what it made of them
 * (each record's fields, and the line where it refused, if it did). */
static void read_all(const uint8_t *data, size_t size, gx_buf *digest)
{
	static struct gx_reader r;	/* static: survives the longjmp */
	static gx_buf val;
	static FILE *in;
	int nul;

	in = fmemopen((void *)data, size, "r");
	if (!in)
		abort();
	reader_init(&r, in, "fuzz");
	r.max_line = 1 << 16;
	if (setjmp(die_jmp) == 0) {
		while (reader_next(&r)) {
			oracle(&r.line);
			buf_addf(digest, "L%lu", r.lineno);
			for (size_t i = 0; i < r.nf; i++) {
				const struct gx_field *f = &r.f[i];
				if (memchr(f->key, '\0', f->klen))
					abort();	/* keys never hold U+0000 */
				if (f->type == GX_STR) {
					buf_reset(&val);
					if (json_unescape(&val, f->val, f->vlen, &nul) < 0)
						abort();	/* the reader accepted it */
				}
				if (f->type == GX_NUM && !json_num_valid(f->val, f->vlen))
					abort();
				buf_addf(digest, "|%zu:", f->klen);
				buf_add(digest, f->key, f->klen);
				buf_addf(digest, "%d%zu:", (int)f->type, f->vlen);
				buf_add(digest, f->val, f->vlen);
			}
			(void)reader_get(&r, "id");
		}
		reader_expect_end(&r);
		buf_adds(digest, "E");
	} else {
		buf_addf(digest, "D%lu", r.lineno);
	}
	reader_free(&r);
	fclose(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gx_buf fast, full;

	check_strings(data, size);
	if (size == 0)
		return 0;
	/* The one-pass reading of flat records and jsmn's with the full
	 * checks must make the same of every input. */
	buf_reset(&fast);
	buf_reset(&full);
	gx_reader_flat = 1;
	read_all(data, size, &fast);
	gx_reader_flat = 0;
	read_all(data, size, &full);
	if (fast.len != full.len || memcmp(fast.s, full.s, fast.len))
		abort();
	return 0;
}
