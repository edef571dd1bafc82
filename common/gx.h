/* gx: the small internal library every gx program links. */
#ifndef GX_H
#define GX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>

#define GX_VERSION "0.1.0"

/* Exit statuses: one table for every program (STYLE.md). */
enum {
	GX_EXIT_OK = 0,
	GX_EXIT_DATA = 1,	/* bad usage or bad data */
	GX_EXIT_SERVER = 2,	/* cannot connect, or the server failed */
	GX_EXIT_TRUNC = 3,	/* input ended without the end marker */
	GX_EXIT_LOCKED = 4,	/* another run of the same entity holds the lock */
	GX_EXIT_BUG = 5		/* internal error */
};

extern const char *gx_prog;
extern int gx_debug_on;

/* Names the program for messages, gives stdout a large buffer, and makes a
 * reader that went away (EPIPE) end us quietly with status 0. */
void gx_init(const char *prog);
noreturn void gx_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gx_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bad usage, the same in every program: one line "PROG: WHAT (see PROG
 * --help)" on stderr, status 1; the usage itself only for --help. */
noreturn void gx_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* After getopt_long returned '?' or ':' (opterr 0, optstring ":..."):
 * "--foo: unknown option" or "--table: needs a value". */
noreturn void gx_bad_option(int ch, char **argv);
/* A summary or progress line on stderr ("PROG: message", or JSON). */
void gx_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gx_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A progress line: on the descriptor GX_PROGRESS_FD names, live (redrawn in
 * place on a terminal), else as gx_info. */
void gx_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SIGINT, SIGTERM and SIGHUP (unless ignored on entry, as under nohup):
 * one line on stderr as gx_die writes it (in JSON without a time), of what
 * with %s the signal's name, then death by the signal itself, so that a
 * shell or scheduler sees a killed job. gx_hold_stops blocks them from then
 * on: a stop waits, and is dropped if we exit. */
void gx_catch_stops(const char *what) __attribute__((format(printf, 1, 0)));
void gx_hold_stops(void);
/* Formats into dst, beforehand, the line a signal handler will write(2):
 * as gx_die writes it, in JSON without a time. */
void gx_handler_line(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes such a line from a signal handler, after the time when text lines
 * are timed (GX_LOG_TIMESTAMPS). */
void gx_handler_say(const char *line);
/* Flushes stdout; dies on a write error other than EPIPE. Call at the end. */
void gx_flush(void);
/* Writes n bytes to stdout (buffered); EPIPE ends the program with 0. */
void gx_out(const void *p, size_t n);

void *gx_malloc(size_t n);
void *gx_realloc(void *p, size_t n);
/* Makes room for n elements in the array p of cap elements (a size_t,
 * updated): half again as many as n, dying when the size overflows. The
 * one way gx grows an array. */
#define GX_GROW(p, n, cap)						\
	do {								\
		if ((n) > (cap))					\
			(p) = gx_grow((p), (n), &(cap), sizeof *(p));	\
	} while (0)
void *gx_grow(void *p, size_t n, size_t *cap, size_t size);
char *gx_strdup(const char *s);
char *gx_strndup(const char *s, size_t n);

/* fopen() for files gx creates (rejects, stats): new files get mode 0600,
 * as they can hold customer data. mode is "w" or "a". */
FILE *gx_fopen_private(const char *path, const char *mode);
/* Prints "PROG VERSION" and exits 0: shared by every --version. */
noreturn void gx_version(void);
/* Parses a non-negative decimal integer option value or dies naming opt. */
unsigned long long gx_parse_count(const char *opt, const char *s);
/* Checks "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.ffffff]" (a real calendar
 * date); returns 1 if valid. */
int gx_valid_datetime(const char *s);
/* 1 when the environment variable is set to anything but "" or "0". */
int gx_env_flag(const char *name);
/* Seconds since an arbitrary start, for durations. */
double gx_clock(void);

/* One growable buffer type, used everywhere, as git's strbuf: s is never
 * NULL (an unallocated buffer points at a shared empty string, which is
 * never written) and always NUL-terminated; cap is 0 until it owns memory.
 * A zeroed buffer is taken as empty by every buf_ function. */
typedef struct {
	char *s;
	size_t len, cap;
} gx_buf;

extern char gx_buf_empty[];
#define GX_BUF_INIT { gx_buf_empty, 0, 0 }
void buf_grow(gx_buf *b, size_t extra);
/* Cuts (or, within what buf_grow made room for, extends) to len bytes. */
static inline void buf_setlen(gx_buf *b, size_t len)
{
	if (len > (b->cap ? b->cap - 1 : 0))
		gx_die(GX_EXIT_BUG, "buf_setlen past the end of the buffer");
	b->len = len;
	if (b->cap)
		b->s[len] = '\0';
	else
		b->s = gx_buf_empty;
}
void buf_add(gx_buf *b, const void *p, size_t n);
void buf_adds(gx_buf *b, const char *s);
void buf_addf(gx_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(gx_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static inline void buf_addc(gx_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}
static inline void buf_reset(gx_buf *b)
{
	buf_setlen(b, 0);
}
void buf_free(gx_buf *b);

/* Appends the whole file at path (a map, a query, DDL: small files); dies
 * (status 1) when it cannot be read or holds more than max bytes (0: no
 * limit). */
void gx_read_file(gx_buf *b, const char *path, size_t max);
/* Appends where gx's own files SUB are: <dir of the binary>/../SUB, as in
 * the source tree, else <dir of the binary>/../share/gx/SUB (make install),
 * the former when neither exists. -1 when the binary's path is unknown. */
int gx_share_dir(gx_buf *b, const char *sub);

#endif
