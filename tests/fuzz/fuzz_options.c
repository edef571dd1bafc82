/* libFuzzer target: gx-extract's JSON-array options. The bytes up to the
 * first NUL (an argument cannot hold one) are an --after or a --probe
 * value, by the first byte (values_parse, extract/query.c), and a line of
 * a --keys file (keys_parse, the same grammar checked against 1 to 3
 * keys); their first
 * line is --shard K/N and the rest, after that newline, --shard-bounds
 * (shard_parse, extract/shard.c). What a parser accepts must be JSON by
 * the common reader, parse again from the text the end marker would give
 * back, and give the same. What it must accept: an array the reader takes
 * with only strings, numbers and nulls in it; a good K/N with N-1
 * ascending integer bounds in a key's range. Bounds not given are 0 until
 * planned. Every refusal is bad data (status 1) and names its option.
 * gx_die jumps back instead of exiting. */
#define _POSIX_C_SOURCE 200809L
#include "extract.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refusal.h"	/* die_prefix: the option a refusal must name */

/* The reader's verdict on s as the value of a member: its type, or -1
 * when the line is not JSON (-2 when it is not one line); *val gets the
 * value's JSON text. */
static int reader_type(const char *s, size_t n, gx_buf *val)
{
	static struct gx_reader r;
	static gx_buf line;
	static FILE *in;
	int type = -1;

	if (memchr(s, '\n', n))
		return -2;	/* not one line: the reader cannot say */
	buf_reset(&line);
	buf_adds(&line, "{\"a\":");
	buf_add(&line, s, n);
	buf_adds(&line, "}\n");
	in = fmemopen(line.s, line.len, "r");
	if (!in)
		abort();
	reader_init(&r, in, "option");
	die_prefix = "option: line 1: ";
	if (setjmp(die_jmp) == 0 && reader_next(&r) && r.nf == 1) {
		buf_reset(val);
		buf_add(val, r.f[0].val, r.f[0].vlen);
		type = (int)r.f[0].type;
	}
	reader_free(&r);
	fclose(in);
	return type;
}

/* 1 when the array text a (valid JSON) holds one or more values, each a
 * string, a number or null. */
static int only_scalars(const char *a, size_t n)
{
	int depth = 0, str = 0, any = 0, first = 0;

	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = 0;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (first && depth == 1) {
			if (c == '[' || c == '{' || c == 't' || c == 'f')
				return 0;
			any |= c != ']';
		}
		first = (c == '[' && depth == 0) || (c == ',' && depth == 1);
		if (c == '"')
			str = 1;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}')
			depth--;
	}
	return any;
}

/* 1 when the JSON array a[0..n) (valid, one line; the only white space
 * --shard-bounds takes is blanks and tabs) holds exactly want integers,
 * each in a key's range (BIGINT to BIGINT UNSIGNED), ascending. */
static int good_bounds(const char *a, size_t n, unsigned want)
{
	const __int128 lo = -((__int128)1 << 63), hi = ((__int128)1 << 64) - 1;
	__int128 prev = lo;
	unsigned got = 0;
	size_t i = 1;

	while (i < n) {
		while (a[i] == ' ' || a[i] == '\t')
			i++;
		if (a[i] == ']')
			break;
		int neg = a[i] == '-';
		size_t d = i + neg, e = d;
		__int128 v = 0;
		while (e < n && a[e] >= '0' && a[e] <= '9')
			e++;
		if (e == d || e - d > 20 || (a[e] != ',' && a[e] != ']' && a[e] != ' ' && a[e] != '\t'))
			return 0;	/* not an integer */
		for (size_t k = d; k < e; k++)
			v = v * 10 + (a[k] - '0');
		v = neg ? -v : v;
		if (v < lo || v > hi || v < prev)
			return 0;
		prev = v;
		got++;
		i = e;
		while (a[i] == ' ' || a[i] == '\t')
			i++;
		i += a[i] == ',';
	}
	return got == want;
}

static int values_ok(struct after *a, const char *opt, const char *s)
{
	die_prefix = opt;
	if (setjmp(die_jmp)) {
		after_free(a);
		return 0;
	}
	values_parse(a, opt, s);
	return 1;
}

static void check_values(const char *s)
{
	static struct after a, b;	/* static: survive the longjmp */
	static gx_buf val;
	const char *opt = *s & 1 ? "--after" : "--probe";
	int ok = values_ok(&a, opt, s);
	int type = reader_type(s, strlen(s), &val);

	if (!ok) {
		if (type == GX_ARR && only_scalars(val.s, val.len))
			abort();	/* refused a valid array of strings, numbers, nulls */
		return;
	}
	if (type != GX_ARR && type != -2)
		abort();	/* accepted what is not a JSON array */
	if (!a.n || !values_ok(&b, "--after", a.json.s))
		abort();
	if (b.n != a.n || strcmp(b.json.s, a.json.s))
		abort();	/* the end marker's text gives other values */
	for (size_t i = 0; i < a.n; i++) {
		const struct after_val *x = &a.v[i], *y = &b.v[i];
		if (x->type != y->type || x->text.len != y->text.len ||
		    (x->text.len && memcmp(x->text.s, y->text.s, x->text.len)))
			abort();
		if (x->type == GX_NUM && !json_num_valid(x->text.s, x->text.len))
			abort();
	}
	after_free(&a);
	after_free(&b);
}

static int shard_ok(struct shard *s, const char *kn, const char *bounds)
{
	die_prefix = "--shard";
	if (setjmp(die_jmp)) {
		shard_free(s);
		return 0;
	}
	shard_parse(s, kn, bounds);
	return 1;
}

static void check_shard(const char *s)
{
	static struct shard sh, again;
	static gx_buf kn, cond, val;
	const char *nl = strchr(s, '\n'), *bounds = nl ? nl + 1 : NULL;
	char canon[32];

	buf_reset(&kn);
	buf_add(&kn, s, nl ? (size_t)(nl - s) : strlen(s));
	if (!shard_ok(&sh, kn.s, bounds)) {
		/* refused: the bounds, when K/N is good, were not N-1 keys */
		if (bounds && shard_ok(&again, kn.s, NULL)) {
			if (!strchr(bounds, '\r') &&
			    reader_type(bounds, strlen(bounds), &val) == GX_ARR &&
			    good_bounds(val.s, val.len, again.n - 1))
				abort();
			shard_free(&again);
		}
		return;
	}
	if (sh.k < 1 || sh.k > sh.n || sh.n > 4096 || sh.pinned != (bounds != NULL))
		abort();
	snprintf(canon, sizeof canon, "%u/%u", sh.k, sh.n);
	if (!shard_ok(&again, canon, bounds ? sh.json.s : NULL))
		abort();
	if (again.k != sh.k || again.n != sh.n)
		abort();
	if (bounds) {
		if (reader_type(bounds, strlen(bounds), &val) != GX_ARR ||
		    strcmp(again.json.s, sh.json.s))
			abort();
		for (unsigned i = 0; i + 1 < sh.n; i++)
			if (again.bound[i] != sh.bound[i] || (i && sh.bound[i] < sh.bound[i - 1]))
				abort();
	}
	for (unsigned i = 0; !bounds && i + 1 < sh.n; i++)
		if (sh.bound[i] != 0)
			abort();	/* unplanned bounds are 0 (and so is their JSON) */
	if (sh.n > 1) {
		buf_reset(&cond);
		shard_cond(&cond, &sh, "t.id");
		if (!cond.len)
			abort();
	}
	shard_free(&again);
	shard_free(&sh);
}

/* A --keys line (keys_parse) for a query of 1 to 3 keys, by the first
 * byte: taken exactly when --after's grammar takes it with that many
 * values, none null, and then the same values. */
static void check_keys(const char *s)
{
	static struct after a, b;
	static struct query q;
	int ok;

	q.nkeys = 1 + (size_t)(*s ? (unsigned char)*s % 3 : 0);
	die_prefix = "--keys";
	if (setjmp(die_jmp)) {
		after_free(&a);
		ok = 0;
	} else {
		keys_parse(&a, &q, s, 1);
		ok = 1;
	}
	int parsed = values_ok(&b, "--keys", s), want = parsed && b.n == q.nkeys;
	for (size_t i = 0; want && i < b.n; i++)
		want = b.v[i].type != GX_NULL;
	if (ok != want)
		abort();
	if (ok && strcmp(a.json.s, b.json.s))
		abort();
	if (ok)
		after_free(&a);
	if (parsed)
		after_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = gx_strndup((const char *)data, size);	/* up to a NUL */

	check_values(s);
	check_shard(s);
	check_keys(s);
	free(s);
	return 0;
}
