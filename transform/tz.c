/* Source DATETIMEs are wall-clock times in the source zone; the warehouse
 * stores instants. A wall time is given the UTC offset the tz database
 * says, with PostgreSQL's rules where the wall clock is not one-to-one:
 * - a time skipped by a jump forward (DST gap) is moved forward by the
 *   length of the gap (02:30 on a spring-forward day becomes 03:30);
 * - a time that occurs twice (overlap) is its first occurrence, the one
 *   with the offset in force before the change.
 * UTC, the default, appends "+00:00" without a libc time call. */
#include "map.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tz_slot {
	int64_t hour;		/* wall-clock hours since 1970-01-01 00:00 */
	int32_t off;		/* seconds east of UTC for the whole hour */
	int32_t state;		/* 0 empty, 1 one offset, 2 near a change */
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Seconds east of UTC in force at instant t. */
static int64_t offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return 0;
	return days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec - t;
}

/* The instant for wall time w (seconds, read as if UTC). An offset is
 * within a day of UTC, so the offsets a day before and after w bracket
 * every candidate; where they differ, each one that maps back to w is a
 * candidate: both is an overlap (take the earlier), neither a gap (use
 * the offset before the change, which moves w forward by the gap). */
static int64_t resolve(int64_t w)
{
	int64_t ob = offset_at(w - 86400), oa = offset_at(w + 86400);
	int64_t tb = w - ob, ta = w - oa;

	if (ob == oa)
		return tb;
	int vb = offset_at(tb) == ob, va = offset_at(ta) == oa;
	if (vb && va)
		return tb < ta ? tb : ta;
	if (va && !vb)
		return ta;
	return tb;
}

static int zone_name_ok(const char *s)
{
	if (!*s || *s == '/' || *s == '-' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("/_+-", *s)))
			return 0;
	return 1;
}

/* The name must be a file of the tz database: glibc would take an
 * unknown name silently as UTC. */
static int zone_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	gx_buf path = GX_BUF_INIT;
	char magic[4];
	FILE *f;
	int ok = 0;

	buf_addf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	if ((f = fopen(path.s, "rb"))) {
		ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
		fclose(f);
	}
	buf_free(&path);
	return ok;
}

int tz_open(struct gx_tz *z, const char *name, gx_buf *err)
{
	memset(z, 0, sizeof *z);
	if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) {
		z->utc = 1;
		z->name = gx_strdup(name);
		return 0;
	}
	if (!zone_name_ok(name) || !zone_exists(name)) {
		buf_addf(err, "unknown time zone '%s' (an IANA name such as America/New_York)", name);
		return -1;
	}
	if (setenv("TZ", name, 1) != 0) {
		buf_addf(err, "cannot set TZ=%s", name);
		return -1;
	}
	tzset();
	z->name = gx_strdup(name);
	z->slot = gx_malloc(TZ_SLOTS * sizeof *z->slot);
	memset(z->slot, 0, TZ_SLOTS * sizeof *z->slot);
	return 0;
}

void tz_close(struct gx_tz *z)
{
	free(z->name);
	free(z->slot);
	memset(z, 0, sizeof *z);
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static void add_offset(gx_buf *out, int64_t off)
{
	int a = (int)(off < 0 ? -off : off);
	int hh = a / 3600 % 100, mm = a / 60 % 60, ss = a % 60;
	char b[9] = {
		off < 0 ? '-' : '+', (char)('0' + hh / 10), (char)('0' + hh % 10),
		':', (char)('0' + mm / 10), (char)('0' + mm % 10),
		':', (char)('0' + ss / 10), (char)('0' + ss % 10)
	};

	out_add(out, b, ss ? 9 : 6);
}

void tz_stamp(struct gx_tz *z, gx_buf *out, const char *s, size_t n)
{
	if (z->utc) {
		out_add(out, s, n);
		if (n == 10)
			out_add(out, " 00:00:00", 9);
		out_add(out, "+00:00", 6);
		return;
	}
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	int h = 0, mi = 0, sec = 0;
	if (n > 10)
		h = num(s + 11, 2), mi = num(s + 14, 2), sec = num(s + 17, 2);
	int64_t w = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	int64_t hour = floor_div(w, 3600);
	struct tz_slot *sl = &z->slot[(uint64_t)hour & (TZ_SLOTS - 1)];
	int64_t off, w2 = w;

	if (sl->state == 0 || sl->hour != hour) {
		/* One offset a day either side of the hour: no change near it. */
		int64_t ob = offset_at(hour * 3600 - 86400);
		int64_t oa = offset_at(hour * 3600 + 3600 + 86400);
		sl->hour = hour;
		sl->off = (int32_t)ob;
		sl->state = ob == oa ? 1 : 2;
	}
	if (sl->state == 1) {
		off = sl->off;
	} else {
		int64_t t = resolve(w);
		off = offset_at(t);
		w2 = t + off;
	}
	if (w2 == w) {
		out_add(out, s, n);
		if (n == 10)
			out_add(out, " 00:00:00", 9);
	} else {
		int64_t days = floor_div(w2, 86400), secs = w2 - days * 86400;
		civil_from_days(days, &y, &mo, &d);
		buf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d,
			 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
		if (n > 19)
			out_add(out, s + 19, n - 19);	/* the fraction */
	}
	add_offset(out, off);
}
