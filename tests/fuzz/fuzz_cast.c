/* libFuzzer target: gx-map's casts (transform/cast.c, map_convert) on any
 * value, with any column type and options, in a source zone with or
 * without DST (transform/tz.c). The first five bytes choose:
 *   [0] the type; [1] options: 1 round, 2 long=truncate, 4 nul=strip,
 *       8 the value is raw JSON text (else the rest is a string's text),
 *       16 numeric has a precision and scale (else it is unconstrained);
 *   [2..3] varchar's length, numeric's precision and scale; [4] the zone.
 * The rest is the value. What each cast writes is checked against an
 * independent reading of what it had to write (the decimal value of a
 * numeric, the text of a string, the instant of a timestamptz), and a
 * value it had to take must not be rejected. */
#define _POSIX_C_SOURCE 200809L
#include "map.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reading.h"

static const char *const zones[] = {
	"UTC", "+05:30", "-9:30", "America/New_York", "Europe/London",
	"Australia/Lord_Howe", "Pacific/Apia", "America/Sao_Paulo",
	"Africa/Casablanca", "Europe/Dublin", "Asia/Kathmandu", "Antarctica/Troll",
};
#define NZONES (sizeof zones / sizeof zones[0])
static struct gx_tz tz[NZONES];
static const char *tz_set;	/* the zone TZ names now */

/* The value as a record member: one line {"v":TEXT} through the reader. */
static int read_value(struct gx_reader *r, FILE **in, gx_buf *line, int *type)
{
	*in = fmemopen(line->s, line->len, "r");
	if (!*in)
		abort();
	reader_init(r, *in, "value");
	reading = 1;
	if (setjmp(die_jmp) || !reader_next(r) || r->control || r->nf != 1) {
		reading = 0;
		return -1;
	}
	reading = 0;
	*type = (int)r->f[0].type;
	return 0;
}

/* The output, as the value of a record member, must read back as JSON. */
static int out_type(const gx_buf *out, gx_buf *decoded)
{
	static struct gx_reader r;
	static gx_buf line;
	FILE *in;
	int type, nul;

	buf_reset(&line);
	buf_adds(&line, "{\"v\":");
	buf_add(&line, out->s, out->len);
	buf_adds(&line, "}\n");
	in = fmemopen(line.s, line.len, "r");
	if (!in)
		abort();
	reader_init(&r, in, "output");
	if (!reader_next(&r) || r.nf != 1 || r.line.len != line.len - 1)
		abort();
	type = (int)r.f[0].type;
	buf_grow(decoded, 1);	/* never NULL, even when empty */
	buf_reset(decoded);
	if (type == GX_STR && json_unescape(decoded, r.f[0].val, r.f[0].vlen, &nul) < 0)
		abort();
	if (type != GX_STR)
		buf_add(decoded, r.f[0].val, r.f[0].vlen);
	reader_free(&r);
	fclose(in);
	return type;
}

/* 1 when s[0..n) is one JSON value by the reader, nested at most 512
 * deep (json_compact's limit); 0 when not, or on more than one line. */
static int json_shallow(const char *s, size_t n)
{
	static struct gx_reader r;
	static gx_buf line;
	FILE *in;
	int ok = 0, depth = 0, max = 0, str = 0;

	if (!n || memchr(s, '\n', n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				str = 0;
		} else if (s[i] == '"') {
			str = 1;
		} else if (s[i] == '[' || s[i] == '{') {
			max = ++depth > max ? depth : max;
		} else if (s[i] == ']' || s[i] == '}') {
			depth--;
		}
	}
	if (max > 512)
		return 0;
	buf_reset(&line);
	buf_adds(&line, "{\"v\":");
	buf_add(&line, s, n);
	buf_adds(&line, "}\n");
	in = fmemopen(line.s, line.len, "r");
	if (!in)
		abort();
	reader_init(&r, in, "json");
	reading = 1;
	if (setjmp(die_jmp) == 0)
		ok = reader_next(&r) && r.nf == 1;
	reading = 0;
	reader_free(&r);
	fclose(in);
	return ok;
}

static int word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(s, w, n);
}

/* 1 when a[0..an) and b[0..bn) differ (either may be NULL when empty). */
static int differ(const char *a, size_t an, const char *b, size_t bn)
{
	return an != bn || (an && memcmp(a, b, an));
}

static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

static int n2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* --- numbers: a decimal as 0.D x 10^E, D without leading or trailing
 * zeros (empty for zero) ------------------------------------------------ */
struct dec {
	int neg;
	gx_buf d;
	long e;
};

/* [+-]digits[.digits][(e|E)[+-]digits], the text the numeric cast reads;
 * 0 if it is not one (or its exponent is beyond 10000). */
static int dec_parse(struct dec *x, const char *s, size_t n)
{
	size_t i = 0, ip = 0, lead = 0;
	long exp = 0;
	int eneg = 0, digits = 0;

	buf_reset(&x->d);
	x->neg = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		x->neg = s[i++] == '-';
	for (int frac = 0; i < n; i++) {
		if (s[i] == '.' && !frac) {
			frac = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			break;
		buf_addc(&x->d, s[i]);
		ip += !frac;
		digits = 1;
	}
	if (!digits)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (!is_digits(s + i, n - i))
			return 0;
		for (; i < n; i++)
			if ((exp = exp * 10 + (s[i] - '0')) > 10000)
				return 0;
	}
	if (i != n)
		return 0;
	while (lead < x->d.len && x->d.s[lead] == '0')
		lead++;
	memmove(x->d.s, x->d.s + lead, x->d.len - lead);
	x->d.len -= lead;
	x->e = (long)ip - (long)lead + (eneg ? -exp : exp);
	while (x->d.len && x->d.s[x->d.len - 1] == '0')
		x->d.len--;
	x->d.s[x->d.len] = '\0';
	if (!x->d.len)
		x->neg = 0, x->e = 0;
	return 1;
}

static int dec_eq(const struct dec *a, const struct dec *b)
{
	return a->neg == b->neg && a->e == b->e && a->d.len == b->d.len &&
	       (!a->d.len || !memcmp(a->d.s, b->d.s, a->d.len));
}

/* x rounded half away from zero to scale digits after the point. */
static void dec_round(struct dec *x, int scale)
{
	long keep = x->e + scale;

	if (keep >= (long)x->d.len)
		return;
	int up = keep >= 0 && x->d.s[keep] >= '5';
	x->d.len = keep > 0 ? (size_t)keep : 0;
	for (size_t k = x->d.len; up && k-- > 0;) {
		up = x->d.s[k] == '9';
		x->d.s[k] = up ? '0' : (char)(x->d.s[k] + 1);
	}
	if (up) {	/* all nines, or nothing kept: one digit more in front */
		buf_addc(&x->d, '0');
		memmove(x->d.s + 1, x->d.s, x->d.len - 1);
		x->d.s[0] = '1';
		x->e++;
	}
	while (x->d.len && x->d.s[x->d.len - 1] == '0')
		x->d.len--;
	if (!x->d.len)
		x->neg = 0, x->e = 0;
}

/* The output of a numeric cast: -?(0|[1-9][0-9]*)(.[0-9]+)?, no "-0". */
static void check_numeric(const struct map_col *c, int ok, const char *out, size_t on,
			  const char *in, size_t n)
{
	static struct dec want, got;
	int valid = dec_parse(&want, in, n);
	size_t i = out && on && out[0] == '-', ip = 0, fp = 0;

	if (!ok) {
		if (!valid)
			return;
		if (c->len) {
			if (c->round)
				dec_round(&want, c->scale);
			if (want.d.len && (long)want.d.len - want.e > c->scale)
				return;		/* more digits after the point */
			if (want.e > c->len - c->scale)
				return;		/* more before it */
		}
		abort();	/* rejected a number the column holds */
	}
	while (i + ip < on && out[i + ip] >= '0' && out[i + ip] <= '9')
		ip++;
	if (i + ip < on && out[i + ip] == '.')
		fp = on - i - ip - 1;
	if (!ip || (ip > 1 && out[i] == '0') || i + ip + (fp ? fp + 1 : 0) != on ||
	    (fp && !is_digits(out + i + ip + 1, fp)))
		abort();
	if (!valid || !dec_parse(&got, out, on) || (i && !got.d.len))
		abort();
	if (c->len) {
		if ((int)fp > c->scale || (long)ip > (c->len - c->scale > 0 ?
						       c->len - c->scale : 1))
			abort();
		if (c->round)
			dec_round(&want, c->scale);
	}
	if (!dec_eq(&want, &got))
		abort();	/* another value */
}

static void check_int(enum col_type t, int ok, const char *out, size_t on,
		      const struct gx_field *v, const char *in, size_t n)
{
	__int128 lim = t == COL_SMALLINT ? 32767 : t == COL_INTEGER ? 2147483647 :
		INT64_MAX, val = 0;
	size_t i = n && in[0] == '-';

	if (!ok) {
		if (!is_digits(in + i, n - i))
			return;
		for (size_t k = i; k < n && val <= lim + 1; k++)
			val = val * 10 + (in[k] - '0');
		if (val <= lim + (__int128)i)
			abort();	/* rejected an integer in range */
		return;
	}
	if (v->type == GX_NUM) {
		if (differ(out, on, in, n))
			abort();
		return;
	}
	i = on && out[0] == '-';
	if (!is_digits(out + i, on - i) || (on - i > 1 && out[i] == '0') ||
	    (i && on == 2 && out[1] == '0'))
		abort();
	for (size_t k = i; k < on; k++)
		val = val * 10 + (out[k] - '0');
	if (val > lim + (__int128)i)
		abort();
}

/* --- strings ------------------------------------------------------------ */
static size_t chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

static void check_text(const struct map_col *c, int ok, const gx_buf *got,
		       const struct gx_field *v)
{
	static gx_buf want;
	int nul = 0;

	buf_reset(&want);
	if (v->type == GX_STR) {
		if (json_unescape(&want, v->val, v->vlen, &nul) < 0)
			abort();
	} else if (v->type == GX_NUM) {
		buf_add(&want, v->val, v->vlen);
	} else {
		if (ok)
			abort();	/* took a value that is not a string */
		return;
	}
	if (nul && c->nul_strip) {
		size_t w = 0;
		for (size_t i = 0; i < want.len; i++)
			if (want.s[i])
				want.s[w++] = want.s[i];
		want.len = w;
		nul = 0;
	}
	if (c->type == COL_VARCHAR && chars(want.s, want.len) > (size_t)c->len) {
		if (!c->truncate) {
			if (ok)
				abort();
			return;
		}
		size_t i = 0;
		for (size_t k = 0; i < want.len; i++)
			if (((unsigned char)want.s[i] & 0xC0) != 0x80 && k++ == (size_t)c->len)
				break;
		want.len = i;
	}
	if (!ok) {
		if (!nul)
			abort();	/* rejected a string the column holds */
		return;
	}
	if (nul || differ(got->s, got->len, want.s, want.len))
		abort();
}

/* --- dates and times ---------------------------------------------------- */
/* ":MM:SS[.f{1,6}]" */
static int is_min_sec(const char *s, size_t n)
{
	return (n == 6 || (n >= 8 && n <= 13 && s[6] == '.' && is_digits(s + 7, n - 7))) &&
	       s[0] == ':' && is_digits(s + 1, 2) && n2(s + 1) <= 59 && s[3] == ':' &&
	       is_digits(s + 4, 2) && n2(s + 4) <= 59;
}

/* The fraction of ":MM:SS[.f]" is zero. */
static int zero_frac(const char *s, size_t n)
{
	return n == 6 || strspn(s + 7, "0") == n - 7;
}

/* HH:MM:SS[.f{1,6}], 00..23, or 24:00:00 */
static int is_clock(const char *s, size_t n)
{
	if (n < 8 || !is_digits(s, 2) || !is_min_sec(s + 2, n - 2))
		return 0;
	if (n2(s) == 24)
		return !memcmp(s + 2, ":00:00", 6) && zero_frac(s + 2, n - 2);
	return n2(s) < 24;
}

/* [-]HH:MM:SS[.f{1,6}] or HHH:..., at most 838:59:59 */
static int is_mysql_time(const char *s, size_t n)
{
	size_t i = n && s[0] == '-', h = 0;
	int hh = 0;

	while (i + h < n && h < 4 && s[i + h] >= '0' && s[i + h] <= '9')
		hh = hh * 10 + (s[i + h++] - '0');
	if (h < 2 || h > 3 || !is_min_sec(s + i + h, n - i - h))
		return 0;
	return hh < 838 || (hh == 838 && zero_frac(s + i + h, n - i - h));
}

static int is_date(const char *s, size_t n, int time_ok)
{
	char b[32];

	if (n != 10 && !(time_ok && n >= 19 && n <= 26))
		return 0;
	memcpy(b, s, n);
	b[n] = '\0';
	return gx_valid_datetime(b);
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int64_t wall(const char *s)
{
	int64_t w = days_from_civil((s[0] - '0') * 1000 + (s[1] - '0') * 100 + n2(s + 2),
				    n2(s + 5), n2(s + 8)) * 86400;
	return w + n2(s + 11) * 3600 + n2(s + 14) * 60 + n2(s + 17);
}

/* The wall time of instant t in TZ (seconds, read as if UTC). */
static int64_t local_wall(int64_t t, long *off)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		abort();
	int64_t w = days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday) * 86400 +
		    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	*off = (long)(w - t);
	return w;
}

/* "YYYY-MM-DD HH:MM:SS[.f]+HH:MM[:SS]": the input's wall time with its
 * offset, or where it does not exist (a gap), moved forward by the gap;
 * where it exists twice, its first occurrence. */
static void check_stamp(const struct gx_tz *z, const char *got, size_t gn,
			const char *in, size_t n)
{
	char full[40];
	size_t fl = n > 19 ? n - 19 : 0, at = 19 + fl;

	memcpy(full, in, n);
	if (n == 10)
		memcpy(full + 10, " 00:00:00", 10);
	full[19 + fl] = '\0';
	if (gn != at + 6 && gn != at + 9)
		abort();
	if (!is_date(got, 19, 1) || memcmp(got + 19, full + 19, fl) ||
	    (got[at] != '+' && got[at] != '-') || !is_digits(got + at + 1, 2) ||
	    got[at + 3] != ':' || !is_digits(got + at + 4, 2) ||
	    (gn == at + 9 && (got[at + 6] != ':' || !is_digits(got + at + 7, 2))))
		abort();
	long off = (got[at] == '-' ? -1 : 1) * (n2(got + at + 1) * 3600L +
		   n2(got + at + 4) * 60L + (gn == at + 9 ? n2(got + at + 7) : 0));
	int64_t w_in = wall(full), w_out = wall(got);
	if (z->fixed) {
		if (off != z->off || w_out != w_in)
			abort();
		return;
	}
	long o;
	if (local_wall(w_out - off, &o) != w_out || o != off)
		abort();	/* not the zone's wall time at that instant */
	if (w_out < w_in || w_out - w_in > 86400)
		abort();
	/* Every offset near w_in (sampled every 3 h over 27 h either side). */
	for (int64_t t = w_in - 27 * 3600; t <= w_in + 27 * 3600; t += 3 * 3600) {
		long cand;
		local_wall(t, &cand);
		if (local_wall(w_in - cand, &o) == w_in && o == cand &&
		    (w_out != w_in || cand > off))
			abort();	/* w_in exists, or exists earlier */
	}
}

/* --- the target --------------------------------------------------------- */
static struct gx_map m;		/* only its scratch buffers are used */

/* What map_convert gave (ok, and out as JSON of type ot, decoded into got)
 * for value v of column c in zone z, against what it had to give. */
static void check(const struct map_col *c, const struct gx_tz *z, const struct gx_field *v,
		  int ok, const gx_buf *out, int ot, const gx_buf *got)
{
	static gx_buf text;	/* the value's text, as the casts of strings see it */
	int nul = 0;

	buf_grow(&text, 1);	/* never NULL, even when empty */
	buf_reset(&text);
	if (v->type == GX_STR)
		json_unescape(&text, v->val, v->vlen, &nul);
	else
		buf_add(&text, v->val, v->vlen);
	int stringy = v->type == GX_STR && !nul;
	const char *t = text.s;
	size_t n = text.len;

	switch (c->type) {
	case COL_SMALLINT:
	case COL_INTEGER:
	case COL_BIGINT:
	case COL_NUMERIC:
	case COL_DOUBLE:
		if (ok && (ot != GX_NUM || (v->type != GX_NUM && v->type != GX_STR)))
			abort();
		if (v->type != GX_NUM && !stringy)
			break;
		if (c->type == COL_NUMERIC)
			check_numeric(c, ok, got->s, got->len, t, n);
		else if (c->type == COL_DOUBLE && ok &&
			 (!json_num_valid(t, n) || differ(got->s, got->len, t, n)))
			abort();
		else if (c->type <= COL_BIGINT)
			check_int(c->type, ok, got->s, got->len, v, t, n);
		break;
	case COL_BOOLEAN: {
		int want = v->type == GX_BOOL ? v->val[0] == 't' :
			!stringy ? -1 : (n == 1 && *t == '1') || word_is(t, n, "Y") || word_is(t, n, "yes") ? 1 :
			(n == 1 && *t == '0') || word_is(t, n, "N") || word_is(t, n, "no") ? 0 : -1;
		if (ok ? ot != GX_BOOL || (want >= 0 && got->s[0] != (want ? 't' : 'f')) : want >= 0)
			abort();
		break;
	}
	case COL_TEXT:
	case COL_VARCHAR:
		if (ok && ot != GX_STR)
			abort();
		check_text(c, ok, got, v);
		break;
	case COL_DATE:
	case COL_TIME:
	case COL_INTERVAL: {
		int valid = stringy && (c->type == COL_DATE ? is_date(t, n, 0) :
			c->type == COL_TIME ? is_clock(t, n) : is_mysql_time(t, n));
		if (ok != valid || (ok && (ot != GX_STR || differ(got->s, got->len, t, n))))
			abort();
		break;
	}
	case COL_TIMESTAMPTZ:
		if (ok != (stringy && is_date(t, n, 1)) || (ok && ot != GX_STR))
			abort();
		if (ok)
			check_stamp(z, got->s, got->len, t, n);
		break;
	case COL_JSON:
		if (ok) {	/* compact: the same again */
			gx_buf again = GX_BUF_INIT, why = GX_BUF_INIT;
			struct gx_field w = { "v", 1, GX_STR, out->s + 1, out->len - 2 };
			if (ot != GX_STR ||
			    map_convert(&m, (struct map_col *)c, (struct gx_tz *)z, &w, &again, &why) != CAST_OK ||
			    differ(again.s, again.len, out->s, out->len))
				abort();
			buf_free(&again);
			buf_free(&why);
		} else if ((stringy || v->type != GX_STR) &&
			   json_shallow(stringy ? t : v->val, stringy ? n : v->vlen)) {
			abort();	/* rejected JSON the reader takes */
		}
		break;
	}
}

static void setup(void)
{
	gx_buf err = GX_BUF_INIT;

	for (size_t i = 0; i < NZONES; i++)
		if (tz_open(&tz[i], zones[i], &err))
			abort();
	tz_set = NULL;
	buf_free(&err);
}

/* The column and zone of the first five bytes (the top of this file). */
static const struct gx_tz *column(struct map_col *c, const uint8_t *d)
{
	static char yes[] = "Y\0yes", no[] = "N\0no";
	unsigned p = d[2] | (unsigned)d[3] << 8;
	const struct gx_tz *z = &tz[d[4] % NZONES];

	memset(c, 0, sizeof *c);
	c->type = (enum col_type)(d[0] % (COL_JSON + 1));
	c->round = d[1] & 1;
	c->truncate = (d[1] >> 1) & 1;
	c->nul_strip = (d[1] >> 2) & 1;
	c->yes = (struct word_list){ yes, sizeof yes - 1 };
	c->no = (struct word_list){ no, sizeof no - 1 };
	if (c->type == COL_VARCHAR)
		c->len = 1 + (int)(p % 64);
	if (c->type == COL_NUMERIC && (d[1] & 16)) {
		c->len = 1 + (int)(d[2] % 40);
		c->scale = (int)(d[3] % (unsigned)(c->len + 1));
	}
	if (!z->fixed && z->name != tz_set) {	/* tz.c reads TZ */
		setenv("TZ", z->name, 1);
		tzset();
		tz_set = z->name;
	}
	return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct gx_reader r;
	static gx_buf line, out, why, got;
	struct map_col c;
	FILE *in = NULL;
	int type;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 5)
		return 0;
	const struct gx_tz *z = column(&c, data);

	/* The value: raw JSON text, or the bytes as a string. */
	buf_reset(&line);
	buf_adds(&line, "{\"v\":");
	if (data[1] & 8) {
		if (memchr(data + 5, '\n', size - 5))
			return 0;
		buf_add(&line, data + 5, size - 5);
	} else {
		json_add_str(&line, (const char *)data + 5, size - 5);
	}
	buf_adds(&line, "}\n");
	if (read_value(&r, &in, &line, &type) == 0) {
		buf_reset(&out);
		buf_reset(&why);
		int rc = map_convert(&m, &c, (struct gx_tz *)z, &r.f[0], &out, &why);
		if (rc != CAST_OK && rc != CAST_REJECT)
			abort();
		if (rc == CAST_REJECT) {
			gx_buf tmp = GX_BUF_INIT;
			if (!why.len || json_add_str(&tmp, why.s, why.len))
				abort();	/* a reject says why, in UTF-8 */
			buf_free(&tmp);
		}
		int ok = rc == CAST_OK;
		check(&c, z, &r.f[0], ok, &out, ok ? out_type(&out, &got) : -1, &got);
	}
	reader_free(&r);
	if (in)
		fclose(in);
	return 0;
}
