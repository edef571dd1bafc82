/* gx-map: the mapping file, the source zone, and the conversion of one
 * record. None of these functions exits: errors come back as text, so the
 * map parser and the converter can be fuzzed. */
#ifndef GX_MAP_H
#define GX_MAP_H

#include <stdint.h>
#include <string.h>

#include "stream.h"

enum col_type {
	COL_SMALLINT, COL_INTEGER, COL_BIGINT, COL_NUMERIC, COL_DOUBLE,
	COL_BOOLEAN, COL_TEXT, COL_VARCHAR, COL_DATE, COL_TIME, COL_INTERVAL,
	COL_TIMESTAMPTZ, COL_JSON
};

enum zero_rule { ZERO_KEEP, ZERO_NULL, ZERO_REJECT };

/* A list of words (true=Y,yes): NUL-separated in one string. */
struct word_list {
	char *s;
	size_t len;
};

struct map_col {
	char *target;
	char *head;		/* "target": ready to write */
	size_t headlen;
	int line;
	enum col_type type;
	int len;		/* varchar(n), or numeric precision (0: none) */
	int scale;		/* numeric scale */
	size_t src;		/* index into gx_map.key */
	size_t *alt;		/* else=: indexes into gx_map.key */
	size_t nalt, alt_cap;
	unsigned not_null : 1, drop : 1, empty_null : 1, nul_strip : 1,
		 truncate : 1, round : 1, has_def : 1;
	enum zero_rule zero;
	struct word_list yes, no;
	struct gx_field def;	/* default=: converted like a source value */
	unsigned long long stripped, truncated;
};

struct map_key {
	char *name;
	size_t len;
	int read;		/* some column reads it (not only drop) */
};

struct gx_map {
	struct map_col *col;
	size_t ncol, col_cap;
	struct map_key *key;
	size_t nkey, key_cap, nread;
	char *source_tz;
	int source_tz_override;	/* "@source-tz ZONE override" */
	int unknown_reject, missing_null;
	/* private: key lookup and per-record state of map_apply */
	size_t *hash, hmask;
	const struct gx_field **val;
	long *pos;
	size_t npos;
	gx_buf tmp, tmp2;
};

#define TZ_SLOTS (1u << 16)

/* The source zone. UTC and fixed offsets need no tables; another zone
 * keeps a cache of offsets per wall-clock hour. */
struct gx_tz {
	char *name;
	int fixed;		/* one offset for ever: off */
	int32_t off;		/* seconds east of UTC */
	struct tz_slot *slot;
};

/* Opens the zone name: a UTC name, a fixed offset "+HH:MM", or a tz
 * database zone (which becomes the process's TZ); 0, or -1 with the
 * reason in err. */
int tz_open(struct gx_tz *z, const char *name, gx_buf *err);
void tz_close(struct gx_tz *z);
/* Appends "YYYY-MM-DD HH:MM:SS[.f]+HH:MM" for the wall time s[0..n), a
 * valid "YYYY-MM-DD" (midnight) or "YYYY-MM-DD HH:MM:SS[.f]". */
void tz_stamp(struct gx_tz *z, gx_buf *out, const char *s, size_t n);
/* Whether the source server's zone, as an end marker's "time_zone" names
 * it, agrees with z around the marker's "instant" (epoch seconds) or else
 * its "clock" (the server's wall time); either may be NULL. 1 they agree,
 * 0 not, -1 the clock or instant is malformed; how says what was
 * compared and found. */
int tz_agrees(struct gx_tz *z, const char *server, const char *clock,
	      const char *instant, gx_buf *how);
/* 1 when tz_open takes name: not an abbreviation such as "CST". */
int tz_resolvable(const char *name);

/* buf_add, inline: a record's output is many small pieces. */
static inline void out_add(gx_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
		buf_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Parses a mapping file held in text[0..len). 0, or -1 with
 * "NAME:LINE: reason" in err. map_free releases m either way. */
int map_parse(struct gx_map *m, const char *text, size_t len,
	      const char *name, gx_buf *err);
void map_free(struct gx_map *m);
/* The index of source key s[0..n) in m->key, or -1. */
long map_key_find(const struct gx_map *m, const char *s, size_t n);

/* Why a record was not mapped: the target column or source key, and why. */
struct map_reject {
	gx_buf column, reason;
};

/* Appends the mapped record (one JSON object and '\n') to out: 0, or -1
 * with rej filled (out then holds garbage). */
int map_apply(struct gx_map *m, struct gx_tz *z, const struct gx_reader *r,
	      gx_buf *out, struct map_reject *rej);
/* Converts v by c's type only (no null rules); the map parser checks a
 * default= with it. CAST_OK appends the JSON value to out. */
enum { CAST_OK, CAST_NULL, CAST_REJECT };
int map_convert(struct gx_map *m, struct map_col *c, struct gx_tz *z,
		const struct gx_field *v, gx_buf *out, gx_buf *why);

#endif
