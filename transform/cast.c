/* Converting a record: each source value through its column's null rules
 * and type into the target's JSON. Numbers and dates stay text: nothing
 * goes through double or struct tm unless a time-zone rule needs it. */
#include "map.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 512

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

static int num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* A short quotation of a value for a reject reason. */
static void excerpt(gx_buf *why, const struct gx_field *v)
{
	size_t n = v->vlen > 40 ? 40 : v->vlen;

	while (n < v->vlen && n > 0 && ((unsigned char)v->val[n] & 0xC0) == 0x80)
		n--;
	if (v->type == GX_STR)
		buf_addc(why, '"');
	buf_add(why, v->val, n);
	if (n < v->vlen)
		buf_adds(why, "...");
	if (v->type == GX_STR)
		buf_addc(why, '"');
}

static int bad(gx_buf *why, const char *what, const struct gx_field *v)
{
	buf_adds(why, what);
	if (v) {
		buf_adds(why, ": ");
		excerpt(why, v);
	}
	return CAST_REJECT;
}

static const char *type_word(enum gx_type t)
{
	static const char *const w[] = { "null", "a boolean", "a number",
					 "a string", "an object", "an array" };
	return w[t];
}

static int wrong_type(gx_buf *why, const char *want, const struct gx_field *v)
{
	buf_addf(why, "expected %s, got %s", want, type_word(v->type));
	return CAST_REJECT;
}

/* The text of a string value: the raw text when it has no escape, else
 * decoded into m->tmp. -1 when it holds U+0000. */
static int plain(struct gx_map *m, const struct gx_field *v, const char **s, size_t *n)
{
	int nul = 0;

	if (!memchr(v->val, '\\', v->vlen)) {
		*s = v->val, *n = v->vlen;
		return 0;
	}
	buf_reset(&m->tmp);
	if (json_unescape(&m->tmp, v->val, v->vlen, &nul) < 0 || nul)
		return -1;
	*s = m->tmp.s, *n = m->tmp.len;
	return 0;
}

/* "HH:MM:SS[.ffffff]" with hours 00..23, or 24:00:00 when allow24. */
static int valid_clock(const char *s, size_t n, int allow24)
{
	if (n < 8 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) ||
	    s[5] != ':' || !digits(s + 6, 2))
		return 0;
	int frac0 = 1;
	if (n > 8) {
		if (s[8] != '.' || n < 10 || n > 15 || !digits(s + 9, n - 9))
			return 0;
		for (size_t i = 9; i < n; i++)
			frac0 &= s[i] == '0';
	}
	int h = num2(s), m = num2(s + 3), sec = num2(s + 6);
	if (h == 24)
		return allow24 && m == 0 && sec == 0 && frac0;
	return h <= 23 && m <= 59 && sec <= 59;
}

/* MySQL TIME: [-]HH:MM:SS[.ffffff], 2 or 3 hour digits, at most
 * 838:59:59. PostgreSQL's interval input reads the same text. */
static int valid_interval(const char *s, size_t n)
{
	size_t i = n && s[0] == '-' ? 1 : 0, hd = 0;

	while (i + hd < n && is_digit(s[i + hd]))
		hd++;
	if (hd < 2 || hd > 3)
		return 0;
	const char *c = s + i + hd;	/* ":MM:SS[.f]" */
	size_t cn = n - i - hd;
	if (cn < 6 || c[0] != ':' || !digits(c + 1, 2) || c[3] != ':' ||
	    !digits(c + 4, 2) || num2(c + 1) > 59 || num2(c + 4) > 59)
		return 0;
	int frac0 = 1;
	if (cn > 6) {
		if (c[6] != '.' || cn < 8 || cn > 13 || !digits(c + 7, cn - 7))
			return 0;
		for (size_t k = 7; k < cn; k++)
			frac0 &= c[k] == '0';
	}
	int h = 0;
	for (size_t k = i; k < i + hd; k++)
		h = h * 10 + (s[k] - '0');
	if (h > 838 || (h == 838 && (num2(c + 1) > 59 || num2(c + 4) > 59 || !frac0)))
		return 0;
	return 1;
}

/* MySQL's zero and partial zero dates: a date or datetime whose year,
 * month or day is zero ("0000-00-00", "2022-11-00 10:00:00"). */
static int zero_date(const char *s, size_t n)
{
	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return 0;
	if (n > 10 && (s[10] != ' ' || !valid_clock(s + 11, n - 11, 0)))
		return 0;
	return (s[0] == '0' && s[1] == '0' && s[2] == '0' && s[3] == '0') ||
	       num2(s + 5) == 0 || num2(s + 8) == 0;
}

/* A real calendar date, or date and time (gx_valid_datetime's rules). */
static int valid_datetime(const char *s, size_t n, int with_time)
{
	char b[32];

	if (with_time ? !(n == 10 || (n >= 19 && n <= 26)) : n != 10)
		return 0;
	memcpy(b, s, n);
	b[n] = '\0';
	return gx_valid_datetime(b);
}

static int conv_int(gx_buf *out, enum col_type t, const struct gx_field *v,
		    const char *s, size_t n, gx_buf *why)
{
	static const char *const name[] = { "smallint", "integer", "bigint" };
	size_t i = n && s[0] == '-';
	int neg = (int)i;

	if (i == n || !digits(s + i, n - i))
		return bad(why, "not an integer", v);
	while (i < n - 1 && s[i] == '0')
		i++;
	uint64_t val = 0, lim = t == COL_SMALLINT ? 32767 : t == COL_INTEGER ?
		2147483647 : INT64_MAX;
	if (n - i > 19)
		val = UINT64_MAX;
	else
		for (size_t k = i; k < n; k++)
			val = val * 10 + (uint64_t)(s[k] - '0');
	if (val > lim + (uint64_t)neg) {
		buf_addf(why, "out of range for %s", name[t - COL_SMALLINT]);
		return bad(why, "", v);
	}
	if (v->type == GX_NUM) {
		out_add(out, s, n);
	} else {
		if (neg && val)
			buf_addc(out, '-');
		out_add(out, s + i, n - i);
	}
	return CAST_OK;
}

/* numeric(p,s) on the decimal text: the digits are moved, never
 * computed. Zeros past the scale are dropped; other digits past it
 * reject, or with round are rounded half away from zero. */
static int conv_numeric(struct gx_map *m, const struct map_col *c, gx_buf *out,
			const struct gx_field *v, const char *s, size_t n, gx_buf *why)
{
	size_t i = 0, ipn = 0, fpn = 0;
	int neg = 0;
	long exp = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	const char *ip = s + i, *fp = s;
	while (i < n && is_digit(s[i]))
		i++, ipn++;
	if (i < n && s[i] == '.') {
		fp = s + ++i;
		while (i < n && is_digit(s[i]))
			i++, fpn++;
	}
	if (ipn + fpn == 0)
		return bad(why, "not a number", v);
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;
		size_t d;
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (d = i; i < n && is_digit(s[i]) && exp <= 100000; i++)
			exp = exp * 10 + (s[i] - '0');
		if (i == d)
			return bad(why, "not a number", v);
		if (exp > 10000)
			return bad(why, "exponent out of range", v);
		exp = eneg ? -exp : exp;
	}
	if (i != n)
		return bad(why, "not a number", v);

	/* Lay the digits out as integer part and fraction in m->tmp2. */
	gx_buf *d = &m->tmp2;
	long nd = (long)(ipn + fpn), pt = (long)ipn + exp;
	buf_reset(d);
	for (long k = pt < 0 ? pt : 0; k < (pt > nd ? pt : nd); k++)
		buf_addc(d, k < 0 || k >= nd ? '0' : k < (long)ipn ? ip[k] : fp[k - (long)ipn]);
	size_t il = (size_t)(pt < 0 ? 0 : pt);	/* integer digits */
	char *dg = d->s;
	size_t fl = d->len - il;		/* fraction digits */

	if (c->len) {
		size_t scale = (size_t)c->scale;
		while (fl > scale && dg[il + fl - 1] == '0')
			fl--;
		if (fl > scale) {
			if (!c->round) {
				buf_addf(why, "more than %d digits after the point "
					 "(numeric(%d,%d); option round rounds)", c->scale,
					 c->len, c->scale);
				return bad(why, "", v);
			}
			int up = dg[il + scale] >= '5';
			fl = scale;
			for (size_t k = il + fl; up && k-- > 0;) {
				up = dg[k] == '9';
				dg[k] = up ? '0' : (char)(dg[k] + 1);
			}
			if (up) {	/* 9.99 -> 10.00: one more integer digit */
				buf_addc(d, '0');
				dg = d->s;
				memmove(dg + 1, dg, il + fl);
				dg[0] = '1';
				il++;
			}
		}
	}
	size_t z = 0;
	while (z < il && dg[z] == '0')
		z++;
	if (c->len && il - z > (size_t)(c->len - c->scale)) {
		buf_addf(why, "more than %d digits before the point (numeric(%d,%d))",
			 c->len - c->scale, c->len, c->scale);
		return bad(why, "", v);
	}
	int nonzero = 0;
	for (size_t k = z; k < il + fl; k++)
		nonzero |= dg[k] != '0';
	if (neg && nonzero)
		buf_addc(out, '-');
	if (z == il)
		buf_addc(out, '0');
	else
		out_add(out, dg + z, il - z);
	if (fl) {
		buf_addc(out, '.');
		out_add(out, dg + il, fl);
	}
	return CAST_OK;
}

static int conv_double(struct gx_map *m, gx_buf *out, const struct gx_field *v,
		       const char *s, size_t n, gx_buf *why)
{
	if (!json_num_valid(s, n))
		return bad(why, "not a number", v);
	/* Parsed only to check the range PostgreSQL's float8 accepts; the
	 * digits written are the ones received. */
	buf_reset(&m->tmp2);
	buf_add(&m->tmp2, s, n);
	errno = 0;
	double d = strtod(m->tmp2.s, NULL);
	if (errno == ERANGE && (d == 0 || d == HUGE_VAL || d == -HUGE_VAL))
		return bad(why, "out of range for double precision", v);
	out_add(out, s, n);
	return CAST_OK;
}

static int word_in(const struct word_list *w, const char *s, size_t n)
{
	for (size_t i = 0; w->s && i < w->len; i += strlen(w->s + i) + 1)
		if (strlen(w->s + i) == n && !memcmp(w->s + i, s, n))
			return 1;
	return 0;
}

static int conv_bool(struct gx_map *m, const struct map_col *c, gx_buf *out,
		     const struct gx_field *v, gx_buf *why)
{
	const char *s = v->val;
	size_t n = v->vlen;
	int t = -1;

	if (v->type == GX_BOOL)
		t = s[0] == 't';
	else if (v->type == GX_NUM && n == 1 && (s[0] == '0' || s[0] == '1'))
		t = s[0] == '1';
	else if (v->type == GX_STR && plain(m, v, &s, &n) == 0) {
		if (n == 1 && (s[0] == '0' || s[0] == '1'))
			t = s[0] == '1';
		else if (word_in(&c->yes, s, n))
			t = 1;
		else if (word_in(&c->no, s, n))
			t = 0;
	}
	if (t < 0)
		return bad(why, "not a boolean", v);
	buf_adds(out, t ? "true" : "false");
	return CAST_OK;
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

/* text and varchar(n). The raw escaped text is copied when no rule
 * changes it, which is nearly always. */
static int conv_text(struct gx_map *m, struct map_col *c, gx_buf *out,
		     const struct gx_field *v, gx_buf *why)
{
	const char *s = v->val;
	size_t n = v->vlen, chars = 0;
	int esc, nul = 0;

	if (v->type != GX_STR && v->type != GX_NUM)
		return wrong_type(why, "a string", v);
	esc = v->type == GX_STR && memchr(s, '\\', n) != NULL;
	if (esc) {
		long k = json_str_check(s, n, &nul);
		if (k < 0)
			return bad(why, "invalid string", NULL);
		chars = (size_t)k;
	} else if (c->type == COL_VARCHAR && n > (size_t)c->len) {
		chars = utf8_chars(s, n);
	}
	if (nul && !c->nul_strip)
		return bad(why, "holds U+0000, which PostgreSQL text refuses (nul=strip removes it)", NULL);
	if (!nul && (c->type == COL_TEXT || chars <= (size_t)c->len)) {
		buf_addc(out, '"');
		out_add(out, s, n);
		buf_addc(out, '"');
		return CAST_OK;
	}
	/* Decode, strip U+0000, cut to length, encode again. */
	buf_reset(&m->tmp);
	if (esc)
		json_unescape(&m->tmp, s, n, &nul);
	else
		buf_add(&m->tmp, s, n);
	if (nul) {
		size_t w = 0;
		for (size_t i = 0; i < m->tmp.len; i++)
			if (m->tmp.s[i])
				m->tmp.s[w++] = m->tmp.s[i];
		buf_setlen(&m->tmp, w);
		c->stripped++;
		chars = utf8_chars(m->tmp.s, w);
	}
	if (c->type == COL_VARCHAR && chars > (size_t)c->len) {
		if (!c->truncate) {
			buf_addf(why, "longer than %d characters (%zu)", c->len, chars);
			return CAST_REJECT;
		}
		size_t i = 0;
		for (size_t k = 0; i < m->tmp.len; i++)
			if (((unsigned char)m->tmp.s[i] & 0xC0) != 0x80 && k++ == (size_t)c->len)
				break;
		buf_setlen(&m->tmp, i);
		c->truncated++;
	}
	json_add_str(out, m->tmp.s, m->tmp.len);
	return CAST_OK;
}

/* Index of the '"' that closes the string opening at s[i], or 0. */
static size_t string_end(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && s[j] != '"')
		j += s[j] == '\\' ? 2 : 1;
	return j < n ? j : 0;
}

/* Appends the compact form of the JSON text s[0..n), one value of any
 * type; -1 if it is not valid JSON. */
static int json_compact(gx_buf *out, const char *s, size_t n)
{
	enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } st = VALUE;
	char stack[JSON_DEPTH];
	size_t depth = 0, i = 0, e;
	int nul;

	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (st == AFTER) {
			if (depth == 0)
				return i == n ? 0 : -1;
			if (i == n)
				return -1;
			char close = stack[depth - 1] == '{' ? '}' : ']';
			if (s[i] == ',') {
				st = close == '}' ? KEY : VALUE;
			} else if (s[i] == close) {
				depth--;
			} else {
				return -1;
			}
			buf_addc(out, s[i++]);
			continue;
		}
		if (i == n)
			return -1;
		char c = s[i];
		if ((st == VALUE_OR_CLOSE && c == ']') || (st == KEY_OR_CLOSE && c == '}')) {
			buf_addc(out, c);
			i++, depth--, st = AFTER;
			continue;
		}
		if (c == '"') {
			if (!(e = string_end(s, n, i)) ||
			    json_str_check(s + i + 1, e - i - 1, &nul) < 0)
				return -1;
			out_add(out, s + i, e + 1 - i);
			i = e + 1;
			if (st == KEY || st == KEY_OR_CLOSE) {
				while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
					i++;
				if (i == n || s[i] != ':')
					return -1;
				buf_addc(out, s[i++]);
				st = VALUE;
			} else {
				st = AFTER;
			}
			continue;
		}
		if (st == KEY || st == KEY_OR_CLOSE)
			return -1;
		if (c == '{' || c == '[') {
			if (depth == JSON_DEPTH)
				return -1;
			stack[depth++] = c;
			buf_addc(out, c);
			i++;
			st = c == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
			continue;
		}
		for (e = i; e < n && (is_digit(s[e]) || (s[e] >= 'a' && s[e] <= 'z') ||
				      s[e] == '-' || s[e] == '+' || s[e] == '.' || s[e] == 'E'); e++)
			;
		if (!((e - i == 4 && (!memcmp(s + i, "true", 4) || !memcmp(s + i, "null", 4))) ||
		      (e - i == 5 && !memcmp(s + i, "false", 5)) || json_num_valid(s + i, e - i)))
			return -1;
		out_add(out, s + i, e - i);
		i = e;
		st = AFTER;
	}
}

static int conv_json(struct gx_map *m, gx_buf *out, const struct gx_field *v, gx_buf *why)
{
	const char *s = v->val;
	size_t n = v->vlen;

	if (v->type == GX_STR && plain(m, v, &s, &n) < 0)
		return bad(why, "not valid JSON text", v);
	buf_reset(&m->tmp2);
	if (json_compact(&m->tmp2, s, n) < 0)
		return bad(why, "not valid JSON text", v);
	json_add_str(out, m->tmp2.s, m->tmp2.len);
	return CAST_OK;
}

int map_convert(struct gx_map *m, struct map_col *c, struct gx_tz *z,
		const struct gx_field *v, gx_buf *out, gx_buf *why)
{
	const char *s = v->val;
	size_t n = v->vlen;

	switch (c->type) {
	case COL_TEXT:
	case COL_VARCHAR:
		return conv_text(m, c, out, v, why);
	case COL_BOOLEAN:
		return conv_bool(m, c, out, v, why);
	case COL_JSON:
		return conv_json(m, out, v, why);
	default:
		break;
	}
	int numeric = c->type <= COL_DOUBLE;
	if (v->type == GX_STR) {
		if (plain(m, v, &s, &n) < 0)
			return bad(why, "holds U+0000", NULL);
	} else if (!numeric || v->type != GX_NUM) {
		return wrong_type(why, numeric ? "a number" : "a string", v);
	}
	switch (c->type) {
	case COL_SMALLINT:
	case COL_INTEGER:
	case COL_BIGINT:
		return conv_int(out, c->type, v, s, n, why);
	case COL_NUMERIC:
		return conv_numeric(m, c, out, v, s, n, why);
	case COL_DOUBLE:
		return conv_double(m, out, v, s, n, why);
	case COL_DATE:
		if (!valid_datetime(s, n, 0))
			return bad(why, "not a date (YYYY-MM-DD)", v);
		break;
	case COL_TIME:
		if (!valid_clock(s, n, 1))
			return bad(why, "not a time of day (HH:MM:SS[.ffffff])", v);
		break;
	case COL_INTERVAL:
		if (!valid_interval(s, n))
			return bad(why, "not a MySQL TIME ([-]HHH:MM:SS[.ffffff], at most 838:59:59)", v);
		break;
	case COL_TIMESTAMPTZ:
		if (!valid_datetime(s, n, 1))
			return bad(why, "not a date or datetime (YYYY-MM-DD[ HH:MM:SS[.ffffff]])", v);
		buf_addc(out, '"');
		tz_stamp(z, out, s, n);
		buf_addc(out, '"');
		return CAST_OK;
	default:
		return bad(why, "internal error: unknown type", NULL);
	}
	buf_addc(out, '"');
	out_add(out, s, n);
	buf_addc(out, '"');
	return CAST_OK;
}

/* A source value through the column's null rules, then its type. */
static int source_value(struct gx_map *m, struct map_col *c, struct gx_tz *z,
			const struct gx_field *v, gx_buf *out, gx_buf *why)
{
	if (!v || v->type == GX_NULL)
		return CAST_NULL;
	if (v->type == GX_STR) {
		if (v->vlen == 0 && c->empty_null)
			return CAST_NULL;
		if (c->zero != ZERO_KEEP && zero_date(v->val, v->vlen)) {
			if (c->zero == ZERO_NULL)
				return CAST_NULL;
			return bad(why, "zero date (zero=null makes it null)", v);
		}
	}
	return map_convert(m, c, z, v, out, why);
}

/* Names the column of a reject; why, unless NULL, replaces the reason. */
static int reject(struct map_reject *rej, const char *col, size_t len, const char *why)
{
	buf_reset(&rej->column);
	buf_add(&rej->column, col, len);
	if (why) {
		buf_reset(&rej->reason);
		buf_adds(&rej->reason, why);
	}
	return -1;
}

/* Finds each record member's source key. Records of one stream share
 * their layout, so the key at a position is checked against the one
 * found there last time before the hash is asked. */
static int index_record(struct gx_map *m, const struct gx_reader *r,
			struct map_reject *rej)
{
	size_t found = 0;

	if (m->npos < r->nf) {
		size_t old = m->npos;
		GX_GROW(m->pos, r->nf, m->npos);
		for (size_t i = old; i < m->npos; i++)
			m->pos[i] = -1;
	}
	memset(m->val, 0, m->nkey * sizeof *m->val);
	for (size_t i = 0; i < r->nf; i++) {
		const struct gx_field *f = &r->f[i];
		long k = m->pos[i];
		if (k < 0 || m->key[k].len != f->klen || memcmp(m->key[k].name, f->key, f->klen))
			k = m->pos[i] = map_key_find(m, f->key, f->klen);
		if (k < 0) {
			if (m->unknown_reject)
				return reject(rej, f->key, f->klen,
					      "unknown key (the map says @unknown reject)");
			continue;
		}
		if (m->val[k])
			return reject(rej, f->key, f->klen, "duplicate key");
		m->val[k] = f;
		found += (size_t)m->key[k].read;
	}
	if (found != m->nread && !m->missing_null)
		for (size_t k = 0; k < m->nkey; k++)
			if (m->key[k].read && !m->val[k])
				return reject(rej, m->key[k].name, m->key[k].len,
					      "missing key (the map says @missing reject)");
	return 0;
}

int map_apply(struct gx_map *m, struct gx_tz *z, const struct gx_reader *r,
	      gx_buf *out, struct map_reject *rej)
{
	gx_buf *why = &rej->reason;
	char sep = '{';

	if (index_record(m, r, rej))
		return -1;
	buf_reset(why);
	for (size_t i = 0; i < m->ncol; i++) {
		struct map_col *c = &m->col[i];
		if (c->drop)
			continue;
		buf_addc(out, sep);
		sep = ',';
		out_add(out, c->head, c->headlen);
		int rc = source_value(m, c, z, m->val[c->src], out, why);
		for (size_t a = 0; rc == CAST_NULL && a < c->nalt; a++) {
			rc = source_value(m, c, z, m->val[c->alt[a]], out, why);
			if (rc == CAST_REJECT) {
				const struct map_key *k = &m->key[c->alt[a]];
				gx_buf pre = GX_BUF_INIT;
				buf_addf(&pre, "else=%.*s: %s", (int)k->len, k->name, why->s);
				buf_reset(why);
				buf_add(why, pre.s, pre.len);
				buf_free(&pre);
			}
		}
		if (rc == CAST_NULL && c->has_def)
			rc = map_convert(m, c, z, &c->def, out, why);
		if (rc == CAST_NULL && c->not_null)
			rc = bad(why, c->nalt ? "null, and so is every else= key (not-null)" :
				 "null (not-null)", NULL);
		if (rc == CAST_REJECT)
			return reject(rej, c->target, strlen(c->target), NULL);
		if (rc == CAST_NULL)
			out_add(out, "null", 4);
	}
	out_add(out, "}\n", 2);
	return 0;
}
