/* Late arrivals: rows whose cursor lands behind the checkpoint after the run
 * that took it had read that part of the table (a writer stamping from a
 * zone or clock behind the source's, a transaction that commits after the
 * lookback). A delta cannot see them by its window; this finds them.
 *
 * Each run records, per hour of cursor value, how many rows lie in the band
 * the next delta will not read, [until - H hours, until) with until the
 * wall time of (origin - lookback), and an XOR of their (cursor, key)
 * checksums. The next run counts the same band again: more rows in an hour,
 * or as many with another checksum, means rows arrived there (rows that
 * only left, updated to a later cursor, lower the count). That run reads
 * from the earliest such hour on, and says how many it found.
 *
 * One scan of both bands, on the cursor's index where it has one. An arrival
 * in the same hour as a departure between two runs can cancel out in the
 * count: the checksum usually tells, the scheduled reconciliation always. */
#include "extract.h"

#include <stdlib.h>
#include <string.h>

struct bucket {
	char hour[14];			/* "YYYY-MM-DD HH" */
	unsigned long long n;
	unsigned long long x;		/* BIT_XOR of CRC32s */
};

struct band {
	char from[20], *until;		/* from: "YYYY-MM-DD HH:00:00" */
	struct bucket *b;
	size_t nb, cap;
};

static struct bucket *bucket_at(struct band *d, const char *hour)
{
	for (size_t i = 0; i < d->nb; i++)
		if (!strcmp(d->b[i].hour, hour))
			return &d->b[i];
	GX_GROW(d->b, d->nb + 1, d->cap);
	memset(&d->b[d->nb], 0, sizeof *d->b);
	memcpy(d->b[d->nb].hour, hour, 13);
	return &d->b[d->nb++];
}

/* The query's @where conditions, after a WHERE of ours. */
static void add_wheres(gx_buf *sql, const struct query *q)
{
	for (size_t i = 0; i < q->nwheres; i++)
		buf_addf(sql, "\n  AND (%s\n  )", q->wheres[i]);
}

static noreturn void bad_probe(const char *why)
{
	gx_die(GX_EXIT_DATA, "--probe: %s (expected the end marker's \"probe\": "
	       "[from, until, hour, rows, checksum, ...])", why);
}

static void parse(struct band *d, const struct after *a)
{
	memset(d, 0, sizeof *d);
	if (a->n < 2 || (a->n - 2) % 3 || a->v[0].type != GX_STR || a->v[1].type != GX_STR ||
	    !gx_valid_datetime(a->v[0].text.s) || !gx_valid_datetime(a->v[1].text.s) ||
	    a->v[0].text.len != 19)
		bad_probe("not a probe");
	memcpy(d->from, a->v[0].text.s, 19);
	d->until = gx_strdup(a->v[1].text.s);
	for (size_t i = 2; i < a->n; i += 3) {
		const struct after_val *h = &a->v[i], *n = &a->v[i + 1], *x = &a->v[i + 2];
		if (h->type != GX_STR || h->text.len != 13 || n->type != GX_NUM ||
		    x->type != GX_NUM || strspn(n->text.s, "0123456789") != n->text.len ||
		    strspn(x->text.s, "0123456789") != x->text.len)
			bad_probe("a bucket is not [\"YYYY-MM-DD HH\", rows, checksum]");
		struct bucket *b = bucket_at(d, h->text.s);
		b->n = strtoull(n->text.s, NULL, 10);
		b->x = strtoull(x->text.s, NULL, 10);
	}
}

/* Counts the old band (if any) and the new one in one scan. */
static void count(MYSQL *my, const struct query *q, struct band *old, struct band *now)
{
	const char *c = q->cursor;
	const char *lo = !now || (old && strcmp(old->from, now->from) < 0) ? old->from : now->from;
	const char *hi = !now || (old && strcmp(old->until, now->until) > 0) ? old->until : now->until;
	const char *nu = now ? now->until : "0001-01-01";
	gx_buf sql = GX_BUF_INIT;
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (!q->from)
		gx_die(GX_EXIT_DATA, "%s: the late-arrival probe needs a SELECT with "
		       "a FROM (or --probe-hours 0)", q->path);
	buf_addf(&sql, "SELECT LEFT(c, 13), COUNT(*), BIT_XOR(h), c < ");
	db_add_literal(&sql, my, old ? old->until : "0001-01-01", strlen(old ? old->until : "0001-01-01"));
	buf_adds(&sql, ", c < ");
	db_add_literal(&sql, my, nu, strlen(nu));
	buf_addf(&sql, " FROM (SELECT DISTINCT %s AS c, CRC32(CONCAT_WS(0x1f, %s", c, c);
	for (size_t i = 0; i < q->nkeys; i++)
		buf_addf(&sql, ", %s", q->keys[i]);
	buf_addf(&sql, ")) AS h %s\nWHERE %s >= ", q->from, c);
	db_add_literal(&sql, my, lo, strlen(lo));
	buf_addf(&sql, " AND %s < ", c);
	db_add_literal(&sql, my, hi, strlen(hi));
	add_wheres(&sql, q);
	buf_adds(&sql, "\n) x GROUP BY 1, 4, 5");
	gx_debug("probe: %s", sql.s);
	if (mysql_query(my, sql.s) || !(res = mysql_store_result(my)))
		db_die(my, "the late-arrival probe failed");
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || strlen(row[0]) != 13)
			continue;
		unsigned long long n = strtoull(row[1], NULL, 10);
		unsigned long long x = strtoull(row[2], NULL, 10);
		struct band *d[2] = { old, now };
		const char *in[2] = { row[3], row[4] };
		for (int k = 0; k < 2; k++) {
			if (!d[k] || strcmp(in[k], "1") || strncmp(row[0], d[k]->from, 13) < 0)
				continue;
			struct bucket *b = bucket_at(d[k], row[0]);
			b->n += n;
			b->x ^= x;
		}
	}
	mysql_free_result(res);
	buf_free(&sql);
}

static void band_free(struct band *d)
{
	free(d->until);
	free(d->b);
}

void probe_run(MYSQL *my, const struct query *q, const struct after *prev,
	       const char *until, const char *from_wall, struct probe_result *out)
{
	struct band then, old, now;

	memset(&then, 0, sizeof then);
	memset(&old, 0, sizeof old);
	/* then: the old band as the previous run counted it; old: the same
	 * band counted now; now: the band the next delta will not read (none
	 * when until is NULL: a run that only checks). */
	memset(&now, 0, sizeof now);
	if (until) {
		memcpy(now.from, from_wall, 13);
		memcpy(now.from + 13, ":00:00", 7);
		now.until = gx_strdup(until);
	}
	if (prev) {
		parse(&then, prev);
		memcpy(old.from, then.from, sizeof old.from);
		old.until = gx_strdup(then.until);
	}
	if (prev || until)
		count(my, q, prev ? &old : NULL, until ? &now : NULL);

	out->late_rows = 0;
	out->widen_to[0] = '\0';
	for (size_t i = 0; prev && i < old.nb; i++) {
		struct bucket *was = NULL, *is = &old.b[i];
		for (size_t j = 0; j < then.nb; j++)
			if (!strcmp(then.b[j].hour, is->hour))
				was = &then.b[j];
		unsigned long long wn = was ? was->n : 0, wx = was ? was->x : 0;
		unsigned long long late = is->n > wn ? is->n - wn : is->n == wn && is->x != wx;
		if (!late)
			continue;
		out->late_rows += late;
		if (!out->widen_to[0] || strcmp(is->hour, out->widen_to) < 0)
			memcpy(out->widen_to, is->hour, 14);
	}
	if (out->widen_to[0])
		memcpy(out->widen_to + 13, ":00:00", 7);

	buf_reset(&out->json);
	if (until) {
		buf_addc(&out->json, '[');
		json_add_str(&out->json, now.from, strlen(now.from));
		buf_addc(&out->json, ',');
		json_add_str(&out->json, now.until, strlen(now.until));
		for (size_t i = 0; i < now.nb; i++)
			buf_addf(&out->json, ",\"%s\",%llu,%llu", now.b[i].hour, now.b[i].n,
				 now.b[i].x);
		buf_addc(&out->json, ']');
	}
	band_free(&now);
	band_free(&old);
	band_free(&then);
}

/* Rows whose cursor is after wall: written by a clock running ahead. */
unsigned long long probe_future(MYSQL *my, const struct query *q, const char *wall)
{
	gx_buf sql = GX_BUF_INIT;
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long long n = 0;

	if (!q->from)
		return 0;
	buf_addf(&sql, "SELECT COUNT(*) FROM (SELECT DISTINCT %s", q->cursor);
	for (size_t i = 0; i < q->nkeys; i++)
		buf_addf(&sql, ", %s", q->keys[i]);
	buf_addf(&sql, " %s\nWHERE %s > ", q->from, q->cursor);
	db_add_literal(&sql, my, wall, strlen(wall));
	add_wheres(&sql, q);
	buf_adds(&sql, "\n) x");
	gx_debug("sql: %s", sql.s);
	if (mysql_query(my, sql.s) || !(res = mysql_store_result(my)))
		db_die(my, "cannot count the cursors ahead of the clock");
	if ((row = mysql_fetch_row(res)) && row[0])
		n = strtoull(row[0], NULL, 10);
	mysql_free_result(res);
	buf_free(&sql);
	return n;
}
