/* NDJSON reading (jsmn) and JSON string writing. */
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "stream.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (1 << 16)

void reader_init(struct gx_reader *r, FILE *in, const char *name)
{
	memset(r, 0, sizeof *r);
	r->line = r->keys = (gx_buf)GX_BUF_INIT;
	r->in = in;
	r->name = name;
	r->max_line = GX_MAX_LINE_DEFAULT;
	r->blk = gx_malloc(BLOCK);
}

void reader_free(struct gx_reader *r)
{
	free(r->blk);
	free(r->tok);
	free(r->f);
	buf_free(&r->line);
	buf_free(&r->keys);
}

static noreturn void bad(const struct gx_reader *r, const char *why)
{
	gx_die(GX_EXIT_DATA, "%s: line %lu: %s", r->name, r->lineno, why);
}

/* Whatever input is there now, up to a block: read(2), not fread(3), which
 * would wait for a whole block and hold back a slow writer's lines. */
static size_t fill(struct gx_reader *r)
{
	int fd = fileno(r->in);
	size_t n;

	if (fd < 0) {	/* a stream without a descriptor (fmemopen) */
		n = fread(r->blk, 1, BLOCK, r->in);
		if (!n && ferror(r->in))
			gx_die(GX_EXIT_DATA, "%s: read error: %s", r->name, strerror(errno));
		return n;
	}
	for (;;) {
		ssize_t got = read(fd, r->blk, BLOCK);
		if (got >= 0)
			return (size_t)got;
		if (errno != EINTR)
			gx_die(GX_EXIT_DATA, "%s: read error: %s", r->name, strerror(errno));
	}
}

/* Reads one '\n'-terminated line into r->line (without the '\n', nor the
 * '\r' of a CRLF line end: no consumer sees it).
 * Returns 0 at EOF with nothing read. A last line without '\n' is a
 * truncated write: refused. */
static int read_line(struct gx_reader *r)
{
	buf_reset(&r->line);
	for (;;) {
		if (r->bpos == r->blen) {
			r->blen = fill(r);
			r->bpos = 0;
			if (r->blen == 0) {
				if (r->line.len == 0)
					return 0;
				r->lineno++;
				bad(r, "last line has no newline (truncated input)");
			}
		}
		char *p = r->blk + r->bpos;
		size_t avail = r->blen - r->bpos;
		char *nl = memchr(p, '\n', avail);
		size_t take = nl ? (size_t)(nl - p) : avail;

		if (r->line.len + take > r->max_line) {
			r->lineno++;
			bad(r, "line longer than the limit (--max-line)");
		}
		buf_add(&r->line, p, take);
		r->bpos += take + (nl != NULL);
		if (nl) {
			r->lineno++;
			if (r->line.len && r->line.s[r->line.len - 1] == '\r')
				buf_setlen(&r->line, r->line.len - 1);
			return 1;
		}
	}
}

int json_num_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i == n)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i == n;
}

int json_field_int(const struct gx_field *f, size_t max, int signed_ok)
{
	return f->type == GX_NUM && f->vlen <= max && (signed_ok || f->val[0] != '-') &&
	       !memchr(f->val, '.', f->vlen) && !memchr(f->val, 'e', f->vlen) &&
	       !memchr(f->val, 'E', f->vlen);
}

static int prim_type(const char *s, size_t n, enum gx_type *t)
{
	if (n == 4 && !memcmp(s, "null", 4))
		*t = GX_NULL;
	else if ((n == 4 && !memcmp(s, "true", 4)) ||
		 (n == 5 && !memcmp(s, "false", 5)))
		*t = GX_BOOL;
	else if (json_num_valid(s, n))
		*t = GX_NUM;
	else
		return 0;
	return 1;
}

/* Index just past token i and all its children. */
static unsigned skip_tok(const jsmntok_t *t, unsigned i, unsigned n)
{
	unsigned end = i + 1;

	while (end < n && t[end].start < t[i].end)
		end++;
	return end;
}

static size_t skip_ws(const char *js, size_t len, size_t i)
{
	while (i < len && (js[i] == ' ' || js[i] == '\t' || js[i] == '\n' || js[i] == '\r'))
		i++;
	return i;
}

static size_t skip_ws_back(const char *js, size_t i)
{
	while (i > 0 && (js[i - 1] == ' ' || js[i - 1] == '\t' ||
			 js[i - 1] == '\n' || js[i - 1] == '\r'))
		i--;
	return i;
}

/* jsmn is lenient about separators and value syntax; a stream that feeds a
 * warehouse must not be. Checks every token: strings are valid escaped
 * UTF-8, primitives are null/true/false/numbers, keys are strings with one
 * value, and each token sits between the right punctuation. */
static void validate(const struct gx_reader *r, const char *js, size_t len,
		     const jsmntok_t *t, unsigned n)
{
	/* An empty container holds only white space: jsmn takes {:} and [,]. */
	for (unsigned i = 0; i < n; i++)
		if (t[i].type != JSMN_STRING && t[i].type != JSMN_PRIMITIVE &&
		    t[i].size == 0 &&
		    skip_ws(js, len, (size_t)t[i].start + 1) != (size_t)t[i].end - 1)
			bad(r, "invalid JSON");
	for (unsigned i = 1; i < n; i++) {
		const jsmntok_t *k = &t[i], *par = &t[k->parent];
		int is_str = k->type == JSMN_STRING;
		int is_key = par->type == JSMN_OBJECT;
		size_t start = (size_t)k->start - (size_t)is_str;
		size_t after = skip_ws(js, len, (size_t)k->end + (size_t)is_str);
		size_t before = skip_ws_back(js, start);
		char pc = before ? js[before - 1] : 0, nc = after < len ? js[after] : 0;
		int nul;
		enum gx_type ty;

		if (is_key && (!is_str || k->size != 1))
			bad(r, "object keys must be strings followed by ':' and a value");
		if (is_key && nc != ':')
			bad(r, "missing ':' after a key");
		if (is_key || par->type == JSMN_ARRAY) {
			char open = is_key ? '{' : '[';
			if (pc != open && pc != ',')
				bad(r, "missing ',' between values");
			if (pc == open && before - 1 != (size_t)par->start)
				bad(r, "invalid JSON");
			/* jsmn takes a ',' with no value before it: {,"a":1} [1,,2] */
			if (pc == ',') {
				size_t pb = skip_ws_back(js, before - 1);
				if (pb == 0 || memchr("{[,:", js[pb - 1], 4))
					bad(r, "missing value before ','");
			}
		} else if (pc != ':' || skip_ws_back(js, before - 1) != (size_t)par->end + 1) {
			bad(r, "invalid JSON");	/* also jsmn's {"a"::1} */
		}
		if (!is_key) {
			/* a value: the container holding it closes or continues */
			const jsmntok_t *box = par->type == JSMN_STRING ? &t[par->parent] : par;
			char close = box->type == JSMN_OBJECT ? '}' : ']';
			unsigned next = skip_tok(t, i, n);
			int more = next < n && t[next].start < box->end;
			if (nc == ',' ? !more : (nc != close || after + 1 != (size_t)box->end))
				bad(r, "invalid JSON separators");
		}
		if (is_str && json_str_check(js + k->start,
					     (size_t)(k->end - k->start), &nul) < 0)
			bad(r, "invalid string (bad escape, control character or UTF-8)");
		if (k->type == JSMN_PRIMITIVE &&
		    !prim_type(js + k->start, (size_t)(k->end - k->start), &ty))
			bad(r, "invalid JSON value");
	}
}

int gx_reader_flat = 1;

/* A string's content from s[i] (just past its opening quote) to its closing
 * quote: the index of that quote, or 0 when the fast path must not judge it
 * (a control character, no closing quote, an escape or UTF-8 that does not
 * check). */
static size_t flat_string(const char *s, size_t n, size_t i)
{
	size_t start = i;
	int plain = 1, nul;

	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			plain = 0;
			i++;
		} else if (c >= 0x80) {
			plain = 0;
		}
	}
	if (i >= n || (!plain && json_str_check(s + start, i - start, &nul) < 0))
		return 0;
	return i;
}

/* The common line, read in one pass: a compact object (no white space) of
 * keys without escapes and values that are strings, numbers, true, false or
 * null. 1 when it is one (r->f filled, exactly as parse_line would), 0 for
 * anything else, left to jsmn and the full checks (and their messages). */
static int parse_flat(struct gx_reader *r)
{
	const char *s = r->line.s;
	size_t n = r->line.len, i = 1;

	if (!gx_reader_flat || n < 2 || s[0] != '{' || s[1] == '}')
		return 0;
	r->nf = 0;
	for (;;) {
		struct gx_field *f;
		size_t k, e;

		if (i >= n || s[i] != '"')
			return 0;
		for (k = ++i; k < n && s[k] != '"'; k++)
			if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x80 || s[k] == '\\')
				return 0;
		if (k + 1 >= n || s[k + 1] != ':')
			return 0;
		GX_GROW(r->f, r->nf + 1, r->capf);
		f = &r->f[r->nf++];
		f->key = s + i;
		f->klen = k - i;
		i = k + 2;
		if (i >= n)
			return 0;
		if (s[i] == '"') {
			if (!(e = flat_string(s, n, i + 1)))
				return 0;
			f->type = GX_STR;
			f->val = s + i + 1;
			f->vlen = e - i - 1;
			i = e + 1;
		} else {
			for (e = i; e < n && s[e] != ',' && s[e] != '}'; e++)
				;
			f->val = s + i;
			f->vlen = e - i;
			if (s[i] == '{' || s[i] == '[' || !prim_type(f->val, f->vlen, &f->type))
				return 0;
			i = e;
		}
		if (i >= n)
			return 0;
		if (s[i] == '}')
			return i + 1 == n;
		if (s[i] != ',')
			return 0;
		i++;
	}
}

static void parse_line(struct gx_reader *r)
{
	const char *js = r->line.s;
	size_t len = r->line.len;
	jsmn_parser p;
	int n;

	if (parse_flat(r))
		return;
	if (memchr(js, '\0', len))
		bad(r, "NUL byte in input");
	for (;;) {
		if (!r->ntok)
			r->tok = gx_grow(r->tok, 256, &r->ntok, sizeof(jsmntok_t));
		jsmn_init(&p);
		n = jsmn_parse(&p, js, len, r->tok, (unsigned)r->ntok);
		if (n != JSMN_ERROR_NOMEM)
			break;
		if (r->ntok > (1u << 28))
			bad(r, "too many JSON values on one line");
		r->tok = gx_grow(r->tok, r->ntok * 2, &r->ntok, sizeof(jsmntok_t));
	}
	if (n == JSMN_ERROR_INVAL)
		bad(r, "invalid JSON");
	if (n == JSMN_ERROR_PART || n == 0)
		bad(r, n ? "incomplete JSON (truncated line)" : "empty line");
	const jsmntok_t *t = r->tok;
	if (t[0].type != JSMN_OBJECT)
		bad(r, "a line must hold one JSON object");
	/* Anything after the object (a second value) is an error. */
	if (skip_tok(t, 0, (unsigned)n) != (unsigned)n)
		bad(r, "more than one JSON value on the line");
	for (size_t i = (size_t)t[0].end; i < len; i++)
		if (js[i] != ' ' && js[i] != '\t')
			bad(r, "text after the JSON object");
	for (size_t i = 0; i < (size_t)t[0].start; i++)
		if (js[i] != ' ' && js[i] != '\t')
			bad(r, "text before the JSON object");
	validate(r, js, len, t, (unsigned)n);

	r->nf = 0;
	buf_reset(&r->keys);
	for (unsigned i = 1; i < (unsigned)n;) {
		const jsmntok_t *k = &t[i], *v = &t[i + 1];
		struct gx_field *f;

		GX_GROW(r->f, r->nf + 1, r->capf);
		f = &r->f[r->nf++];
		f->key = js + k->start;
		f->klen = (size_t)(k->end - k->start);
		if (memchr(f->key, '\\', f->klen)) {
			/* Rare: keep the decoded key's offset, fixed up below. */
			size_t off = r->keys.len;
			int nul;
			if (json_unescape(&r->keys, f->key, f->klen, &nul) < 0 || nul)
				bad(r, "invalid key");
			buf_addc(&r->keys, '\0');
			f->key = NULL;
			f->klen = off;
		}
		f->val = js + v->start;
		f->vlen = (size_t)(v->end - v->start);
		switch (v->type) {
		case JSMN_STRING: f->type = GX_STR; break;
		case JSMN_OBJECT: f->type = GX_OBJ; break;
		case JSMN_ARRAY: f->type = GX_ARR; break;
		default:
			prim_type(f->val, f->vlen, &f->type);
		}
		i = skip_tok(t, i + 1, (unsigned)n);
	}
	for (size_t i = 0; i < r->nf; i++)
		if (!r->f[i].key) {
			size_t off = r->f[i].klen;
			r->f[i].key = r->keys.s + off;
			r->f[i].klen = strlen(r->keys.s + off);
		}
}

const struct gx_field *reader_get(const struct gx_reader *r, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < r->nf; i++)
		if (r->f[i].klen == n && !memcmp(r->f[i].key, key, n))
			return &r->f[i];
	return NULL;
}

static void read_end_marker(struct gx_reader *r)
{
	const struct gx_field *kind = reader_get(r, "@gx");
	const struct gx_field *cnt = reader_get(r, "records");

	if (kind->type != GX_STR)
		bad(r, "\"@gx\" must be a string");
	if (kind->vlen != 3 || memcmp(kind->val, "end", 3))
		return;	/* another control line: passed on by filters */
	if (r->end_seen)
		bad(r, "second end marker");
	if (!cnt || !json_field_int(cnt, 19, 0))
		bad(r, "end marker without a valid \"records\" count");
	r->end_records = strtoull(cnt->val, NULL, 10);
	r->end_seen = 1;
}

int reader_next(struct gx_reader *r)
{
	if (!read_line(r))
		return 0;
	parse_line(r);
	r->control = reader_get(r, "@gx") != NULL;
	if (r->control)
		read_end_marker(r);
	else if (r->end_seen)
		bad(r, "record after the end marker");
	return 1;
}

void reader_expect_end(const struct gx_reader *r)
{
	if (!r->end_seen)
		gx_die(GX_EXIT_TRUNC, "%s: input ended after line %lu without the "
		       "end marker: the upstream stage did not finish", r->name,
		       r->lineno);
}

/* Length of a valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

size_t json_add_str(gx_buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t bad_count = 0, i = 0;

	buf_grow(b, n + 2);
	b->s[b->len++] = '"';
	while (i < n) {
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		       s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		unsigned c = s[i];
		if (c < 0x80) {
			char e[6] = { '\\', 0 };
			size_t el = 2;
			switch (c) {
			case '"': e[1] = '"'; break;
			case '\\': e[1] = '\\'; break;
			case '\n': e[1] = 'n'; break;
			case '\r': e[1] = 'r'; break;
			case '\t': e[1] = 't'; break;
			case '\b': e[1] = 'b'; break;
			case '\f': e[1] = 'f'; break;
			default:
				e[1] = 'u', e[2] = '0', e[3] = '0';
				e[4] = hex[c >> 4], e[5] = hex[c & 15];
				el = 6;
			}
			buf_add(b, e, el);
			i++;
			continue;
		}
		size_t l = utf8_len(s + i, n - i);
		if (l) {
			buf_add(b, s + i, l);
			i += l;
		} else {
			buf_add(b, "\xEF\xBF\xBD", 3);
			bad_count++;
			i++;
		}
	}
	buf_addc(b, '"');
	return bad_count;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hex4(const char *s, size_t n, size_t i)
{
	long v = 0;

	if (i + 4 > n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval((unsigned char)s[i + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void put_utf8(gx_buf *out, unsigned long cp)
{
	char u[4];
	size_t l;

	if (cp < 0x80)
		u[0] = (char)cp, l = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), l = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (char)(0x80 | (cp & 0x3F)), l = 3;
	else
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), l = 4;
	buf_add(out, u, l);
}

/* Shared walk of json_unescape and json_str_check (out may be NULL). */
static long unescape(gx_buf *out, const char *str, size_t n, int *has_nul)
{
	const unsigned char *s = (const unsigned char *)str;
	long chars = 0;
	size_t i = 0;

	*has_nul = 0;
	while (i < n) {
		size_t run = i;
		/* Eight bytes at a time while none is < 0x20, >= 0x80 or '\\'
		 * (it may stop early, never late); then byte by byte. */
		for (uint64_t w, bs; run + 8 <= n; run += 8) {
			memcpy(&w, s + run, 8);
			bs = w ^ 0x5c5c5c5c5c5c5c5cull;
			if ((w | (w - 0x2020202020202020ull) |
			     ((bs - 0x0101010101010101ull) & ~bs)) & 0x8080808080808080ull)
				break;
		}
		while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '\\')
			run++;
		if (run > i) {
			if (out)
				buf_add(out, s + i, run - i);
			chars += (long)(run - i);
			i = run;
			continue;
		}
		if (s[i] < 0x20)
			return -1;
		if (s[i] >= 0x80) {
			size_t l = utf8_len(s + i, n - i);
			if (!l)
				return -1;
			if (out)
				buf_add(out, s + i, l);
			chars++;
			i += l;
			continue;
		}
		/* backslash escape */
		if (i + 1 >= n)
			return -1;
		char c = (char)s[i + 1];
		const char *simple = strchr("\"\\/bfnrt", c);
		if (simple && c) {
			static const char to[] = "\"\\/\b\f\n\r\t";
			if (out)
				buf_addc(out, to[simple - "\"\\/bfnrt"]);
			i += 2;
			chars++;
			continue;
		}
		if (c != 'u')
			return -1;
		long cp = hex4(str, n, i + 2);
		if (cp < 0)
			return -1;
		i += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (i + 1 >= n || s[i] != '\\' || s[i + 1] != 'u')
				return -1;
			long lo = hex4(str, n, i + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
			return -1;
		}
		if (cp == 0)
			*has_nul = 1;
		if (out)
			put_utf8(out, (unsigned long)cp);
		chars++;
	}
	return chars;
}

long json_unescape(gx_buf *out, const char *s, size_t n, int *has_nul)
{
	return unescape(out, s, n, has_nul);
}

long json_str_check(const char *s, size_t n, int *has_nul)
{
	return unescape(NULL, s, n, has_nul);
}
