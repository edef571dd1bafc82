/* The spill file: every line read so far, kept while batches run without
 * savepoints, so that the run can start again carefully when PostgreSQL
 * refuses a record (batch.c). It lives unlinked in $TMPDIR (mode 0600, gone
 * when we are), as large as the input. Without one, or when it cannot be
 * written (a full disk), the run simply turns careful from the next batch
 * on: the batches loaded fast so far need no replay. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

static void spill_drop(struct batch *b, const char *why)
{
	gx_debug("spill file: %s: every batch from now on in a savepoint", why);
	spill_close(b);
}

void spill_open(struct batch *b)
{
	const char *dir = getenv("TMPDIR");
	gx_buf path = GX_BUF_INIT;
	int fd;

	buf_addf(&path, "%s/gx-load.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path.s);
	if (fd >= 0) {
		unlink(path.s);
		if (!(b->spill = fdopen(fd, "w+")))
			close(fd);
	}
	if (!b->spill)
		spill_drop(b, strerror(errno));
	buf_free(&path);
}

void spill_line(struct batch *b, const struct gx_reader *r)
{
	if (!b->spill)
		return;
	if (fwrite(r->line.s, 1, r->line.len, b->spill) != r->line.len ||
	    putc('\n', b->spill) == EOF)
		spill_drop(b, strerror(errno));
}

/* Before a fast batch: the copy must be whole, or the batch goes careful. */
int spill_ready(struct batch *b)
{
	if (b->spill && fflush(b->spill) != 0)
		spill_drop(b, strerror(errno));
	return b->spill != NULL;
}

/* Every record read so far, again, through batch_add: the same batches,
 * the same line numbers, each careful (the file is no longer the batch's). */
void spill_replay(struct load *L)
{
	FILE *f = L->b.spill;
	struct gx_reader r;

	L->b.spill = NULL;
	if (fseek(f, 0, SEEK_SET) != 0)
		gx_die(GX_EXIT_BUG, "spill file: %s", strerror(errno));
	reader_init(&r, f, "spill file");
	while (reader_next(&r))
		if (!r.control)
			batch_add(L, &r);
		else	/* gx-map's rejects and gx-extract's gone keys, again */
			keep_control(&L->keep, &L->db, &L->t, &r);
	reader_free(&r);
	fclose(f);
}

void spill_close(struct batch *b)
{
	if (b->spill)
		fclose(b->spill);
	b->spill = NULL;
}
