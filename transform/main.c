/*
 * gx-map: renames and casts the records of an NDJSON stream by a mapping
 * file, for one warehouse table.
 *
 *   gx-map [--rejects FILE] [--max-errors N] [--source-tz ZONE] [--debug]
 *          MAPFILE < in > out
 *   gx-map --check MAPFILE
 *
 * Reads records from stdin; writes each as an object with the map's target
 * columns, in map order, to stdout. A record that cannot be mapped is not
 * written: it goes to the reject file (or its reason to stderr), and the
 * run fails once more than --max-errors records were rejected. Control
 * lines pass through; the end marker is written last, with "records" set
 * to the records written and "rejected" to the records this stage
 * rejected, and only when the input ended with one. The format of MAPFILE
 * is docs/mapping.md.
 *
 * Source DATETIMEs are wall times in the source zone: --source-tz, else
 * $GX_SOURCE_TZ, else the map's @source-tz, else UTC.
 *
 * Exit status: 0 done; 1 bad usage, bad map, bad input or too many
 * rejects; 3 the input ended without the end marker.
 */
#include "map.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: gx-map [--rejects FILE] [--max-errors N] [--source-tz ZONE] [--debug]\n"
		"              MAPFILE < in.ndjson > out.ndjson\n"
		"       gx-map --check MAPFILE\n"
		"       gx-map --help | --version\n"
		"\n"
		"  --rejects FILE    append each rejected record, its line and reason to FILE\n"
		"  --max-errors N    fail once more than N records are rejected (default 0)\n"
		"  --source-tz ZONE  IANA zone of source DATETIMEs (overrides $GX_SOURCE_TZ\n"
		"                    and the map's @source-tz; default UTC)\n"
		"  --check           parse MAPFILE, report errors, read no input\n"
		"  --debug           log the map and the run's figures to stderr\n"
		"\n"
		"example:\n"
		"  gx-extract --entity appointments |\n"
		"    gx-map --rejects appointments.rejects transform/maps/appointments.map |\n"
		"    gx-load --table ingestion.genius_appointment --key id\n");
	if (status)
		exit(status);
	gx_flush();
	exit(0);
}

/* The mapping file is small: read whole, refused past 1 MiB. */
static void load_map(struct gx_map *m, const char *path)
{
	FILE *f = fopen(path, "rb");
	gx_buf text = GX_BUF_INIT, err = GX_BUF_INIT;
	char blk[8192];
	size_t n;

	if (!f)
		gx_die(GX_EXIT_DATA, "%s: cannot open: %s", path, strerror(errno));
	while ((n = fread(blk, 1, sizeof blk, f)) > 0) {
		buf_add(&text, blk, n);
		if (text.len > (1 << 20))
			gx_die(GX_EXIT_DATA, "%s: larger than 1 MiB: not a mapping file", path);
	}
	if (ferror(f))
		gx_die(GX_EXIT_DATA, "%s: read error: %s", path, strerror(errno));
	fclose(f);
	if (map_parse(m, text.s ? text.s : "", text.len, path, &err))
		gx_die(GX_EXIT_DATA, "%s", err.s);
	buf_free(&text);
	buf_free(&err);
}

static void open_zone(struct gx_tz *z, const char *opt, const char *map_tz)
{
	const char *env = getenv("GX_SOURCE_TZ");
	const char *name = opt ? opt : env && *env ? env : map_tz ? map_tz : "UTC";
	gx_buf err = GX_BUF_INIT;

	if (tz_open(z, name, &err))
		gx_die(GX_EXIT_DATA, "%s", err.s);
	buf_free(&err);
}

struct run {
	FILE *rejects;
	const char *rejects_path;
	unsigned long long max_errors, records, emitted, rejected;
	gx_buf line;
};

/* One reject: to the file as a JSON line, else its reason to stderr;
 * fatal once more than --max-errors. */
static void reject(struct run *run, const struct gx_reader *r,
		   const struct map_reject *rej)
{
	size_t n = r->line.len;

	run->rejected++;
	if (run->rejects) {
		while (n && r->line.s[n - 1] == '\r')
			n--;
		buf_reset(&run->line);
		buf_addf(&run->line, "{\"line\":%lu,\"column\":", r->lineno);
		json_add_str(&run->line, rej->column.s, rej->column.len);
		buf_adds(&run->line, ",\"reason\":");
		json_add_str(&run->line, rej->reason.s, rej->reason.len);
		buf_adds(&run->line, ",\"record\":");
		buf_add(&run->line, r->line.s, n);
		buf_add(&run->line, "}\n", 2);
		if (fwrite(run->line.s, 1, run->line.len, run->rejects) != run->line.len)
			gx_die(GX_EXIT_DATA, "%s: write error: %s", run->rejects_path,
			       strerror(errno));
	} else {
		gx_info("line %lu: column %s: %s", r->lineno, rej->column.s, rej->reason.s);
	}
	if (run->rejected > run->max_errors)
		gx_die(GX_EXIT_DATA, "line %lu: %llu records rejected, more than "
		       "--max-errors %llu: stopped", r->lineno, run->rejected,
		       run->max_errors);
}

/* The end marker with this stage's counts; other members as they were. */
static void end_marker(const struct run *run, const struct gx_reader *r, gx_buf *out)
{
	int had_rejected = 0;

	if (r->end_records != run->records)
		gx_die(GX_EXIT_DATA, "%s: line %lu: the end marker counts %llu records "
		       "but %llu were read", r->name, r->lineno, r->end_records,
		       run->records);
	buf_addc(out, '{');
	for (size_t i = 0; i < r->nf; i++) {
		const struct gx_field *f = &r->f[i];
		if (i)
			buf_addc(out, ',');
		json_add_str(out, f->key, f->klen);
		buf_addc(out, ':');
		if (f->klen == 7 && !memcmp(f->key, "records", 7)) {
			buf_addf(out, "%llu", run->emitted);
		} else if (f->klen == 8 && !memcmp(f->key, "rejected", 8)) {
			buf_addf(out, "%llu", run->rejected);
			had_rejected = 1;
		} else if (f->type == GX_STR) {
			buf_addc(out, '"');
			buf_add(out, f->val, f->vlen);
			buf_addc(out, '"');
		} else {
			buf_add(out, f->val, f->vlen);
		}
	}
	if (!had_rejected)
		buf_addf(out, ",\"rejected\":%llu", run->rejected);
	buf_add(out, "}\n", 2);
}

static void report(const struct gx_map *m, const struct run *run, double secs)
{
	for (size_t i = 0; i < m->ncol; i++) {
		if (m->col[i].stripped)
			gx_warn("column %s: U+0000 stripped from %llu values (nul=strip)",
				m->col[i].target, m->col[i].stripped);
		if (m->col[i].truncated)
			gx_warn("column %s: %llu values truncated to %d characters (long=truncate)",
				m->col[i].target, m->col[i].truncated, m->col[i].len);
	}
	if (run->rejected && run->rejects)
		gx_warn("%llu records rejected (written to %s)", run->rejected, run->rejects_path);
	gx_debug("%llu records read, %llu written, %llu rejected in %.3f s (%.0f records/s)",
		 run->records, run->emitted, run->rejected, secs,
		 secs > 0 ? (double)run->records / secs : 0.0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rejects", required_argument, NULL, 'r' },
		{ "max-errors", required_argument, NULL, 'm' },
		{ "source-tz", required_argument, NULL, 'z' },
		{ "check", no_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct run run = { NULL, NULL, 0, 0, 0, 0, GX_BUF_INIT };
	const char *zone = NULL;
	int check = 0, c;

	gx_init(argv[0]);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': run.rejects_path = optarg; break;
		case 'm': run.max_errors = gx_parse_count("--max-errors", optarg); break;
		case 'z': zone = optarg; break;
		case 'c': check = 1; break;
		case 'd': gx_debug_on = 1; break;
		case 'h': usage(0); break;
		case 'V': gx_version(); break;
		default: usage(GX_EXIT_DATA);
		}
	}
	if (optind != argc - 1)
		usage(GX_EXIT_DATA);

	/* 1. The map and the zone, refused before any input is read. */
	struct gx_map map;
	struct gx_tz tz;
	load_map(&map, argv[optind]);
	open_zone(&tz, zone, map.source_tz);
	gx_debug("%s: %zu columns from %zu source keys, source zone %s",
		 argv[optind], map.ncol, map.nkey, tz.name);
	if (check) {
		printf("%s: ok: %zu columns, source zone %s\n", argv[optind], map.ncol, tz.name);
		gx_flush();
		map_free(&map);
		tz_close(&tz);
		return 0;
	}
	if (run.rejects_path && !(run.rejects = gx_fopen_private(run.rejects_path, "a")))
		gx_die(GX_EXIT_DATA, "%s: cannot open: %s", run.rejects_path, strerror(errno));

	/* 2. Each record mapped and written, or rejected; control lines
	 * passed on. The end marker, and whatever follows it, is held back
	 * until the input has ended cleanly. */
	struct gx_reader r;
	struct map_reject rej = { GX_BUF_INIT, GX_BUF_INIT };
	gx_buf out = GX_BUF_INIT, tail = GX_BUF_INIT;
	int at_end = 0;
	double t0 = gx_clock();

	reader_init(&r, stdin, "stdin");
	while (reader_next(&r)) {
		if (r.control) {
			size_t n = r.line.len;
			if (r.end_seen && !at_end) {
				at_end = 1;
				end_marker(&run, &r, &tail);
				continue;
			}
			while (n && r.line.s[n - 1] == '\r')
				n--;
			if (at_end) {
				buf_add(&tail, r.line.s, n);
				buf_addc(&tail, '\n');
			} else {
				gx_out(r.line.s, n);
				gx_out("\n", 1);
			}
			continue;
		}
		run.records++;
		buf_reset(&out);
		if (map_apply(&map, &tz, &r, &out, &rej) == 0) {
			gx_out(out.s, out.len);
			run.emitted++;
		} else {
			reject(&run, &r, &rej);
		}
	}

	/* 3. Complete only with the end marker. */
	reader_expect_end(&r);
	gx_out(tail.s, tail.len);
	gx_flush();
	if (run.rejects && fclose(run.rejects) != 0)
		gx_die(GX_EXIT_DATA, "%s: write error: %s", run.rejects_path, strerror(errno));
	report(&map, &run, gx_clock() - t0);

	reader_free(&r);
	map_free(&map);
	tz_close(&tz);
	buf_free(&out);
	buf_free(&tail);
	buf_free(&run.line);
	buf_free(&rej.column);
	buf_free(&rej.reason);
	return 0;
}
