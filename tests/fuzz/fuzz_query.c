/* libFuzzer target: bytes as a gx-extract query file (extract/query.c,
 * query_parse): the directives, the SQL lexer and its refusals. A query
 * that parses must parse again, to the same parts, from the text those
 * parts give back; and that text with a clause, a bare * or a directive
 * added where gx-extract cannot have one must be refused. Every refusal
 * is bad data (status 1) and names the file. gx_die jumps back instead of
 * exiting (tests/fuzz/run builds gx.c with its gx_die renamed). */
#define _POSIX_C_SOURCE 200809L
#include "extract.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME "fuzz.sql"

#include "refusal.h"


/* 1 and q filled when the text parses; 0 (q freed) when it is refused. */
static int parses(struct query *q, const char *s, size_t n)
{
	if (setjmp(die_jmp)) {
		query_free(q);
		return 0;
	}
	query_parse(q, NAME, s, n);
	return 1;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int trimmed(const char *s)
{
	size_t n = strlen(s);

	return n && !strchr(" \t\n\r\f\v", s[0]) && !strchr(" \t\n\r\f\v", s[n - 1]);
}

/* The query again: its directives, then SELECT to the end of the
 * statement (head and tail are that text, cut where our columns go). A
 * '#' ends it: a tail can end in "--" (a minus twice, as it had more
 * after it), which at the very end of the text would be a comment. */
static void rebuild(gx_buf *b, const struct query *q)
{
	buf_addf(b, "-- @cursor %s\n-- @key ", q->cursor ? q->cursor : "none");
	for (size_t i = 0; i < q->nkeys; i++)
		buf_addf(b, "%s%s", i ? ", " : "", q->keys[i]);
	buf_addc(b, '\n');
	for (size_t i = 0; i < q->nwheres; i++)
		buf_addf(b, "-- @where %s\n", q->wheres[i]);
	buf_addf(b, "%s%s#", q->head, q->tail);
}

static void check_parsed(const struct query *q, unsigned pick)
{
	static const char *const refused[] = {
		"\nWHERE 1", "\nORDER BY 1", "\nLIMIT 1", "\nUNION SELECT 1",
		"\nGROUP BY 1", ";\nSELECT 1", "\n-- @where 1", "\n)"
	};
	struct query again;
	gx_buf b = GX_BUF_INIT;
	size_t headlen;

	if (!q->has_cursor || !q->nkeys || strncasecmp(q->head, "SELECT", 6) ||
	    (q->cursor && (!trimmed(q->cursor) || !strcasecmp(q->cursor, "none"))))
		abort();
	for (size_t i = 0; i < q->nkeys; i++)
		if (!trimmed(q->keys[i]))
			abort();
	for (size_t i = 0; i < q->nwheres; i++)
		if (!trimmed(q->wheres[i]))
			abort();
	if (q->from && (q->from < q->tail || strncasecmp(q->from, "FROM", 4)))
		abort();

	rebuild(&b, q);
	if (!parses(&again, b.s, b.len))
		abort();	/* refused what it accepted */
	if (!same(again.cursor, q->cursor) || again.nkeys != q->nkeys ||
	    again.nwheres != q->nwheres || strcmp(again.head, q->head) ||
	    strcmp(again.tail, q->tail) ||
	    (again.from ? again.from - again.tail : -1) != (q->from ? q->from - q->tail : -1))
		abort();
	for (size_t i = 0; i < q->nkeys; i++)
		if (strcmp(again.keys[i], q->keys[i]))
			abort();
	for (size_t i = 0; i < q->nwheres; i++)
		if (strcmp(again.wheres[i], q->wheres[i]))
			abort();
	query_free(&again);

	/* A clause after the statement, and SELECT * */
	b.s[--b.len] = '\0';
	headlen = b.len - strlen(q->tail);
	buf_adds(&b, refused[pick % (sizeof refused / sizeof refused[0])]);
	if (parses(&again, b.s, b.len))
		abort();
	b.len = headlen;
	b.s[b.len] = '\0';
	buf_addf(&b, " *%s", q->tail);
	if (parses(&again, b.s, b.len))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct query q;	/* static: survives the longjmp */

	die_prefix = NAME ": ";	/* a refusal names the file */
	if (parses(&q, (const char *)data, size)) {
		check_parsed(&q, size ? data[size - 1] : 0);
		query_free(&q);
	}
	return 0;
}
