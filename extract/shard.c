/* --shard K/N: N processes read one window of a query, each row exactly once.
 *
 * With an integer first key, shard K reads the half-open range of it
 * [bound[K-2], bound[K-1]): an index range scan on a primary key. Shard 1 is
 * open below and shard N above, so that a key outside the keys the bounds
 * were taken from (a row inserted since) still belongs to exactly one shard.
 * The bounds come from one ordered pass over the first key alone, in the
 * query's FROM, @where and --since/--until window (not --after: a resumed
 * shard must find the same): the keys at ranks count/N, 2 count/N, ..., so
 * the shards hold as many rows each even when a few ids sit far from the
 * others (splitting MIN..MAX evenly would give them all to one shard). That
 * pass reads every key of the window, sends them to us, and is what one
 * ordered read of the primary key costs: about a tenth of the extraction
 * itself for the appointments query. Each process makes it itself, so the
 * processes agree only while the keys do not change between their starts:
 * on a live table, take the bounds once (the end marker's "shard_bounds",
 * e.g. of a --limit 0 run) and give every shard the same --shard-bounds,
 * which also saves the pass; a shard resumed with --after keeps its bounds.
 *
 * Any other first key (strings, dates, decimals): MOD(CRC32(key), N) = K-1.
 * Every process agrees on it whatever changes, but each one reads through the
 * whole window: no index serves it. */
#include "extract.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SHARDS 4096

/* The range of any MySQL integer column: BIGINT to BIGINT UNSIGNED. */
#define KEY_MIN (-((__int128)1 << 63))
#define KEY_MAX (((__int128)1 << 64) - 1)

/* An integer in decimal digits, optionally negative, within a key's range. */
static int i128_parse(const char *s, size_t n, __int128 *v)
{
	int neg = n && *s == '-';
	size_t i = (size_t)neg;

	if (i == n || n - i > 20 || strspn(s + i, "0123456789") < n - i ||
	    (s[i] == '0' && n - i > 1))
		return 0;
	for (*v = 0; i < n; i++)
		*v = *v * 10 + (s[i] - '0');
	if (neg)
		*v = -*v;
	return *v >= KEY_MIN && *v <= KEY_MAX;
}

static void i128_add(gx_buf *b, __int128 v)
{
	char digits[48], *p = digits + sizeof digits;
	unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

	*--p = '\0';
	do
		*--p = (char)('0' + (int)(u % 10));
	while ((u /= 10) > 0);
	if (v < 0)
		*--p = '-';
	buf_adds(b, p);
}

static void bounds_json(struct shard *s)
{
	buf_reset(&s->json);
	buf_addc(&s->json, '[');
	for (unsigned i = 0; i + 1 < s->n; i++) {
		if (i)
			buf_addc(&s->json, ',');
		i128_add(&s->json, s->bound[i]);
	}
	buf_addc(&s->json, ']');
}

static unsigned count(const char *s, size_t n)
{
	unsigned v = 0;

	if (n < 1 || n > 4 || strspn(s, "0123456789") < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

static noreturn void bad_bounds(const char *why, const char *arg)
{
	gx_die(GX_EXIT_DATA, "--shard-bounds: %s: '%s' (expected the end marker's "
	       "\"shard_bounds\": N-1 ascending integers, like [1000,2000])",
	       why, arg);
}

/* [B1, B2, ...]: the end marker's "shard_bounds" again. */
static void parse_bounds(struct shard *s, const char *arg)
{
	const char *p = arg + strspn(arg, " \t");
	unsigned i = 0;

	if (*p++ != '[')
		bad_bounds("not an array", arg);
	p += strspn(p, " \t");
	while (*p != ']') {
		size_t len = strspn(p, "-0123456789");

		if (i == s->n - 1)
			bad_bounds("too many bounds", arg);
		if (!i128_parse(p, len, &s->bound[i]))
			bad_bounds("not an integer key value", arg);
		if (i && s->bound[i] < s->bound[i - 1])
			bad_bounds("not in ascending order", arg);
		i++;
		p += len;
		p += strspn(p, " \t");
		if (*p == ',') {
			p += 1 + strspn(p + 1, " \t");
			if (*p == ']')
				bad_bounds("expected a bound after ','", arg);
		} else if (*p != ']') {
			bad_bounds("expected ',' or ']'", arg);
		}
	}
	if (p[1 + strspn(p + 1, " \t")])
		bad_bounds("text after the array", arg);
	if (i != s->n - 1)
		bad_bounds("too few bounds", arg);
	s->pinned = 1;
}

void shard_parse(struct shard *s, const char *kn, const char *bounds)
{
	const char *slash = strchr(kn, '/');

	memset(s, 0, sizeof *s);
	if (slash) {
		s->k = count(kn, (size_t)(slash - kn));
		s->n = count(slash + 1, strlen(slash + 1));
	}
	if (!s->k || !s->n || s->k > s->n || s->n > MAX_SHARDS)
		gx_die(GX_EXIT_DATA, "--shard: not K/N with 1 <= K <= N <= %d: '%s'",
		       MAX_SHARDS, kn);
	/* 0 until shard_plan (or --shard-bounds) fixes them: bounds_json reads them */
	s->bound = gx_malloc(s->n * sizeof *s->bound);
	memset(s->bound, 0, s->n * sizeof *s->bound);
	if (bounds)
		parse_bounds(s, bounds);
	bounds_json(s);
}

void shard_free(struct shard *s)
{
	free(s->bound);
	buf_free(&s->json);
}

static int is_integer(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
		return 1;
	default:
		return 0;
	}
}

/* The bounds from one ordered pass over the keys, keeping every stride-th
 * (the stride doubling whenever the sample is full): in constant memory,
 * the key at rank j * count / n, give or take a stride of 1/SAMPLE of the
 * rows. The same keys always give the same bounds. */
#define SAMPLE 4096

struct sample {
	__int128 key[SAMPLE];
	size_t n;
	unsigned long long stride, count;
};

static void sample_add(struct sample *sm, const char *v)
{
	if (sm->count++ % sm->stride)
		return;
	if (sm->n == SAMPLE) {
		for (size_t i = 0; i < SAMPLE / 2; i++)
			sm->key[i] = sm->key[2 * i];
		sm->n = SAMPLE / 2;
		sm->stride *= 2;
		if ((sm->count - 1) % sm->stride)
			return;
	}
	if (!v || !i128_parse(v, strlen(v), &sm->key[sm->n]))
		gx_die(GX_EXIT_BUG, "--shard: unexpected key value '%s'",
		       v ? v : "NULL");
	sm->n++;
}

static void split(struct shard *s, MYSQL *my, const char *sql)
{
	struct sample *sm = gx_malloc(sizeof *sm);
	MYSQL_RES *res;
	MYSQL_ROW row;

	sm->n = 0;
	sm->stride = 1;
	sm->count = 0;
	if (mysql_real_query(my, sql, strlen(sql)) || !(res = mysql_use_result(my)))
		db_die(my, "--shard: cannot read the keys");
	while ((row = mysql_fetch_row(res)))
		sample_add(sm, row[0]);
	if (mysql_errno(my))
		db_die(my, "--shard: cannot read the keys after %llu", sm->count);
	mysql_free_result(res);
	/* An empty window splits at 0: any row that comes has one shard. */
	for (unsigned j = 1; j < s->n; j++)
		s->bound[j - 1] = sm->n ? sm->key[sm->count * j / s->n / sm->stride] : 0;
	gx_debug("shard: %llu keys, sampled every %llu", sm->count, sm->stride);
	free(sm);
	bounds_json(s);
}

void shard_plan(struct shard *s, const struct query *q, const struct window *w,
		MYSQL *my)
{
	gx_buf sql = GX_BUF_INIT;
	MYSQL_RES *res;
	size_t len;

	if (s->n == 1)
		return;
	/* The key's type first, from a query that reads nothing. */
	query_keys_sql(&sql, q, w, my);
	len = sql.len;
	buf_adds(&sql, "\nLIMIT 0");
	gx_debug("shard: %s", sql.s);
	if (mysql_real_query(my, sql.s, sql.len) || !(res = mysql_store_result(my)))
		db_die(my, "--shard: cannot read the type of %s", q->keys[0]);
	s->hash = !is_integer(mysql_fetch_field_direct(res, 0));
	mysql_free_result(res);
	if (s->hash && s->pinned)
		gx_die(GX_EXIT_DATA, "--shard-bounds: the first key %s is not an "
		       "integer: its shards are by hash, without bounds", q->keys[0]);
	if (!s->hash && !s->pinned) {
		sql.len = len;
		buf_adds(&sql, "\nORDER BY 1");
		gx_debug("shard: %s", sql.s);
		split(s, my, sql.s);
	}
	buf_free(&sql);
	if (s->hash)
		gx_debug("shard %u/%u: by MOD(CRC32(%s), %u)", s->k, s->n,
			 q->keys[0], s->n);
	else
		gx_debug("shard %u/%u of bounds %s", s->k, s->n, s->json.s);
}

void shard_cond(gx_buf *sql, const struct shard *s, const char *k)
{
	if (s->hash) {
		buf_addf(sql, "MOD(CRC32(%s), %u) = %u", k, s->n, s->k - 1);
		return;
	}
	buf_addc(sql, '(');
	if (s->k > 1) {
		buf_addf(sql, "(%s) >= ", k);
		i128_add(sql, s->bound[s->k - 2]);
	}
	if (s->k > 1 && s->k < s->n)
		buf_adds(sql, " AND ");
	if (s->k < s->n) {
		buf_addf(sql, "(%s) < ", k);
		i128_add(sql, s->bound[s->k - 1]);
	}
	buf_addc(sql, ')');
}
