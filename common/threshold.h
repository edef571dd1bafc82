/* When rejected records stop being a few bad rows and become a systemic
 * failure (a broken map, a changed source type): the rule of --max-errors
 * and --max-error-rate, shared by gx-map and gx-load (gx(7), "Rejected
 * rows"). */
#ifndef GX_THRESHOLD_H
#define GX_THRESHOLD_H

/* The default share: more than 10% of a stream rejected, past
 * --max-errors, is no longer a few bad rows. */
#define GX_ERROR_RATE_DEFAULT 10.0
/* Before the end of the stream, only a majority of at least this many
 * rejects stops it early (the share so far says little: bad rows cluster,
 * NULL and zero cursors come first). */
#define GX_EARLY_REJECTS 1000

/* A percentage option, 0 to 100, decimals allowed, or dies naming opt. */
double gx_parse_percent(const char *opt, const char *s);

/* 1 when `rejected` of the `seen` records read so far are too many: more
 * than max and, with a rate (>= 0), more than rate percent of the stream
 * once it has ended (final), or a majority of GX_EARLY_REJECTS or more
 * before that. rate < 0: more than max is too many (the plain count). */
int gx_too_many_rejects(unsigned long long rejected, unsigned long long seen,
			unsigned long long max, double rate, int final);

#endif
