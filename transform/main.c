/*
 * gx-map: renames and casts the records of an NDJSON stream by a mapping
 * file, for one warehouse table.
 *
 *   gx-map [--rejects FILE] [--max-errors N] [--max-error-rate PCT]
 *          [--key COL]... [--source-tz ZONE] [--source-tz-override] [--debug]
 *          MAPFILE < in > out
 *   gx-map --check MAPFILE
 *
 * Reads records from stdin; writes each as an object with the map's target
 * columns, in map order, to stdout. A record that cannot be mapped is not
 * written: it goes to the reject file (or its reason to stderr), and the
 * run fails once more than --max-errors records were rejected (with
 * --max-error-rate: and more than that share of the stream, threshold.h).
 * With --key, each reject is also a control line downstream, for gx-load to
 * keep by key (gx(7), "Rejected rows"). Control
 * lines pass through; the end marker is written last, with "records" set
 * to the records written and "rejected" to the records this stage
 * rejected, and only when the input ended with one. The format of MAPFILE
 * is docs/mapping.md.
 *
 * Source DATETIMEs are wall times in the source zone: --source-tz, else
 * $GX_SOURCE_TZ, else the map's @source-tz, else UTC. It must agree with
 * the zone the end marker names for the source server, or the run fails
 * at the end marker, unless declared on purpose (an override).
 *
 * Exit status: 0 done; 1 bad usage, bad map, bad input, a source zone
 * that disagrees or too many rejects; 3 the input ended without the end
 * marker.
 */
#include "map.h"
#include "threshold.h"

#include <errno.h>
#include <getopt.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>

static noreturn void usage(void)
{
	fprintf(stdout,
		"usage: gx-map [--rejects FILE] [--max-errors N] [--source-tz ZONE] [--debug]\n"
		"              [--source-tz-override] MAPFILE < in.ndjson > out.ndjson\n"
		"       gx-map --check MAPFILE\n"
		"       gx-map --help | --version\n"
		"\n"
		"  --rejects FILE    append each rejected record, its line and reason to FILE\n"
		"  --max-errors N    fail once more than N records are rejected (default 0)\n"
		"  --max-error-rate PCT  ... and more than PCT percent of the stream (at its\n"
		"                    end; or a majority of 1000 or more before it)\n"
		"  --key COL         a target key column (repeat for each): a reject is also\n"
		"                    written downstream as {\"@gx\":\"reject\",...,\"key\":[...]}\n"
		"  --source-tz ZONE  IANA zone or +HH:MM of source DATETIMEs (overrides\n"
		"                    $GX_SOURCE_TZ and the map's @source-tz; default UTC)\n"
		"  --source-tz-override  use it whatever the server says; without this,\n"
		"                    GX_SOURCE_TZ_OVERRIDE=1 or '@source-tz ZONE override',\n"
		"                    a server zone (end marker) that disagrees fails the run\n"
		"  --check           parse MAPFILE, report errors, read no input\n"
		"  --debug           log the map, the zone check and the run's figures\n"
		"\n"
		"example:\n"
		"  gx-extract --entity appointments |\n"
		"    gx-map --rejects appointments.rejects transform/maps/appointments.map |\n"
		"    gx-load --table ingestion.genius_appointment --key id\n");
	gx_flush();
	exit(0);
}

/* The mapping file is small: read whole, refused past 1 MiB. */
static void load_map(struct gx_map *m, const char *path)
{
	gx_buf text = GX_BUF_INIT, err = GX_BUF_INIT;

	gx_read_file(&text, path, 1 << 20);
	if (map_parse(m, text.s, text.len, path, &err))
		gx_die(GX_EXIT_DATA, "%s", err.s);
	buf_free(&text);
	buf_free(&err);
}

/* The source zone, and what declared it the rule whatever the server
 * says (NULL: it must agree with the server's). */
struct zone {
	struct gx_tz tz;
	int from_map;		/* the map's @source-tz, or the default UTC */
	const char *override;
};

/* --source-tz, else $GX_SOURCE_TZ, else the map's @source-tz, else UTC.
 * The map's "override" goes with its zone; the flag and
 * GX_SOURCE_TZ_OVERRIDE with whichever zone is used. */
static void open_zone(struct zone *zn, const char *opt, int opt_override,
		      const struct gx_map *m)
{
	const char *env = getenv("GX_SOURCE_TZ");
	gx_buf err = GX_BUF_INIT;

	zn->from_map = !opt && !(env && *env);
	if (tz_open(&zn->tz, opt ? opt : !zn->from_map ? env :
		    m->source_tz ? m->source_tz : "UTC", &err))
		gx_die(GX_EXIT_DATA, "%s", err.s);
	buf_free(&err);
	zn->override = opt_override ? "--source-tz-override" :
		gx_env_flag("GX_SOURCE_TZ_OVERRIDE") ? "GX_SOURCE_TZ_OVERRIDE" :
		zn->from_map && m->source_tz_override ? "the map's @source-tz override" : NULL;
}

/* An end marker member as text (a string decoded), or NULL when absent
 * or null. */
static const char *member(const struct gx_reader *r, const char *key, gx_buf *b)
{
	const struct gx_field *f = reader_get(r, key);
	int nul = 0;

	buf_reset(b);
	if (!f || f->type == GX_NULL)
		return NULL;
	if (f->type != GX_STR || json_unescape(b, f->val, f->vlen, &nul) < 0 || nul) {
		buf_reset(b);
		buf_add(b, f->val, f->vlen);
	}
	return b->s;
}

/* Dies naming both zones and how to choose: the server's zone where
 * GX_SOURCE_TZ can take it, and the override that fits where ours came
 * from. */
static noreturn void zone_mismatch(const struct gx_reader *r, const struct zone *zn,
				   const char *server, const char *why)
{
	const char *ours = zn->tz.name;
	gx_buf fix = GX_BUF_INIT;

	if (tz_resolvable(server))
		buf_addf(&fix, "set GX_SOURCE_TZ=%s (or --source-tz)", server);
	else
		buf_adds(&fix, "set GX_SOURCE_TZ to the server's IANA zone (or --source-tz)");
	if (zn->from_map)
		buf_addf(&fix, ", or declare the old rule on purpose with "
			 "'@source-tz %s override' / GX_SOURCE_TZ_OVERRIDE=1", ours);
	else
		buf_adds(&fix, ", or declare it on purpose with "
			 "GX_SOURCE_TZ_OVERRIDE=1 (or --source-tz-override)");
	gx_die(GX_EXIT_DATA, "line %lu: the source server's time zone is '%s' but "
	       "this %s converts DATETIMEs as '%s' (%s): %s", r->lineno, server,
	       zn->from_map ? "map" : "run", ours, why, fix.s);
}

/* The end marker names the source server's zone. Ours must agree with
 * it, unless declared on purpose: else every DATETIME would land hours
 * off without a word. Dying here withholds the end marker, so gx-load
 * commits nothing of the run. */
static void check_zone(const struct gx_reader *r, struct zone *zn)
{
	gx_buf srv = GX_BUF_INIT, clk = GX_BUF_INIT, ins = GX_BUF_INIT, how = GX_BUF_INIT;
	const char *server = member(r, "time_zone", &srv), *ours = zn->tz.name;

	if (!server) {
		gx_debug("line %lu: the end marker names no time_zone: '%s' is not compared",
			 r->lineno, ours);
	} else if (zn->override) {
		gx_debug("line %lu: the server's time zone '%s' is not compared with '%s' "
			 "(declared by %s)", r->lineno, server, ours, zn->override);
	} else {
		int rc = tz_agrees(&zn->tz, server, member(r, "clock", &clk),
				   member(r, "instant", &ins), &how);
		if (rc < 0)
			gx_die(GX_EXIT_DATA, "line %lu: %s", r->lineno, how.s);
		gx_debug("line %lu: the server's time zone '%s' against '%s': %s: %s",
			 r->lineno, server, ours, rc ? "agree" : "differ", how.s);
		if (!rc)
			zone_mismatch(r, zn, server, how.s);
	}
	buf_free(&srv);
	buf_free(&clk);
	buf_free(&ins);
	buf_free(&how);
}

struct run {
	FILE *rejects;
	const char *rejects_path;
	unsigned long long max_errors, records, emitted, rejected;
	double max_rate;		/* --max-error-rate, < 0: none */
	const char **key;		/* --key: the source keys of the target's key */
	size_t nkeys;
	gx_buf line;
};

/* The reject as a control line in place, for gx-load --run to keep by key:
 * the key's values as the source record has them ("key":null when one is
 * missing or not a number or string: such a row cannot be retried). */
static void reject_line(struct run *run, const struct gx_reader *r,
			const struct map_reject *rej)
{
	gx_buf *b = &run->line;

	buf_reset(b);
	buf_addf(b, "{\"@gx\":\"reject\",\"stage\":\"map\",\"line\":%lu,\"column\":",
		 r->lineno);
	json_add_str(b, rej->column.s, rej->column.len);
	buf_adds(b, ",\"reason\":");
	json_add_str(b, rej->reason.s, rej->reason.len);
	buf_adds(b, ",\"key\":");
	int keyed = 1;
	for (size_t k = 0; k < run->nkeys; k++) {
		const struct gx_field *f = reader_get(r, run->key[k]);
		keyed &= f && (f->type == GX_NUM || f->type == GX_STR);
	}
	if (!keyed)
		buf_adds(b, "null");
	for (size_t k = 0; keyed && k < run->nkeys; k++) {
		const struct gx_field *f = reader_get(r, run->key[k]);
		const char *q = f->type == GX_STR ? "\"" : "";

		buf_addc(b, k ? ',' : '[');
		buf_adds(b, q);
		buf_add(b, f->val, f->vlen);
		buf_adds(b, q);
	}
	if (keyed)
		buf_addc(b, ']');
	buf_adds(b, "}\n");
	gx_out(b->s, b->len);
}

/* One reject: to the file as a JSON line, else its reason to stderr;
 * fatal once more than --max-errors. */
static void reject(struct run *run, const struct gx_reader *r,
		   const struct map_reject *rej)
{
	size_t n = r->line.len;

	run->rejected++;
	if (run->nkeys)
		reject_line(run, r, rej);
	if (run->rejects) {
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
	if (gx_too_many_rejects(run->rejected, run->records, run->max_errors,
				run->max_rate, 0)) {
		if (run->max_rate < 0)
			gx_die(GX_EXIT_DATA, "line %lu: %llu records rejected, more than "
			       "--max-errors %llu: stopped", r->lineno, run->rejected,
			       run->max_errors);
		gx_die(GX_EXIT_DATA, "line %lu: %llu of %llu records rejected so far: a "
		       "systemic failure (a broken map or a changed source type?), not a "
		       "few bad rows: stopped", r->lineno, run->rejected, run->records);
	}
}

/* The end marker with this stage's counts; other members as they were. */
static void end_marker(const struct run *run, const struct gx_reader *r, gx_buf *out)
{
	int had_rejected = 0;

	if (r->end_records != run->records)
		gx_die(GX_EXIT_DATA, "%s: line %lu: the end marker counts %llu records "
		       "but %llu were read", r->name, r->lineno, r->end_records,
		       run->records);
	if (run->max_rate >= 0 && gx_too_many_rejects(run->rejected, run->records,
						      run->max_errors, run->max_rate, 1))
		gx_die(GX_EXIT_DATA, "line %lu: %llu of %llu records rejected (%.1f%%), "
		       "more than --max-errors %llu and --max-error-rate %g%%: a systemic "
		       "failure (a broken map or a changed source type?), not a few bad "
		       "rows: no end marker written", r->lineno, run->rejected, run->records,
		       100.0 * (double)run->rejected / (double)run->records, run->max_errors,
		       run->max_rate);
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
		{ "max-error-rate", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "source-tz", required_argument, NULL, 'z' },
		{ "source-tz-override", no_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct run run = { NULL, NULL, 0, 0, 0, 0, -1, NULL, 0, GX_BUF_INIT };
	const char **key_names = NULL;
	const char *zone = NULL;
	int check = 0, override = 0, c;

	gx_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': run.rejects_path = optarg; break;
		case 'm': run.max_errors = gx_parse_count("--max-errors", optarg); break;
		case 'p': run.max_rate = gx_parse_percent("--max-error-rate", optarg); break;
		case 'k':
			key_names = gx_realloc(key_names, (run.nkeys + 1) * sizeof *key_names);
			key_names[run.nkeys++] = optarg;
			break;
		case 'z': zone = optarg; break;
		case 'o': override = 1; break;
		case 'c': check = 1; break;
		case 'd': gx_debug_on = 1; break;
		case 'h': usage();
		case 'V': gx_version(); break;
		default: gx_bad_option(c, argv);
		}
	}
	if (optind != argc - 1)
		gx_usage_error(optind == argc ? "a MAPFILE is required" :
			       "one MAPFILE, not %d arguments", argc - optind);

	/* 1. The map and the zone, refused before any input is read. */
	struct gx_map map;
	struct zone zn;
	load_map(&map, argv[optind]);
	open_zone(&zn, zone, override, &map);
	gx_debug("%s: %zu columns from %zu source keys, source zone %s%s",
		 argv[optind], map.ncol, map.nkey, zn.tz.name, zn.override ? " (override)" : "");
	if (check) {
		printf("%s: ok: %zu columns, source zone %s%s\n", argv[optind], map.ncol,
		       zn.tz.name, zn.override ? " (override)" : "");
		gx_flush();
		map_free(&map);
		tz_close(&zn.tz);
		return 0;
	}
	/* --key names target columns; the reject line carries their sources. */
	run.key = run.nkeys ? gx_malloc(run.nkeys * sizeof *run.key) : NULL;
	for (size_t k = 0; k < run.nkeys; k++) {
		size_t i = 0;
		while (i < map.ncol && strcmp(map.col[i].target, key_names[k]))
			i++;
		if (i == map.ncol || map.col[i].drop)
			gx_die(GX_EXIT_DATA, "--key %s: the map has no such column", key_names[k]);
		run.key[k] = map.key[map.col[i].src].name;
	}
	free(key_names);
	if (run.rejects_path && !(run.rejects = gx_fopen_private(run.rejects_path, "a")))
		gx_die(GX_EXIT_DATA, "%s: cannot open: %s", run.rejects_path, strerror(errno));

	/* 2. Each record mapped and written, or rejected; control lines
	 * passed on. The end marker, and whatever follows it, is held back
	 * until the input has ended cleanly; its source zone is checked. */
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
				check_zone(&r, &zn);
				continue;
			}
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
		if (map_apply(&map, &zn.tz, &r, &out, &rej) == 0) {
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
	tz_close(&zn.tz);
	buf_free(&out);
	buf_free(&tail);
	buf_free(&run.line);
	free(run.key);
	buf_free(&rej.column);
	buf_free(&rej.reason);
	return 0;
}
