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

static void spill_drop(struct load *L, const char *why)
{
	gx_debug("spill file: %s: every batch from now on in a savepoint", why);
	spill_close(L);
	L->careful = 1;
}

void spill_open(struct load *L)
{
	const char *dir = getenv("TMPDIR");
	gx_buf path = GX_BUF_INIT;
	int fd;

	buf_addf(&path, "%s/gx-load.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path.s);
	if (fd >= 0) {
		unlink(path.s);
		if (!(L->spill = fdopen(fd, "w+")))
			close(fd);
	}
	if (!L->spill)
		spill_drop(L, strerror(errno));
	buf_free(&path);
}

void spill_line(struct load *L, const struct gx_reader *r)
{
	if (!L->spill)
		return;
	if (fwrite(r->line.s, 1, r->line.len, L->spill) != r->line.len ||
	    putc('\n', L->spill) == EOF)
		spill_drop(L, strerror(errno));
}

/* Before a fast batch: the copy must be whole, or the batch goes careful. */
int spill_ready(struct load *L)
{
	if (L->spill && fflush(L->spill) != 0)
		spill_drop(L, strerror(errno));
	return L->spill != NULL;
}

/* Every record read so far, again, through batch_add: the same batches,
 * the same line numbers. */
void spill_replay(struct load *L)
{
	struct gx_reader r;

	if (fseek(L->spill, 0, SEEK_SET) != 0)
		gx_die(GX_EXIT_BUG, "spill file: %s", strerror(errno));
	reader_init(&r, L->spill, "spill file");
	while (reader_next(&r))
		if (!r.control)
			batch_add(L, &r);
	reader_free(&r);
	spill_close(L);
}

void spill_close(struct load *L)
{
	if (L->spill)
		fclose(L->spill);
	L->spill = NULL;
}
