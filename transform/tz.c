/* Source DATETIMEs are wall-clock times in the source zone; the warehouse
 * stores instants. A wall time is given the UTC offset the tz database
 * says, with PostgreSQL's rules where the wall clock is not one-to-one:
 * - a time skipped by a jump forward (DST gap) is moved forward by the
 *   length of the gap (02:30 on a spring-forward day becomes 03:30);
 * - a time that occurs twice (overlap) is its first occurrence, the one
 *   with the offset in force before the change.
 * UTC, its other names and fixed offsets (+05:30) need no tz database:
 * the offset is appended without a libc time call.
 *
 * The zone the source server names in its end marker is compared with
 * ours (tz_agrees, at the end of this file): docs/mapping.md, "The
 * source server's zone". */
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

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
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

/* The names MySQL and the tz database give UTC. */
static const char *const utc_names[] = {
	"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Universal", "Etc/Universal",
	"Zulu", "Etc/Zulu", "UCT", "Etc/UCT", NULL
};

/* A zone with one offset for ever: a UTC name, or MySQL's "+HH:MM" /
 * "-H:MM" (the form SET time_zone takes). 1 with *off in seconds east. */
static int fixed_zone(const char *s, int64_t *off)
{
	for (int i = 0; utc_names[i]; i++)
		if (!strcmp(s, utc_names[i])) {
			*off = 0;
			return 1;
		}
	size_t n = strlen(s), h = n == 5 ? 1 : 2;
	if ((n != 5 && n != 6) || (s[0] != '+' && s[0] != '-') || s[1 + h] != ':' ||
	    strspn(s + 1, "0123456789") != h || strspn(s + 2 + h, "0123456789") != 2)
		return 0;
	int hh = num(s + 1, (int)h), mm = num(s + 2 + h, 2);
	if (hh > 14 || mm > 59)
		return 0;
	*off = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return 1;
}

/* TZ=name for localtime_r: a name zone_exists has checked. */
static int use_zone(const char *name)
{
	if (setenv("TZ", name, 1) != 0)
		return -1;
	tzset();
	return 0;
}

int tz_open(struct gx_tz *z, const char *name, gx_buf *err)
{
	int64_t off;

	memset(z, 0, sizeof *z);
	if (fixed_zone(name, &off)) {
		z->fixed = 1;
		z->off = (int32_t)off;
		z->name = gx_strdup(name);
		return 0;
	}
	if (!zone_name_ok(name) || !zone_exists(name)) {
		buf_addf(err, "unknown time zone '%s' (an IANA name such as America/New_York)", name);
		return -1;
	}
	if (use_zone(name)) {
		buf_addf(err, "cannot set TZ=%s", name);
		return -1;
	}
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
	if (z->fixed) {
		out_add(out, s, n);
		if (n == 10)
			out_add(out, " 00:00:00", 9);
		add_offset(out, z->off);
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

/* --- The source server's zone ---------------------------------------------
 * Two zones agree when they give the same UTC offsets, change for change,
 * from a year before the stream's instant to a year after: the span whose
 * DATETIMEs a run is most likely to carry, and one in which every rule of
 * a zone (its DST dates, its hours of change) shows. An abbreviation names
 * no rules, only what the server printed at its start (MariaDB's
 * system_time_zone), so it agrees with a zone that uses it in that span.
 * When the marker has both clock and instant, their difference is the
 * server's own offset at that moment, and ours must be the same. */

#define TZ_STEP (6 * 3600)		/* no zone changes its offset twice in 6 h */
#define TZ_SPAN (366 * 86400LL)	/* a year either side of the stream */
#define TZ_CHANGES 64			/* in two years; real zones have a few */

/* A zone's offsets across the window: the first, then each change. */
struct tz_rules {
	int64_t off0;
	int n;
	int64_t t[TZ_CHANGES], off[TZ_CHANGES];	/* from t[i] on, off[i] */
	int has_abbr;		/* the abbreviation looked for is used */
};

/* What a server prints for a zone it knows only as the system's: "CST",
 * "CET", or a number like "+03". */
static int is_abbr(const char *s)
{
	size_t n = strlen(s);

	if (*s == '+' || *s == '-')
		return (n == 3 || n == 5) && strspn(s + 1, "0123456789") == n - 1;
	return n >= 2 && n <= 6 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

int tz_resolvable(const char *name)
{
	int64_t off;

	return fixed_zone(name, &off) ||
	       (!is_abbr(name) && zone_name_ok(name) && zone_exists(name));
}

/* The abbreviation the tz database gives a fixed offset: UTC, +03, +0530. */
static void fixed_abbr(int64_t off, char *b, size_t n)
{
	int a = (int)(off < 0 ? -off : off) % 86400;

	if (!off)
		snprintf(b, n, "UTC");
	else if (a % 3600)
		snprintf(b, n, "%c%02d%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	else
		snprintf(b, n, "%c%02d", off < 0 ? '-' : '+', a / 3600);
}

static int abbr_at(int64_t t, const char *abbr)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char b[16];

	return localtime_r(&tt, &tm) && strftime(b, sizeof b, "%Z", &tm) &&
	       !strcmp(b, abbr);
}

/* The rules of zone name (NULL: fixed at off) from t0 to t1, looking for
 * abbr (or NULL) on the way; leaves TZ set to name. A change is found
 * between samples TZ_STEP apart and pinned to the second by bisection. */
static int rules_of(struct tz_rules *r, const char *name, int64_t off,
		    const char *abbr, int64_t t0, int64_t t1)
{
	memset(r, 0, sizeof *r);
	r->off0 = off;
	if (!name) {
		char b[16];
		fixed_abbr(off, b, sizeof b);
		r->has_abbr = abbr && !strcmp(b, abbr);
		return 0;
	}
	if (use_zone(name))
		return -1;
	r->off0 = off = offset_at(t0);
	for (int64_t t = t0; t < t1; t += TZ_STEP) {
		int64_t lo = t, hi = t + TZ_STEP;
		r->has_abbr |= abbr && abbr_at(t, abbr);
		if (offset_at(hi) == off)
			continue;
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			*(offset_at(mid) == off ? &lo : &hi) = mid;
		}
		if (r->n == TZ_CHANGES)
			return -1;
		r->t[r->n] = hi;
		r->off[r->n++] = off = offset_at(hi);
		r->has_abbr |= abbr && abbr_at(hi, abbr);
	}
	return 0;
}

static int64_t rules_at(const struct tz_rules *r, int64_t t)
{
	int64_t off = r->off0;

	for (int i = 0; i < r->n && r->t[i] <= t; i++)
		off = r->off[i];
	return off;
}

/* The first instant from t0 on at which a and b differ, or INT64_MAX. */
static int64_t first_difference(const struct tz_rules *a, const struct tz_rules *b,
				int64_t t0)
{
	if (a->off0 != b->off0)
		return t0;
	for (int i = 0; i < a->n || i < b->n; i++) {
		int64_t ta = i < a->n ? a->t[i] : INT64_MAX;
		int64_t tb = i < b->n ? b->t[i] : INT64_MAX;
		if (ta != tb || a->off[i] != b->off[i])
			return ta < tb ? ta : tb;
	}
	return INT64_MAX;
}

static void add_utc(gx_buf *b, int64_t t)
{
	int64_t days = floor_div(t, 86400), s = t - days * 86400;
	int y, m, d;

	civil_from_days(days, &y, &m, &d);
	buf_addf(b, "%04d-%02d-%02d %02d:%02d:%02d UTC", y, m, d, (int)(s / 3600),
		 (int)(s / 60 % 60), (int)(s % 60));
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" as microseconds, read as if UTC. */
static int parse_wall(const char *s, int64_t *us)
{
	size_t n = strlen(s);
	int64_t w, f = 0;

	if (!gx_valid_datetime(s))
		return -1;
	w = days_from_civil(num(s, 4), num(s + 5, 2), num(s + 8, 2)) * 86400;
	if (n > 10)
		w += num(s + 11, 2) * 3600 + num(s + 14, 2) * 60 + num(s + 17, 2);
	for (size_t i = 20; i < 26; i++)
		f = f * 10 + (i < n ? s[i] - '0' : 0);
	*us = w * 1000000 + f;
	return 0;
}

/* Epoch seconds with at most 6 decimals, as microseconds. */
static int parse_instant(const char *s, int64_t *us)
{
	int neg = *s == '-';
	size_t i = (size_t)neg, id = strspn(s + i, "0123456789"), fd = 0;
	int64_t v = 0;

	if (id == 0 || id > 12)
		return -1;
	if (s[i + id] == '.' && ((fd = strspn(s + i + id + 1, "0123456789")) == 0 || fd > 6))
		return -1;
	if (s[i + id + (fd ? fd + 1 : 0)])
		return -1;
	for (size_t k = 0; k < id; k++)
		v = v * 10 + (s[i + k] - '0');
	for (size_t k = 0; k < 6; k++)
		v = v * 10 + (k < fd ? s[i + id + 1 + k] - '0' : 0);
	*us = neg ? -v : v;
	return 0;
}

int tz_agrees(struct gx_tz *z, const char *server, const char *clock,
	      const char *instant, gx_buf *how)
{
	int64_t w_us = 0, t_us = 0, off = 0, t, d;
	const char *abbr = NULL;
	struct tz_rules sr, mr;

	if (clock && parse_wall(clock, &w_us)) {
		buf_addf(how, "the end marker's \"clock\" is not YYYY-MM-DD HH:MM:SS[.ffffff]: '%s'", clock);
		return -1;
	}
	if (instant && parse_instant(instant, &t_us)) {
		buf_addf(how, "the end marker's \"instant\" is not epoch seconds with at most 6 decimals: '%s'", instant);
		return -1;
	}
	if (clock && instant && (w_us - t_us > 86400000000LL || t_us - w_us > 86400000000LL)) {
		buf_addf(how, "the end marker's \"clock\" '%s' and \"instant\" %s are more "
			 "than a day apart: not one moment", clock, instant);
		return -1;
	}
	/* The middle of the window: the stream's instant, else its clock
	 * read in our zone, else now. */
	if (!z->fixed && use_zone(z->name)) {
		buf_addf(how, "cannot set TZ=%s", z->name);
		return 0;
	}
	if (instant)
		t = floor_div(t_us, 1000000);
	else if (clock)
		t = z->fixed ? floor_div(w_us, 1000000) - z->off : resolve(floor_div(w_us, 1000000));
	else
		t = (int64_t)time(NULL);
	int64_t t0 = t - TZ_SPAN, t1 = t + TZ_SPAN;

	int fixed = fixed_zone(server, &off);
	if (!fixed && is_abbr(server)) {
		abbr = server;
	} else if (!fixed && !(zone_name_ok(server) && zone_exists(server))) {
		buf_addf(how, "'%s' is neither a UTC offset, a zone of this system's "
			 "tz database nor an abbreviation", server);
		return 0;
	}
	/* The server's zone first: ours last leaves TZ set to ours. */
	if ((!abbr && rules_of(&sr, fixed ? NULL : server, off, NULL, t0, t1)) ||
	    rules_of(&mr, z->fixed ? NULL : z->name, z->off, abbr, t0, t1)) {
		buf_addf(how, "more than %d changes of offset in two years", TZ_CHANGES);
		return 0;
	}

	if (abbr && !mr.has_abbr) {
		buf_addf(how, "'%s' is an abbreviation the map's zone does not use from ", abbr);
		add_utc(how, t0);
		buf_adds(how, " to ");
		add_utc(how, t1);
		return 0;
	}
	if (!abbr && (d = first_difference(&sr, &mr, t0)) != INT64_MAX) {
		buf_adds(how, "from ");
		add_utc(how, d);
		buf_adds(how, " the server's offset is ");
		add_offset(how, rules_at(&sr, d));
		buf_adds(how, ", the map's ");
		add_offset(how, rules_at(&mr, d));
		return 0;
	}
	if (clock && instant) {
		int64_t so = w_us - t_us, mo = rules_at(&mr, t);
		if (so - mo * 1000000 >= 30000000 || so - mo * 1000000 <= -30000000) {
			buf_adds(how, "at the stream's instant, ");
			add_utc(how, t);
			buf_adds(how, ", the server's clock is at ");
			add_offset(how, floor_div(so + 500000, 1000000));
			buf_adds(how, ", the map's zone at ");
			add_offset(how, mo);
			return 0;
		}
	}
	if (abbr)
		buf_addf(how, "'%s' is an abbreviation the map's zone uses from ", abbr);
	else
		buf_adds(how, "the same UTC offsets from ");
	add_utc(how, t0);
	buf_adds(how, " to ");
	add_utc(how, t1);
	if (clock && instant)
		buf_adds(how, ", and the server's offset at the stream's instant");
	return 1;
}
