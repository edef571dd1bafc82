/* The spill file: every line read so far, kept while the fast paths run
 * (one COPY for the whole stream, no savepoint), so that the load can start
 * again on the next path when PostgreSQL refuses a record (batch.c). It
 * lives unlinked in $TMPDIR (mode 0600, gone when we are), as large as the
 * input. Lines are buffered here and written before the records they hold
 * are sent (spill_sync), so the file always holds every record sent. When
 * it cannot be written (a full disk) it is cut back to the last whole sync
 * and kept for a replay of what was sent, and the load turns careful. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

void spill_open(struct batch *b)
{
	const char *dir = getenv("TMPDIR");
	gx_buf path = GX_BUF_INIT;

	buf_addf(&path, "%s/gx-load.XXXXXX", dir && *dir ? dir : "/tmp");
	b->spill_fd = mkstemp(path.s);
	if ((b->spilled = b->spill_fd >= 0))
		unlink(path.s);
	else
		gx_debug("spill file: %s: every batch in a savepoint", strerror(errno));
	buf_free(&path);
}

/* The file takes lines: there is one, it has room, and a replay can still
 * come (careful batches need none). */
static int spill_taking(const struct batch *b)
{
	return b->spill_fd >= 0 && !b->spill_full && b->path != PATH_CAREFUL;
}

void spill_line(struct batch *b, const struct gx_reader *r)
{
	if (!spill_taking(b))
		return;
	buf_add(&b->spill_buf, r->line.s, r->line.len);
	buf_addc(&b->spill_buf, '\n');
}

/* Writes the buffered lines (on the fast paths only: careful, no replay
 * can come); on failure the file is cut back to its last sync and takes no
 * more lines, the buffer keeps the rest: together they still hold all the
 * input read so far, for the replay that may follow. */
int spill_sync(struct batch *b)
{
	size_t done = 0;

	if (!spill_taking(b))
		return 0;
	while (done < b->spill_buf.len) {
		ssize_t w = pwrite(b->spill_fd, b->spill_buf.s + done, b->spill_buf.len - done,
				   (off_t)(b->spill_len + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			gx_debug("spill file: %s: careful from here on",
				 w < 0 ? strerror(errno) : "short write");
			if (ftruncate(b->spill_fd, (off_t)b->spill_len) != 0)
				gx_die(GX_EXIT_BUG, "spill file: %s", strerror(errno));
			b->spill_full = 1;
			return 0;
		}
		done += (size_t)w;
	}
	b->spill_len += done;
	buf_reset(&b->spill_buf);
	return 1;
}

static void each_in(struct load *L, FILE *f, unsigned long *line, spill_fn fn, void *arg)
{
	struct gx_reader r;

	reader_init(&r, f, "spill file");
	r.lineno = *line;
	while (reader_next(&r) && fn(L, &r, arg))
		;
	*line = r.lineno;
	reader_free(&r);
}

void spill_each(struct load *L, spill_fn fn, void *arg)
{
	struct batch *b = &L->b;
	int fd = dup(b->spill_fd);	/* its offset is ours: writes use pwrite */
	FILE *f = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? fdopen(fd, "r") : NULL;
	unsigned long line = 0;

	if (!f)
		gx_die(GX_EXIT_BUG, "spill file: %s", strerror(errno));
	each_in(L, f, &line, fn, arg);
	fclose(f);
	if (b->spill_buf.len) {
		gx_buf rest = b->spill_buf;	/* no line is added meanwhile */
		b->spill_buf = (gx_buf)GX_BUF_INIT;
		if (!(f = fmemopen(rest.s, rest.len, "r")))
			gx_die(GX_EXIT_BUG, "spill buffer: %s", strerror(errno));
		each_in(L, f, &line, fn, arg);
		fclose(f);
		buf_free(&b->spill_buf);
		b->spill_buf = rest;
	}
}

static int replay_one(struct load *L, const struct gx_reader *r, void *arg)
{
	(void)arg;
	if (!r->control)
		batch_add(L, r);
	else
		keep_control(&L->keep, &L->db, &L->t, r);
	return !L->b.refused;
}

/* Every line read so far, again, through batch_add on the current path:
 * the same line numbers; gx-map's rejects and gx-extract's gone keys
 * again too (the new transaction has none of them). Stops at a refusal
 * (batch_recover goes on). */
void spill_replay(struct load *L)
{
	spill_each(L, replay_one, NULL);
}

void spill_close(struct batch *b)
{
	if (b->spill_fd >= 0)
		close(b->spill_fd);
	b->spill_fd = -1;
	buf_free(&b->spill_buf);
}
