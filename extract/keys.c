/* --keys FILE: rows read again by key, after the window. A run's rejected
 * rows (gx-state rejects ENTITY --keys) are retried this way on every run
 * until they load or leave the source, without widening the window: each
 * chunk of keys is one indexed lookup, and a row the window holds anyway
 * is not sent twice. Memory: one chunk of keys. */
#include "extract.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 500

/* The chunk's rows, then a "gone" line for each key no row had. */
static void chunk_stream(MYSQL *my, const struct query *q, const struct window *w,
			 struct retry *k, struct run *r)
{
	gx_buf sql = GX_BUF_INIT;

	memset(k->found, 0, k->n);
	query_retry_sql(&sql, q, w, k, my);
	gx_debug("retry: %s", sql.s);
	rows_stream(my, sql.s, 1 + q->nkeys, 0, w, r, k);
	for (size_t i = 0; i < k->n; i++) {
		if (k->found[i])
			continue;
		gx_buf line = GX_BUF_INIT;
		buf_addf(&line, "{\"@gx\":\"gone\",\"key\":%s}\n", k->keys[i].json.s);
		gx_out(line.s, line.len);
		buf_free(&line);
		r->gone++;
	}
	for (size_t i = 0; i < k->n; i++)
		after_free(&k->keys[i]);
	k->n = 0;
	buf_free(&sql);
}

void keys_stream(MYSQL *my, const struct query *q, const struct window *w,
		 const char *path, struct run *r)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct retry k = { gx_malloc(CHUNK * sizeof *k.keys), gx_malloc(CHUNK), 0, q->nkeys };
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t n;

	if (!f)
		gx_die(GX_EXIT_DATA, "--keys: %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n)
			continue;
		if ((size_t)n != strlen(line))
			gx_die(GX_EXIT_DATA, "--keys: line %lu: a NUL byte", lineno);
		keys_parse(&k.keys[k.n++], q, line, lineno);
		if (k.n == CHUNK)
			chunk_stream(my, q, w, &k, r);
	}
	if (ferror(f))
		gx_die(GX_EXIT_DATA, "--keys: %s: %s", path, strerror(errno));
	if (k.n)
		chunk_stream(my, q, w, &k, r);
	if (f != stdin)
		fclose(f);
	free(line);
	free(k.keys);
	free(k.found);
}
