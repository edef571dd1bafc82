/* Applying a batch: COPY into the stage and upsert, inside a savepoint. A
 * batch that PostgreSQL refuses is split in halves and retried, down to
 * single records; a single record that fails is rejected and the rest of
 * the batch still loads. */
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define STAGE "pg_temp.gx_stage"

void rollback(struct load *L)
{
	PQclear(PQexec(L->pg, "ROLLBACK"));
}

/* Errors a record can cause: data exceptions (bad date, value too long,
 * numeric overflow), integrity constraints (NOT NULL, CHECK, FK, unique),
 * WITH CHECK OPTION, program limits (an index row too large) and errors
 * raised by a trigger. Anything else (a lost connection, a deadlock, a
 * full disk, a bug in our SQL) fails the run instead of every record. */
static int record_error(const char *sqlstate)
{
	static const char *const classes[] = { "22", "23", "44", "54", "P0" };

	if (!sqlstate)
		return 0;
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (!strncmp(sqlstate, classes[i], 2))
			return 1;
	return 0;
}

/* The column a COPY error names in its context ("COPY gx_stage, line 1,
 * column NAME: ..."), matched against our columns; NULL if none. */
static const char *copy_column(const struct load *L, const char *context)
{
	const char *c = context ? strstr(context, ", column ") : NULL;
	const char *best = NULL;
	size_t best_len = 0;

	if (!c || strncmp(context, "COPY gx_stage, ", 15))
		return NULL;
	c += 9;
	for (size_t i = 0; i < L->ncols; i++)
		if (L->collen[i] > best_len && !strncmp(c, L->cols[i], L->collen[i]) &&
		    c[L->collen[i]] == ':')
			best = L->cols[i], best_len = L->collen[i];
	return best;
}

void reject(struct load *L, unsigned long line, const char *orig, size_t orig_len,
	    const char *sqlstate, const char *error, const char *column)
{
	L->rejected++;
	while (orig_len && orig[orig_len - 1] == '\r')
		orig_len--;	/* a CRLF line end is not part of the record */
	if (L->rejects) {
		gx_buf *j = &L->scratch;
		buf_reset(j);
		buf_addf(j, "{\"line\":%lu,\"sqlstate\":", line);
		if (sqlstate)
			json_add_str(j, sqlstate, strlen(sqlstate));
		else
			buf_adds(j, "null");
		buf_adds(j, ",\"error\":");
		json_add_str(j, error, strlen(error));
		if (column) {
			buf_adds(j, ",\"column\":");
			json_add_str(j, column, strlen(column));
		}
		buf_adds(j, ",\"record\":");
		buf_add(j, orig, orig_len);
		buf_adds(j, "}\n");
		if (fwrite(j->s, 1, j->len, L->rejects) != j->len)
			gx_die(GX_EXIT_DATA, "%s: write error", L->rejects_path);
	} else {
		gx_warn("line %lu: rejected%s%s: %s%s%s", line, sqlstate ? " " : "",
			sqlstate ? sqlstate : "", error, column ? ", column " : "",
			column ? column : "");
	}
	if (L->rejected > L->max_errors) {
		rollback(L);
		gx_die(GX_EXIT_DATA, "%s: %llu records rejected, more than --max-errors %llu "
		       "(last at line %lu): rolled back, nothing loaded", L->table,
		       L->rejected, L->max_errors, line);
	}
}

/* Rows [lo, hi) in a savepoint: NULL when loaded (and counted), else the
 * failed result with everything since the savepoint undone. */
static PGresult *try_rows(struct load *L, size_t lo, size_t hi)
{
	PGresult *r;

	gx_pg_run(L->pg, "SAVEPOINT gx_batch");
	r = copy_send(L, lo, hi);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		gx_debug("upsert of lines %lu..%lu", L->b.rows[lo].line, L->b.rows[hi - 1].line);
		r = PQexec(L->pg, L->upsert_sql.s);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			L->created += strtoull(PQgetvalue(r, 0, 0), NULL, 10);
			L->updated += strtoull(PQgetvalue(r, 0, 1), NULL, 10);
			L->duplicates += (hi - lo) - strtoull(PQgetvalue(r, 0, 2), NULL, 10);
			PQclear(r);
			gx_pg_run(L->pg, "TRUNCATE " STAGE "; RELEASE SAVEPOINT gx_batch");
			return NULL;
		}
	}
	if (!r || !record_error(PQresultErrorField(r, PG_DIAG_SQLSTATE))) {
		gx_debug("failed SQL: %s", L->upsert_sql.s);
		gx_die(GX_EXIT_SERVER, "PostgreSQL: %s", gx_pg_error(L->pg));
	}
	gx_debug("lines %lu..%lu refused: %s", L->b.rows[lo].line, L->b.rows[hi - 1].line,
		 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	gx_pg_run(L->pg, "ROLLBACK TO SAVEPOINT gx_batch; RELEASE SAVEPOINT gx_batch");
	return r;
}

static void apply_rows(struct load *L, size_t lo, size_t hi)
{
	PGresult *r = try_rows(L, lo, hi);

	if (!r)
		return;
	if (hi - lo == 1) {
		const struct row *w = &L->b.rows[lo];
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);

		if (!col)
			col = copy_column(L, PQresultErrorField(r, PG_DIAG_CONTEXT));
		reject(L, w->line, L->b.orig.s + w->orig_off, w->orig_len,
		       PQresultErrorField(r, PG_DIAG_SQLSTATE), msg ? msg : "unknown error", col);
		PQclear(r);
		return;
	}
	PQclear(r);
	apply_rows(L, lo, lo + (hi - lo) / 2);
	apply_rows(L, lo + (hi - lo) / 2, hi);
}

void batch_apply(struct load *L)
{
	if (L->b.n)
		apply_rows(L, 0, L->b.n);
	batch_reset(&L->b);
}
