/* Errors, logging, output, memory and small parsers shared by every program. */
#define _POSIX_C_SOURCE 200809L
#include "gx.h"
#include "stream.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <unistd.h>

const char *gx_prog = "gx";
int gx_debug_on;

#define OUTBUF (1 << 20)
static char outbuf[OUTBUF];	/* static: lives as long as stdout */

void gx_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	gx_prog = slash ? slash + 1 : prog;
	/* EPIPE is handled where we write, so `| head` ends us quietly. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, outbuf, _IOFBF, OUTBUF);
	if (gx_env_flag("GX_DEBUG"))
		gx_debug_on = 1;
}

int gx_env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

static int log_json = -1, log_stamps;
static const char *log_entity, *log_run;

/* How stderr lines look, from the environment the scripts set up for a
 * sync (gx-sync(1), ENVIRONMENT): GX_LOG_FORMAT=json makes every line one
 * JSON object, for log shippers, with the entity and run id of
 * GX_LOG_ENTITY and GX_LOG_RUN_ID; GX_LOG_TIMESTAMPS=1 starts every text
 * line with the UTC time, for a log file. By hand, neither: "PROG: text". */
static int json_logs(void)
{
	if (log_json < 0) {
		const char *f = getenv("GX_LOG_FORMAT"), *e = getenv("GX_LOG_ENTITY");
		const char *r = getenv("GX_LOG_RUN_ID");
		log_json = f && !strcmp(f, "json");
		log_stamps = gx_env_flag("GX_LOG_TIMESTAMPS");
		log_entity = e && *e ? e : NULL;
		log_run = r && *r && r[strspn(r, "0123456789")] == '\0' ? r : NULL;
	}
	return log_json;
}

/* "YYYY-MM-DDTHH:MM:SSZ " of t, with arithmetic only (days to a civil
 * date, after Howard Hinnant's algorithm): a signal handler may call it. */
static void utc_stamp(char dst[22], time_t t)
{
	long long s = t, days = s / 86400, sod = s % 86400;
	if (sod < 0)
		sod += 86400, days--;
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	long long y = yoe + era * 400 + (m <= 2);
	long long v[6] = { y, m, d, sod / 3600, sod / 60 % 60, sod % 60 };
	static const char sep[] = "--T::Z";
	char *p = dst;

	for (int i = 0; i < 6; i++) {
		for (int w = i ? 2 : 4; w-- > 0;)
			p[w] = (char)('0' + v[i] % 10), v[i] /= 10;
		p += i ? 2 : 4;
		*p++ = sep[i];
	}
	*p++ = ' ';
	*p = '\0';
}

/* A line of stderr as every message is written: "PROG: [LEVEL: ]TEXT", or
 * a JSON object, with the time when timed (a signal handler's line, made
 * beforehand, gets its time as it is written: gx_handler_say). */
static void log_line(gx_buf *line, const char *level, const char *text, int timed)
{
	if (json_logs()) {
		buf_adds(line, "{");
		if (timed) {
			char ts[32];
			struct timespec now;
			struct tm tm;
			clock_gettime(CLOCK_REALTIME, &now);
			gmtime_r(&now.tv_sec, &tm);
			strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
			buf_addf(line, "\"time\":\"%s.%03ldZ\",", ts, now.tv_nsec / 1000000);
		}
		buf_addf(line, "\"program\":\"%s\",", gx_prog);
		if (log_entity) {
			buf_adds(line, "\"entity\":");
			json_add_str(line, log_entity, strlen(log_entity));
			buf_addc(line, ',');
		}
		if (log_run)
			buf_addf(line, "\"run_id\":%s,", log_run);
		buf_addf(line, "\"level\":\"%s\",\"message\":", level);
		json_add_str(line, text, strlen(text));
		buf_adds(line, "}\n");
	} else {
		if (log_stamps && timed) {
			char ts[22];
			utc_stamp(ts, time(NULL));
			buf_adds(line, ts);
		}
		buf_addf(line, "%s: %s%s%s\n", gx_prog,
			 strcmp(level, "info") && strcmp(level, "error") ? level : "",
			 strcmp(level, "info") && strcmp(level, "error") ? ": " : "", text);
	}
}

static void vmsg(const char *level, const char *fmt, va_list ap)
{
	/* One line, built whole, so concurrent writers do not interleave. */
	char text[4096];
	gx_buf line = GX_BUF_INIT;

	vsnprintf(text, sizeof text, fmt, ap);
	log_line(&line, level, text, 1);
	fwrite(line.s, 1, line.len, stderr);
	buf_free(&line);
}

static const int stop_sig[] = { SIGINT, SIGTERM, SIGHUP };
static const char *const stop_name[] = { "SIGINT", "SIGTERM", "SIGHUP" };
static char stop_msg[3][256];	/* made beforehand: a handler may only write(2) */

void gx_handler_say(const char *line)
{
	char ts[22];
	ssize_t w = 0;

	if (!json_logs() && log_stamps) {
		utc_stamp(ts, time(NULL));
		w = write(STDERR_FILENO, ts, strlen(ts));
	}
	if (w >= 0 && write(STDERR_FILENO, line, strlen(line)) < 0)
		return;	/* nothing better to do in a signal handler */
}

static void on_stop(int sig)
{
	for (size_t i = 0; i < 3; i++)
		if (stop_sig[i] == sig) {
			gx_handler_say(stop_msg[i]);
			break;
		}
	raise(sig);	/* SA_RESETHAND, SA_NODEFER: the default action, now */
}

void gx_handler_line(char *dst, size_t size, const char *fmt, ...)
{
	char text[512];
	gx_buf line = GX_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_line(&line, "error", text, 0);
	snprintf(dst, size, "%s", line.s);
	buf_free(&line);
}

void gx_catch_stops(const char *what)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 3; i++) {
		gx_handler_line(stop_msg[i], sizeof stop_msg[i], what, stop_name[i]);
		/* A signal ignored on entry (nohup, a script's background job)
		 * stays ignored, as for any well-behaved tool. */
		if (!sigaction(stop_sig[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(stop_sig[i], &sa, NULL);
	}
}

void gx_hold_stops(void)
{
	sigset_t s;

	sigemptyset(&s);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&s, stop_sig[i]);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

void gx_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
	/* Whatever we already wrote is incomplete: never pretend otherwise by
	 * flushing a partial record; the missing end marker says so. */
	exit(status);
}

void gx_usage_error(const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	gx_die(GX_EXIT_DATA, "%s (see %s --help)", what, gx_prog);
}

void gx_bad_option(int ch, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (ch == ':')
		gx_usage_error("%s: needs a value", arg);
	if (optopt && strncmp(arg, "--", 2))
		gx_usage_error("-%c: unknown option", optopt);
	gx_usage_error("%.*s: unknown option", (int)strcspn(arg, "="), arg);
}

void gx_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning", fmt, ap);
	va_end(ap);
}

void gx_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("info", fmt, ap);
	va_end(ap);
}

void gx_debug(const char *fmt, ...)
{
	va_list ap;

	if (!gx_debug_on)
		return;
	va_start(ap, fmt);
	vmsg("debug", fmt, ap);
	va_end(ap);
}

/* Progress goes to GX_PROGRESS_FD when the scripts name one (their own
 * stderr, a terminal, while the stages' stderr is kept for the end), with
 * the entity as its name; on a terminal, in text, it redraws one line
 * (\r), ended by a newline when we exit. Else it is an info line. */
static int progress_fd = -2, progress_open;

static void progress_end(void)
{
	if (progress_open && write(progress_fd, "\n", 1) < 0)
		return;	/* the terminal went away: nothing to end */
}

void gx_progress(const char *fmt, ...)
{
	char text[1024];
	gx_buf line = GX_BUF_INIT;
	const char *prog = gx_prog;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (progress_fd == -2) {
		const char *v = getenv("GX_PROGRESS_FD");
		char *end;
		long fd = v && *v ? strtol(v, &end, 10) : -1;
		progress_fd = fd >= 0 && fd < 1024 && !*end && fcntl((int)fd, F_GETFD) >= 0 ?
			(int)fd : -1;
	}
	if (progress_fd < 0) {
		gx_info("%s", text);
		return;
	}
	int redraw = !json_logs() && isatty(progress_fd);
	if (log_entity && !json_logs())
		gx_prog = log_entity;	/* "appointments: progress: ..." */
	log_line(&line, "info", text, 1);
	gx_prog = prog;
	if (redraw) {
		/* "\r" then the line without its newline, then erase the rest. */
		line.s[--line.len] = '\0';
		buf_adds(&line, "\033[K");
		if (!progress_open)
			atexit(progress_end);
		progress_open = 1;
	}
	if (write(progress_fd, "\r", redraw) < 0 || write(progress_fd, line.s, line.len) < 0)
		progress_fd = -1;	/* gone: on stderr from now on */
	buf_free(&line);
}

static noreturn void out_failed(void)
{
	if (errno == EPIPE)
		_Exit(0);	/* the reader went away on purpose */
	gx_die(GX_EXIT_DATA, "write error: %s", strerror(errno));
}

void gx_out(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, stdout) != n)
		out_failed();
}

void gx_flush(void)
{
	if (fflush(stdout) != 0)
		out_failed();
}

void *gx_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		gx_die(GX_EXIT_BUG, "out of memory (%zu bytes)", n);
	return p;
}

void *gx_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		gx_die(GX_EXIT_BUG, "out of memory (%zu bytes)", n);
	return q;
}

void *gx_grow(void *p, size_t n, size_t *cap, size_t size)
{
	size_t c = n <= ((size_t)-1 - 48) / 3 ? (n + 16) * 3 / 2 : n;

	if (c > (size_t)-1 / size)
		gx_die(GX_EXIT_BUG, "out of memory (%zu elements of %zu bytes)", n, size);
	*cap = c;
	return gx_realloc(p, c * size);
}

char *gx_strndup(const char *s, size_t n)
{
	char *p = gx_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *gx_strdup(const char *s)
{
	return gx_strndup(s, strlen(s));
}

FILE *gx_fopen_private(const char *path, const char *mode)
{
	int flags = O_WRONLY | O_CREAT | (mode[0] == 'a' ? O_APPEND : O_TRUNC);
	int fd = open(path, flags, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, mode)))
		close(fd);
	return f;
}

void gx_read_file(gx_buf *b, const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char blk[8192];
	size_t n;

	if (!f)
		gx_die(GX_EXIT_DATA, "%s: cannot open: %s", path, strerror(errno));
	while ((n = fread(blk, 1, sizeof blk, f)) > 0) {
		buf_add(b, blk, n);
		if (max && b->len > max)
			gx_die(GX_EXIT_DATA, "%s: larger than %zu bytes", path, max);
	}
	if (ferror(f))
		gx_die(GX_EXIT_DATA, "%s: read error: %s", path, strerror(errno));
	fclose(f);
}

int gx_share_dir(gx_buf *b, const char *sub)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t start = b->len;

	if (n <= 0 || (size_t)n >= sizeof self - 1)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	buf_addf(b, "%s/../%s", self, sub);
	if (access(b->s + start, F_OK)) {
		buf_setlen(b, start);
		buf_addf(b, "%s/../share/gx/%s", self, sub);
		if (access(b->s + start, F_OK)) {
			buf_setlen(b, start);
			buf_addf(b, "%s/../%s", self, sub);
		}
	}
	return 0;
}

void gx_version(void)
{
	printf("%s %s\n", gx_prog, GX_VERSION);
	gx_flush();
	exit(0);
}

unsigned long long gx_parse_count(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		gx_die(GX_EXIT_DATA, "%s: not a non-negative integer: '%s'", opt, s);
	v = strtoull(s, &end, 10);
	if (errno || *end)
		gx_die(GX_EXIT_DATA, "%s: not a non-negative integer: '%s'", opt, s);
	return v;
}

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int gx_valid_datetime(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t n = strlen(s);
	int y, m, d, leap;

	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return 0;
	y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap))
		return 0;
	if (n == 10)
		return 1;
	if (n < 19 || s[10] != ' ' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2) ||
	    num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 59)
		return 0;
	if (n == 19)
		return 1;
	return s[19] == '.' && n >= 21 && n <= 26 && digits(s + 20, (int)n - 20);
}

double gx_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char gx_buf_empty[1];

void buf_grow(gx_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->len)
		gx_die(GX_EXIT_BUG, "buffer size overflow");
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	b->s = gx_realloc(b->cap ? b->s : NULL, cap);
	if (!b->cap)
		b->s[b->len] = '\0';
	b->cap = cap;
}

void buf_add(gx_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void buf_adds(gx_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_vaddf(gx_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		gx_die(GX_EXIT_BUG, "bad format");
	buf_grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->len += (size_t)n;
}

void buf_addf(gx_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_free(gx_buf *b)
{
	if (b->cap)
		free(b->s);
	b->s = gx_buf_empty;
	b->len = b->cap = 0;
}
