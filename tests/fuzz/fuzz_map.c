/* libFuzzer target: bytes as a mapping file (transform/map.c); when the
 * map parses, fixed records go through it (transform/cast.c, tz.c) and
 * every record it writes must read back as a valid NDJSON line. The same
 * bytes' first three lines are an end marker's time_zone, clock and
 * instant for tz_agrees, which must answer and say why. */
#define _POSIX_C_SOURCE 200809L
#include "map.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf die_jmp;
static int checking;

/* Only the reader calls gx_die here: on a fixed record that cannot
 * happen, on our own output it is a bug. */
void gx_die(int status, const char *fmt, ...)
{
	(void)status;
	(void)fmt;
	if (checking)
		abort();
	longjmp(die_jmp, 1);
}

static const char records[] =
	"{\"id\":1,\"prospect_id\":100001,\"type_id\":2,\"date\":\"2019-05-04\","
	"\"time\":\"00:15:00\",\"duration\":\"-838:59:59\",\"state\":\"\\u00d1\\u00c9\","
	"\"notes\":\"a\\u0000b \\ud83d\\ude00 \\\"q\\\"\",\"add_date\":\"2024-03-10 02:30:00.5\","
	"\"updated_at\":\"0000-00-00 00:00:00\",\"n\":\"-0012.3450\",\"d\":1.5e300,"
	"\"b\":\"Y\",\"t\":true,\"j\":\"{\\\"a\\\":[1,{\\\"b\\\":null}]}\",\"o\":{\"x\":[1, 2]},"
	"\"e\":\"\",\"z\":null,\"big\":123456789012345678901234567890.5}\n"
	"{\"id\":\"-0042\",\"date\":\"2022-11-00\",\"add_date\":\"2024-11-03 01:30:00\","
	"\"n\":9.995,\"b\":0,\"j\":[true,false],\"v\":\"\\u6771\\u4eac\",\"x\":\"1880-01-01\"}\n"
	"{\"@gx\":\"end\",\"records\":2}\n";

#define NREC 2
static struct gx_reader rec[NREC];
static struct gx_tz tz;

static void setup(void)
{
	static char copy[sizeof records];
	FILE *in;
	gx_buf err = GX_BUF_INIT;

	memcpy(copy, records, sizeof records);
	if (tz_open(&tz, "America/New_York", &err) && tz_open(&tz, "UTC", &err))
		abort();
	buf_free(&err);
	checking = 1;
	for (int i = 0; i < NREC; i++) {
		/* each reader holds one record for the whole run */
		const char *s = copy;
		for (int k = 0; k < i; k++)
			s = strchr(s, '\n') + 1;
		in = fmemopen((void *)s, (size_t)(strchr(s, '\n') + 1 - s), "r");
		if (!in)
			abort();
		reader_init(&rec[i], in, "record");
		if (!reader_next(&rec[i]))
			abort();
	}
	checking = 0;
}

/* The written record must be one valid JSON object line. */
static void check_output(const gx_buf *out)
{
	static struct gx_reader r;
	FILE *in;

	if (out->len == 0 || out->s[out->len - 1] != '\n')
		abort();
	in = fmemopen(out->s, out->len, "r");
	if (!in)
		abort();
	reader_init(&r, in, "output");
	checking = 1;
	if (!reader_next(&r) || r.control || reader_next(&r))
		abort();
	checking = 0;
	reader_free(&r);
	fclose(in);
}

static void check_zone(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char f[3][64];
	gx_buf how = GX_BUF_INIT;

	for (int i = 0; i < 3; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (n >= sizeof f[i])
			n = sizeof f[i] - 1;
		memcpy(f[i], p, n);
		f[i][n] = '\0';
		p = nl ? nl + 1 : end;
	}
	tz_agrees(&tz, f[0], *f[1] ? f[1] : NULL, *f[2] ? f[2] : NULL, &how);
	if (how.len == 0)
		abort();
	buf_free(&how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct gx_map m;
	gx_buf err = GX_BUF_INIT, out = GX_BUF_INIT;
	struct map_reject rej = { GX_BUF_INIT, GX_BUF_INIT };

	if (!ready) {
		setup();
		ready = 1;
	}
	check_zone(data, size);
	if (map_parse(&m, (const char *)data, size, "fuzz.map", &err) == 0) {
		for (int i = 0; i < NREC; i++) {
			buf_reset(&out);
			if (map_apply(&m, &tz, &rec[i], &out, &rej) == 0)
				check_output(&out);
			else if (rej.reason.len == 0 || rej.column.len == 0)
				abort();	/* a reject always says where and why */
		}
	} else if (err.len == 0) {
		abort();	/* a refused map always says why */
	}
	map_free(&m);
	buf_free(&err);
	buf_free(&out);
	buf_free(&rej.column);
	buf_free(&rej.reason);
	return 0;
}
