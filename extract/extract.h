/* gx-extract: the parts main.c puts together. */
#ifndef GX_EXTRACT_H
#define GX_EXTRACT_H

#include <mysql.h>

#include "gx.h"
#include "stream.h"

/* A query file: its directives and its SELECT, split where the bookkeeping
 * columns go (right after SELECT and its modifiers). */
struct query {
	char *path;
	int has_cursor;		/* an @cursor line was read */
	char *cursor;		/* SQL expression, or NULL for `@cursor none` */
	char **keys;		/* one or more SQL expressions */
	size_t nkeys, keys_cap;
	char **wheres;		/* @where conditions, ANDed */
	size_t nwheres, wheres_cap;
	char *head;		/* "SELECT [modifiers]" */
	char *tail;		/* the select list onward, no trailing ';' */
	const char *from;	/* in tail: its top-level FROM onward, or NULL */
};

void query_load(struct query *q, const char *path);
void query_free(struct query *q);

/* A resume point: the end marker's "last" array, [cursor, key...]. */
struct after_val {
	enum gx_type type;	/* GX_NULL, GX_NUM or GX_STR */
	gx_buf text;		/* the number's digits or the decoded string */
};

struct after {
	struct after_val *v;
	size_t n, cap;
	gx_buf json;		/* the array again, on one line, for the end marker */
};

void after_parse(struct after *a, const char *s);
/* The same grammar for another option's array (its name in messages). */
void values_parse(struct after *a, const char *opt, const char *s);
void after_free(struct after *a);

/* --shard K/N: which part of the key space this process reads. With an
 * integer first key, the half-open range [bound[K-2], bound[K-1]) of it,
 * open below for shard 1 and above for shard N; otherwise the rows whose
 * MOD(CRC32(first key), N) = K-1. */
struct shard {
	unsigned k, n;		/* 0 when not sharding */
	int pinned;		/* bounds came from --shard-bounds */
	int hash;		/* the first key is not an integer */
	__int128 *bound;	/* n - 1 non-decreasing boundaries */
	gx_buf json;		/* the bounds as a JSON array, for the end marker */
};

/* Parse --shard K/N and --shard-bounds [B,...] (NULL: none) or die (1). */
void shard_parse(struct shard *s, const char *kn, const char *bounds);
void shard_free(struct shard *s);

/* The window: which rows of the query this run reads. */
struct window {
	const char *since, *until;	/* validated datetimes or NULL */
	const struct after *after;	/* or NULL */
	const struct shard *shard;	/* or NULL */
	int has_limit;
	unsigned long long limit;
	/* Rows in (cursor, key) order: needed by a bounded read (--limit),
	 * whose "last" is where the next run resumes; asked for by --ordered.
	 * A complete read skips the server's sort of the whole window. */
	int ordered;
};

/* Dies (status 1) unless the window fits the query: --since and --until
 * need a cursor; --after needs [cursor, key...] with non-null keys. */
void window_check(const struct query *q, const struct window *w);
/* The SQL that reads the (checked) window: bookkeeping columns (cursor, keys) first,
 * then the query's own; ordered by cursor then keys when w->ordered. */
void query_sql(gx_buf *sql, const struct query *q, const struct window *w, MYSQL *my);
/* SELECT first key over the query's FROM, its @where and the --since/--until
 * window; not --after, so that a resumed shard finds the same keys. */
void query_keys_sql(gx_buf *sql, const struct query *q,
		    const struct window *w, MYSQL *my);

/* Fixes the shard's bounds from the source (unless pinned): the keys split
 * into N parts of as many rows; or, when the first key is not an integer,
 * chooses the hash. */
void shard_plan(struct shard *s, const struct query *q, const struct window *w,
		MYSQL *my);
/* Appends the SQL condition that keeps the shard's rows of key expression k. */
void shard_cond(gx_buf *sql, const struct shard *s, const char *k);

/* cnf.c: MySQL option files, read as the stock client reads them. */
enum cnf_key {
	CNF_HOST, CNF_PORT, CNF_USER, CNF_PASSWORD, CNF_DATABASE, CNF_SOCKET,
	CNF_PROTOCOL, CNF_INIT_COMMAND, CNF_COMPRESS, CNF_PLUGIN_DIR,
	CNF_DEFAULT_AUTH, CNF_SSL, CNF_SSL_CA, CNF_SSL_CAPATH, CNF_SSL_CERT,
	CNF_SSL_KEY, CNF_SSL_CIPHER, CNF_SSL_CRL, CNF_SSL_CRLPATH,
	CNF_TLS_VERSION, CNF_SSL_VERIFY_SERVER_CERT, CNF_NKEYS
};
struct cnf_files {
	int no_defaults;
	const char *file, *extra, *suffix;	/* --defaults-*, or NULL */
};
struct cnf {
	char *value[CNF_NKEYS];	/* the last one read; booleans "1"/"0" */
	char *where[CNF_NKEYS];	/* "FILE:LINE" */
	gx_buf files;		/* the files read, for --debug */
	const char *suffix;
};
/* Reads the files (dies with status 1 on a bad one). */
void cnf_read(struct cnf *c, const struct cnf_files *f);
/* Where a file is read: its path and line, and its [group] so far. */
struct cnf_pos {
	const char *path;
	unsigned line;
	int in, any;	/* in a group we read; after any group */
};
/* One line of an option file (no newline, changed in place), at *at: sets
 * what it says in c and returns 0, or returns 1 for an !include (*dir: an
 * !includedir) of the path *inc, which the caller reads. Dies with status
 * 1, naming PATH:LINE, on a bad line. */
int cnf_line(struct cnf *c, struct cnf_pos *at, char *line, char **inc, int *dir);
void cnf_free(struct cnf *c);

/* The source connection's command-line settings (their environment
 * spellings read by db_args_init), parsed by db_option. */
struct db_args {
	struct cnf_files files;
	const char *ssl_mode, *ssl_ca, *ssl_cert, *ssl_key;
};
enum { DB_O_NO_DEFAULTS = 512, DB_O_DEFAULTS_FILE, DB_O_EXTRA_FILE,
       DB_O_GROUP_SUFFIX, DB_O_SSL_MODE, DB_O_SSL_CA, DB_O_SSL_CERT, DB_O_SSL_KEY };
#define DB_LONGOPTS \
	{ "no-defaults", no_argument, NULL, DB_O_NO_DEFAULTS }, \
	{ "defaults-file", required_argument, NULL, DB_O_DEFAULTS_FILE }, \
	{ "defaults-extra-file", required_argument, NULL, DB_O_EXTRA_FILE }, \
	{ "defaults-group-suffix", required_argument, NULL, DB_O_GROUP_SUFFIX }, \
	{ "ssl-mode", required_argument, NULL, DB_O_SSL_MODE }, \
	{ "ssl-ca", required_argument, NULL, DB_O_SSL_CA }, \
	{ "ssl-cert", required_argument, NULL, DB_O_SSL_CERT }, \
	{ "ssl-key", required_argument, NULL, DB_O_SSL_KEY }
void db_args_init(struct db_args *a);
/* 1 when c is one of DB_LONGOPTS (taken), else 0. */
int db_option(struct db_args *a, int c, const char *arg);
/* After the options: dies with status 1 on a bad combination. */
void db_args_check(const struct db_args *a);
/* Connects from the command line, GENIUS_DB_* and the option files (in
 * that order of precedence) or dies with status 2 (1: bad settings). */
MYSQL *db_connect(const struct db_args *a, unsigned connect_timeout,
		  unsigned read_timeout);
/* Appends s as a quoted SQL literal, escaped for the connection. */
void db_add_literal(gx_buf *b, MYSQL *my, const char *s, size_t n);
/* Runs a statement that returns nothing, or dies with status 2. */
void db_exec(MYSQL *my, const char *sql);
/* Dies with status 2: "what: the server's message (the likely cause)".
 * Call right after the failing call: the cause is read from errno. */
noreturn void db_die(MYSQL *my, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The source clock: NOW(6), the session and the system time zone, and the
 * same moment as an instant (@@timestamp: epoch seconds). */
struct db_clock {
	char *now, *time_zone, *system_time_zone, *instant;
	long long epoch;	/* instant, whole seconds (floor) */
};
void db_clock(MYSQL *my, struct db_clock *c);
void db_clock_free(struct db_clock *c);

/* clock.c: instants and the cursor's wall time. zone: the zone the
 * cursor's writers use (--cursor-tz), NULL for the session's. */
long long clock_epoch(const char *opt, const char *s);
char *clock_wall(MYSQL *my, const char *zone, long long epoch);
/* The earliest wall time of any instant in [since, now]: the window's
 * lower bound for a checkpoint kept as an instant; *widened when a
 * backward clock change (DST) made it earlier than since's own. */
char *clock_since(MYSQL *my, const char *zone, long long since, long long now,
		  int *widened);
/* min(clock, given origin (-1: none), oldest open transaction, clock -
 * replica lag); names what the account may not see in blind (JSON). */
long long clock_origin(MYSQL *my, const struct db_clock *c, long long given,
		       gx_buf *blind);

/* probe.c: rows that arrived behind the checkpoint since the last run. */
struct probe_result {
	unsigned long long late_rows;	/* found in the previous band */
	char widen_to[20];		/* the earliest hour they are in, or "" */
	gx_buf json;			/* the new band, for the end marker */
};
/* Counts prev's band again (NULL: none) and the band [from_wall's hour,
 * until) for the next run. */
void probe_run(MYSQL *my, const struct query *q, const struct after *prev,
	       const char *until, const char *from_wall, struct probe_result *out);
/* How many rows of the query have a cursor after wall. */
unsigned long long probe_future(MYSQL *my, const struct query *q, const char *wall);

/* A string column's character set, as the server sends it raw (the rows'
 * session sets character_set_results = NULL): its own bytes are turned
 * into UTF-8 here, so that a character with no Unicode mapping is seen
 * and counted instead of arriving as the server's "?". */
struct value_cs {
	enum { CS_AS_IS, CS_LATIN1, CS_ICONV, CS_UNKNOWN } kind;
	void *cd;			/* iconv_t, for CS_ICONV */
	unsigned (*charlen)(unsigned lead);	/* bytes of a character, or NULL */
	const char *name;		/* the MySQL character set's name */
};
void value_cs_open(struct value_cs *c, const MYSQL_FIELD *f);
void value_cs_close(struct value_cs *c);
/* *v, *len in c's character set -> UTF-8 (in tmp, when converted); returns
 * how many characters had no Unicode mapping (each became U+FFFD). */
size_t value_cs_convert(const struct value_cs *c, gx_buf *tmp, const char **v,
			unsigned long *len);

/* Appends the JSON for one value of field f (v NULL for SQL NULL); returns
 * how many invalid UTF-8 sequences were replaced. */
size_t value_add(gx_buf *b, const MYSQL_FIELD *f, const char *v, unsigned long len);
/* 1 for DATE, DATETIME and TIMESTAMP: text "YYYY-MM-DD...", which sorts
 * like the value. */
int value_is_date(const MYSQL_FIELD *f);

/* What one run read. */
struct run {
	unsigned long long records;	/* emitted */
	unsigned long long null_cursor;	/* emitted with a NULL or zero cursor */
	unsigned long long invalid_utf8; /* sequences replaced by U+FFFD */
	unsigned long long unmappable;	/* characters with no Unicode mapping */
	unsigned long long retried;	/* records read again by key (--keys) */
	unsigned long long gone;	/* keys asked for that the source lacks */
	gx_buf unmappable_at;		/* the first one's column and charset */
	int more;			/* --limit cut the run short */
	gx_buf max_cursor;		/* the greatest dated cursor emitted */
	gx_buf last;			/* [cursor, key...] of the last record */
	/* --progress: a line on stderr every progress seconds (0: never) */
	unsigned progress;
	double t0, next;		/* the run's start; the next line's time */
};

/* keys.c, --keys FILE: rows read again by key (a run's open rejects),
 * besides the window. One chunk of the file's keys at a time. */
struct retry {
	struct after *keys;	/* the chunk: [key...] arrays */
	char *found;		/* per key: a row has it */
	size_t n, nkeys;
};
/* Reads FILE's keys (one JSON array of the query's @key values a line, as
 * gx-state rejects --keys prints them) and streams the rows they name that
 * the window does not hold; a key with no row (deleted, or outside the
 * query's @where) is a control line {"@gx":"gone","key":[...]}. */
void keys_stream(MYSQL *my, const struct query *q, const struct window *w,
		 const char *path, struct run *r);
/* One line of a keys file, checked against the query (the fuzz target's
 * entry); dies (status 1) naming --keys and the line. */
void keys_parse(struct after *a, const struct query *q, const char *line,
		unsigned long lineno);
/* The SQL of a retry: the in-window flag, the keys, the query's columns,
 * for the rows whose keys are in the chunk. */
void query_retry_sql(gx_buf *sql, const struct query *q, const struct window *w,
		     const struct retry *k, MYSQL *my);

/* Runs sql (whose first nbk columns are the cursor, if has_cursor, and the
 * keys; for a retry, the in-window flag and the keys) and writes a record
 * per row, at most w->limit; dies with status 2 on a server error, before
 * any end marker. */
void rows_stream(MYSQL *my, const char *sql, size_t nbk, int has_cursor,
		 const struct window *w, struct run *r, struct retry *retry);

/* query_load's parser on the text s[0..len) (the fuzz target's entry);
 * path names it in messages. */
void query_parse(struct query *q, const char *path, const char *s, size_t len);

#endif
