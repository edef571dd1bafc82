/* Query files and the SQL that reads one window of them.
 *
 * A query file is directives in SQL comments, then one SELECT without
 * WHERE, ORDER BY or LIMIT:
 *   -- @cursor a.updated_at        (or `none`)
 *   -- @key a.id                   (comma separated, in order)
 *   -- @where a.deleted = 0        (optional, repeatable; ANDed)
 *   SELECT a.id, ... FROM appointment a LEFT JOIN ...
 * A small SQL lexer finds the SELECT and checks the rest, so that quoted
 * text, comments and parentheses never confuse us. */
#include "extract.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_QUERY_FILE (1 << 20)

enum tok { T_END, T_BAD, T_SPACE, T_COMMENT, T_WORD, T_STR, T_OPEN,
	   T_CLOSE, T_COMMA, T_SEMI, T_OTHER };

static int word_char(int c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* The token at s[*i] (MySQL's lexical rules); advances *i past it. */
static enum tok lex(const char *str, size_t n, size_t *pos)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = *pos;
	enum tok t;

	if (i >= n)
		return T_END;
	if (isspace(s[i])) {
		while (i < n && isspace(s[i]))
			i++;
		t = T_SPACE;
	} else if (s[i] == '#' || (s[i] == '-' && i + 1 < n && s[i + 1] == '-' &&
				   (i + 2 == n || s[i + 2] <= ' '))) {
		while (i < n && s[i] != '\n')
			i++;
		t = T_COMMENT;
	} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
		for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++)
			;
		if (i + 1 >= n)
			return T_BAD;
		i += 2;
		t = T_COMMENT;
	} else if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
		unsigned char q = s[i++];
		for (;;) {
			if (i >= n)
				return T_BAD;
			if (s[i] == '\\' && q != '`')
				i += 2;
			else if (s[i] == q && i + 1 < n && s[i + 1] == q)
				i += 2;
			else if (s[i++] == q)
				break;
		}
		t = T_STR;
	} else if (word_char(s[i])) {
		while (i < n && word_char(s[i]))
			i++;
		t = T_WORD;
	} else {
		t = s[i] == '(' ? T_OPEN : s[i] == ')' ? T_CLOSE :
		    s[i] == ',' ? T_COMMA : s[i] == ';' ? T_SEMI : T_OTHER;
		i++;
	}
	*pos = i;
	return t;
}

static int word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !strncasecmp(s, w, n);
}

static int word_in(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (word_is(s, n, *list))
			return 1;
	return 0;
}

/* *s[0..*n) without the white space around it. */
static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		++*s, --*n;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		--*n;
}

/* @key's value v[0..n): expressions split at the commas outside
 * parentheses. */
static void parse_keys(struct query *q, const char *v, size_t n)
{
	size_t i = 0, from = 0;
	int depth = 0;

	for (;;) {
		size_t at = i;
		enum tok t = lex(v, n, &i);

		if (t == T_BAD)
			gx_die(GX_EXIT_DATA, "%s: @key: unterminated quote", q->path);
		if (t == T_OPEN)
			depth++;
		if (t == T_CLOSE)
			depth--;
		if (t == T_END || (t == T_COMMA && depth == 0)) {
			const char *k = v + from;
			size_t kn = at - from;
			trim(&k, &kn);
			if (!kn)
				gx_die(GX_EXIT_DATA, "%s: @key: empty expression", q->path);
			GX_GROW(q->keys, q->nkeys + 1, q->keys_cap);
			q->keys[q->nkeys++] = gx_strndup(k, kn);
			from = i;
		}
		if (t == T_END)
			break;
	}
}

/* A `-- @name value` comment line before the SELECT. What the query
 * keeps is copied after the checks: a refusal holds nothing else (the fuzz
 * target frees the query and goes on). */
static void directive(struct query *q, const char *c, size_t n)
{
	const char *v;
	size_t w, vn;

	while (n && isspace((unsigned char)*c))
		c++, n--;
	if (!n || *c != '@')
		return;
	c++, n--;
	for (w = 0; w < n && word_char((unsigned char)c[w]); w++)
		;
	v = c + w, vn = n - w;
	trim(&v, &vn);
	if (!vn)
		gx_die(GX_EXIT_DATA, "%s: @%.*s needs a value", q->path, (int)w, c);
	if (word_is(c, w, "cursor")) {
		if (q->has_cursor)
			gx_die(GX_EXIT_DATA, "%s: more than one @cursor", q->path);
		q->has_cursor = 1;
		if (!word_is(v, vn, "none"))
			q->cursor = gx_strndup(v, vn);
	} else if (word_is(c, w, "key")) {
		if (q->nkeys)
			gx_die(GX_EXIT_DATA, "%s: more than one @key line", q->path);
		parse_keys(q, v, vn);
	} else if (word_is(c, w, "where")) {
		GX_GROW(q->wheres, q->nwheres + 1, q->wheres_cap);
		q->wheres[q->nwheres++] = gx_strndup(v, vn);
	} else {
		gx_die(GX_EXIT_DATA, "%s: unknown directive @%.*s "
		       "(known: @cursor, @key, @where)", q->path, (int)w, c);
	}
}

void query_parse(struct query *q, const char *path, const char *s, size_t len)
{
	static const char *const modifiers[] = {
		"ALL", "DISTINCT", "DISTINCTROW", "HIGH_PRIORITY", "STRAIGHT_JOIN",
		"SQL_SMALL_RESULT", "SQL_BIG_RESULT", "SQL_BUFFER_RESULT",
		"SQL_CACHE", "SQL_NO_CACHE", "SQL_CALC_FOUND_ROWS", NULL
	};
	/* Clauses that would have to come after the WHERE we append, or
	 * that make it more than one plain SELECT. */
	static const char *const clauses[] = {
		"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "EXCEPT",
		"INTERSECT", "INTO", "WINDOW", "PROCEDURE", NULL
	};
	size_t i = 0, at, sel, ins, end, from = 0;
	int depth = 0, semi = 0;
	enum tok t;

	memset(q, 0, sizeof *q);
	q->path = gx_strdup(path);
	if (memchr(s, '\0', len))
		gx_die(GX_EXIT_DATA, "%s: holds a NUL byte", path);

	/* Directives, then the SELECT keyword. */
	for (;;) {
		at = i;
		t = lex(s, len, &i);
		if (t == T_SPACE)
			continue;
		if (t == T_COMMENT) {
			if (s[at] == '-')
				directive(q, s + at + 2, i - at - 2);
			continue;
		}
		if (t == T_WORD && word_is(s + at, i - at, "SELECT"))
			break;
		if (t == T_END)
			gx_die(GX_EXIT_DATA, "%s: no SELECT", path);
		if (t == T_BAD)
			gx_die(GX_EXIT_DATA, "%s: unterminated comment", path);
		gx_die(GX_EXIT_DATA, "%s: expected SELECT, found '%.*s'", path,
		       (int)(i - at), s + at);
	}
	sel = at;
	ins = i;
	/* The bookkeeping columns go after the modifiers (SELECT DISTINCT). */
	for (;;) {
		at = i;
		t = lex(s, len, &i);
		if (t == T_SPACE || t == T_COMMENT)
			continue;
		if (t == T_WORD && word_in(s + at, i - at, modifiers)) {
			ins = i;
			continue;
		}
		if (t == T_OTHER && s[at] == '*')
			gx_die(GX_EXIT_DATA, "%s: write SELECT t.* (the table or "
			       "its alias): a bare * cannot follow the cursor and "
			       "key columns gx-extract puts first", path);
		break;
	}
	/* The rest: one statement, no clause we must add ourselves. */
	i = end = ins;
	for (;;) {
		at = i;
		t = lex(s, len, &i);
		if (t == T_END)
			break;
		if (t == T_SPACE)
			continue;
		if (t == T_COMMENT) {
			const char *c = s + at + 2;
			while (s[at] == '-' && c < s + i && isspace((unsigned char)*c))
				c++;
			if (s[at] == '-' && c < s + i && *c == '@')
				gx_die(GX_EXIT_DATA, "%s: directives must come before "
				       "the SELECT", path);
			continue;
		}
		if (t == T_BAD)
			gx_die(GX_EXIT_DATA, "%s: unterminated quote or comment", path);
		if (semi)
			gx_die(GX_EXIT_DATA, "%s: more than one statement", path);
		if (t == T_SEMI && depth == 0) {
			semi = 1;
			continue;
		}
		if (t == T_OPEN)
			depth++;
		if (t == T_CLOSE && --depth < 0)
			gx_die(GX_EXIT_DATA, "%s: unbalanced ')'", path);
		if (t == T_WORD && depth == 0 && !from && word_is(s + at, i - at, "FROM"))
			from = at;
		if (t == T_WORD && depth == 0 && word_in(s + at, i - at, clauses))
			gx_die(GX_EXIT_DATA, "%s: the SELECT must not have %.*s "
			       "(gx-extract adds WHERE, ORDER BY and LIMIT; "
			       "use -- @where)", path, (int)(i - at), s + at);
		end = i;
	}
	if (depth)
		gx_die(GX_EXIT_DATA, "%s: unbalanced '('", path);
	if (!q->has_cursor)
		gx_die(GX_EXIT_DATA, "%s: no -- @cursor line "
		       "(an SQL expression, or 'none')", path);
	if (!q->nkeys)
		gx_die(GX_EXIT_DATA, "%s: no -- @key line", path);
	q->head = gx_strndup(s + sel, ins - sel);
	q->tail = gx_strndup(s + ins, end - ins);
	q->from = from ? q->tail + (from - ins) : NULL;
}

void query_free(struct query *q)
{
	for (size_t i = 0; i < q->nkeys; i++)
		free(q->keys[i]);
	for (size_t i = 0; i < q->nwheres; i++)
		free(q->wheres[i]);
	free(q->keys);
	free(q->wheres);
	free(q->cursor);
	free(q->path);
	free(q->head);
	free(q->tail);
}

/* --after: a JSON array of null, numbers and strings, nothing else. */
static size_t skip_ws(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	return i;
}

static const char *values_opt;

static noreturn void bad_after(const char *why)
{
	if (strcmp(values_opt, "--after"))
		gx_die(GX_EXIT_DATA, "%s: %s (expected a JSON array of strings, "
		       "numbers and null, from the end marker)", values_opt, why);
	gx_die(GX_EXIT_DATA, "--after: %s (expected a JSON array like "
	       "[\"2024-06-15 12:34:56\",42], the end marker's \"last\")", why);
}

void after_parse(struct after *a, const char *s)
{
	values_parse(a, "--after", s);
}

void values_parse(struct after *a, const char *opt, const char *s)
{
	size_t i = skip_ws(s, 0);

	values_opt = opt;
	memset(a, 0, sizeof *a);
	if (s[i++] != '[')
		bad_after("not an array");
	buf_addc(&a->json, '[');
	i = skip_ws(s, i);
	if (s[i] == ']')
		bad_after("empty array");
	for (;;) {
		struct after_val *v;
		size_t j = i;

		GX_GROW(a->v, a->n + 1, a->cap);
		v = &a->v[a->n++];
		*v = (struct after_val){ GX_NULL, GX_BUF_INIT };
		if (a->n > 1)
			buf_addc(&a->json, ',');
		if (!strncmp(s + i, "null", 4)) {
			v->type = GX_NULL;
			j = i + 4;
			buf_adds(&a->json, "null");
		} else if (s[i] == '"') {
			int has_nul;
			for (j = i + 1; s[j] && s[j] != '"'; j++)
				if (s[j] == '\\' && s[j + 1])
					j++;
			if (!s[j])
				bad_after("unterminated string");
			if (json_unescape(&v->text, s + i + 1, j - i - 1, &has_nul) < 0)
				bad_after("bad string");
			v->type = GX_STR;
			j++;
			json_add_str(&a->json, v->text.s, v->text.len);
		} else {
			while (s[j] && strchr("+-.eE0123456789", s[j]))
				j++;
			if (!json_num_valid(s + i, j - i))
				bad_after(j == i ? "values must be null, numbers or strings"
				      : "bad number");
			v->type = GX_NUM;
			buf_add(&v->text, s + i, j - i);
			buf_add(&a->json, s + i, j - i);
		}
		i = skip_ws(s, j);
		if (s[i] == ']')
			break;
		if (s[i++] != ',')
			bad_after("expected ',' or ']'");
		i = skip_ws(s, i);
	}
	buf_addc(&a->json, ']');
	if (s[skip_ws(s, i + 1)])
		bad_after("text after the array");
}

void after_free(struct after *a)
{
	for (size_t i = 0; i < a->n; i++)
		buf_free(&a->v[i].text);
	free(a->v);
	buf_free(&a->json);
}

/* A quoted SQL string literal, escaped for the connection's charset and
 * sql_mode. */
void db_add_literal(gx_buf *b, MYSQL *my, const char *s, size_t n)
{
	unsigned long len;

	buf_grow(b, 2 * n + 3);
	b->s[b->len++] = '\'';
	len = mysql_real_escape_string(my, b->s + b->len, s, n);
	if (len == (unsigned long)-1)
		gx_die(GX_EXIT_BUG, "cannot escape a literal: %s", mysql_error(my));
	b->len += len;
	buf_addc(b, '\'');
}

static void add_value(gx_buf *b, MYSQL *my, const struct after_val *v)
{
	if (v->type == GX_NUM)
		buf_add(b, v->text.s, v->text.len);
	else
		db_add_literal(b, my, v->text.s, v->text.len);
}

/* (k1, k2, ...) > (K1, K2, ...) spelled out so that the server can use an
 * index: k1 > K1 OR (k1 = K1 AND (k2 > K2 OR ...)). */
static void add_keys_after(gx_buf *b, MYSQL *my, const struct query *q,
			   const struct after_val *v)
{
	for (size_t i = 0; i < q->nkeys; i++) {
		if (i + 1 < q->nkeys)
			buf_adds(b, "(");
		buf_addf(b, "%s > ", q->keys[i]);
		add_value(b, my, &v[i]);
		if (i + 1 < q->nkeys) {
			buf_addf(b, " OR (%s = ", q->keys[i]);
			add_value(b, my, &v[i]);
			buf_adds(b, " AND ");
		}
	}
	for (size_t i = 1; i < q->nkeys; i++)
		buf_adds(b, "))");
}

static void add_after(gx_buf *b, MYSQL *my, const struct query *q,
		      const struct after *a)
{
	const struct after_val *keys = a->v + (q->cursor != NULL);
	const char *c = q->cursor;

	if (!c) {
		buf_addc(b, '(');
		add_keys_after(b, my, q, keys);
		buf_addc(b, ')');
	} else if (a->v[0].type == GX_NULL) {
		/* NULL sorts first: after (NULL, K) come the NULLs with a
		 * greater key, then every non-NULL cursor. */
		buf_addf(b, "((%s IS NULL AND ", c);
		add_keys_after(b, my, q, keys);
		buf_addf(b, ") OR %s IS NOT NULL)", c);
	} else {
		buf_addf(b, "(%s > ", c);
		add_value(b, my, &a->v[0]);
		buf_addf(b, " OR (%s = ", c);
		add_value(b, my, &a->v[0]);
		buf_adds(b, " AND ");
		add_keys_after(b, my, q, keys);
		buf_adds(b, "))");
	}
}

void window_check(const struct query *q, const struct window *w)
{
	const struct after *a = w->after;
	const char *c = q->cursor;

	if (!c && (w->since || w->until))
		gx_die(GX_EXIT_DATA, "%s has @cursor none: --since and --until "
		       "do not apply", q->path);
	if (!a)
		return;
	if (a->n != q->nkeys + (c != NULL))
		gx_die(GX_EXIT_DATA, "--after: %s has %zu values, expected %zu "
		       "(%s%zu key%s)", a->json.s, a->n, q->nkeys + (c != NULL),
		       c ? "the cursor and " : "", q->nkeys, q->nkeys > 1 ? "s" : "");
	if (c && a->v[0].type == GX_NUM)
		gx_die(GX_EXIT_DATA, "--after: the cursor must be a string or null");
	for (size_t i = c != NULL; i < a->n; i++)
		if (a->v[i].type == GX_NULL)
			gx_die(GX_EXIT_DATA, "--after: a key cannot be null");
}

static void add_cond(gx_buf *b, int *n)
{
	buf_adds(b, (*n)++ ? "\n  AND " : "\nWHERE ");
}

static void add_since_until(gx_buf *sql, const struct query *q,
			    const struct window *w, MYSQL *my, int *n)
{
	const char *c = q->cursor;

	if (w->since) {
		/* A NULL or zero cursor has no place in time: such rows come
		 * in every delta rather than never. */
		add_cond(sql, n);
		buf_addf(sql, "(%s IS NULL OR %s < '1000-01-01' OR %s >= ", c, c, c);
		db_add_literal(sql, my, w->since, strlen(w->since));
		buf_addc(sql, ')');
	}
	if (w->until) {
		/* ... but a bounded window (a backfill up to a date) holds only
		 * rows that have a place in time. */
		add_cond(sql, n);
		buf_addf(sql, "%s >= '1000-01-01' AND %s < ", c, c);
		db_add_literal(sql, my, w->until, strlen(w->until));
	}
}

static void add_wheres(gx_buf *sql, const struct query *q, int *n)
{
	for (size_t i = 0; i < q->nwheres; i++) {
		add_cond(sql, n);
		/* On its own line: a trailing comment must not eat the ')'. */
		buf_addf(sql, "(%s\n  )", q->wheres[i]);
	}
}

/* The type of the cursor's column, from a query that reads no row. */
static int cursor_is_timestamp(const struct query *q, MYSQL *my)
{
	gx_buf sql = GX_BUF_INIT;
	MYSQL_RES *res;
	int ts;

	if (!q->from)
		return 0;
	buf_addf(&sql, "SELECT %s %s LIMIT 0", q->cursor, q->from);
	gx_debug("sql: %s", sql.s);
	if (mysql_query(my, sql.s) || !(res = mysql_store_result(my)))
		db_die(my, "cannot read the cursor's type");
	ts = mysql_fetch_fields(res)[0].type == MYSQL_TYPE_TIMESTAMP;
	mysql_free_result(res);
	buf_free(&sql);
	return ts;
}

void query_sql(gx_buf *sql, const struct query *q, const struct window *w, MYSQL *my)
{
	const char *c = q->cursor;
	size_t nbk = q->nkeys + (c != NULL);
	int n = 0;

	buf_addf(sql, "%s ", q->head);
	if (c)
		buf_addf(sql, "%s, ", c);
	for (size_t i = 0; i < q->nkeys; i++)
		buf_addf(sql, "%s, ", q->keys[i]);
	buf_adds(sql, q->tail + strspn(q->tail, " \t\r\n"));
	add_since_until(sql, q, w, my, &n);
	if (w->after) {
		add_cond(sql, &n);
		add_after(sql, my, q, w->after);
	}
	add_wheres(sql, q, &n);
	if (w->shard && w->shard->n > 1) {
		add_cond(sql, &n);
		shard_cond(sql, w->shard, q->keys[0]);
	}
	if (w->ordered) {
		buf_adds(sql, "\nORDER BY ");
		/* By position: the bookkeeping columns themselves, whatever
		 * aliases the select list defines. A TIMESTAMP sorts by its
		 * instant but compares with a literal (--after) in the session's
		 * wall time, which repeats an hour at a DST fall-back: a walk in
		 * instant order would skip rows there, so it goes in wall order. */
		for (size_t i = 1; i <= nbk; i++)
			if (i == 1 && c && cursor_is_timestamp(q, my))
				buf_addf(sql, "CAST(%s AS DATETIME(6))", c);
			else
				buf_addf(sql, "%s%zu", i > 1 ? ", " : "", i);
	}
	if (w->has_limit)
		buf_addf(sql, "\nLIMIT %llu", w->limit + 1);
}

void query_keys_sql(gx_buf *sql, const struct query *q,
		    const struct window *w, MYSQL *my)
{
	int n = 0;

	if (!q->from)
		gx_die(GX_EXIT_DATA, "%s: --shard needs a SELECT with a FROM",
		       q->path);
	buf_addf(sql, "SELECT %s %s", q->keys[0], q->from);
	add_since_until(sql, q, w, my, &n);
	add_wheres(sql, q, &n);
}

/* (c1 AND c2 ...) of the window's since/until/after, or TRUE: whether a
 * row is one the window reads. */
static void add_window_flag(gx_buf *sql, const struct query *q, const struct window *w,
			    MYSQL *my)
{
	gx_buf c = GX_BUF_INIT;
	int n = 0;

	add_since_until(&c, q, w, my, &n);
	if (w->after) {
		add_cond(&c, &n);
		add_after(&c, my, q, w->after);
	}
	if (!n) {
		buf_adds(sql, "TRUE");
	} else {
		/* "\nWHERE a\n  AND b": the conditions without the WHERE */
		buf_addc(sql, '(');
		buf_adds(sql, c.s + strlen("\nWHERE "));
		buf_adds(sql, ") IS TRUE");
	}
	buf_free(&c);
}

void query_retry_sql(gx_buf *sql, const struct query *q, const struct window *w,
		     const struct retry *k, MYSQL *my)
{
	int n = 0;

	buf_addf(sql, "%s ", q->head);
	add_window_flag(sql, q, w, my);
	for (size_t i = 0; i < q->nkeys; i++)
		buf_addf(sql, ", %s", q->keys[i]);
	buf_adds(sql, ", ");
	buf_adds(sql, q->tail + strspn(q->tail, " \t\r\n"));
	add_cond(sql, &n);
	/* k IN (...) for one key, else (k1 = .. AND k2 = ..) OR ...: both
	 * are index lookups for the server. */
	if (q->nkeys == 1) {
		buf_addf(sql, "%s IN (", q->keys[0]);
		for (size_t i = 0; i < k->n; i++) {
			if (i)
				buf_addc(sql, ',');
			add_value(sql, my, &k->keys[i].v[0]);
		}
		buf_addc(sql, ')');
	} else {
		buf_addc(sql, '(');
		for (size_t i = 0; i < k->n; i++) {
			buf_adds(sql, i ? " OR (" : "(");
			for (size_t j = 0; j < q->nkeys; j++) {
				buf_addf(sql, "%s%s = ", j ? " AND " : "", q->keys[j]);
				add_value(sql, my, &k->keys[i].v[j]);
			}
			buf_addc(sql, ')');
		}
		buf_addc(sql, ')');
	}
	add_wheres(sql, q, &n);
}

/* A line of a --keys file (keys.c): the query's @key values, none null. */
void keys_parse(struct after *a, const struct query *q, const char *line,
		unsigned long lineno)
{
	values_parse(a, "--keys", line);
	if (a->n != q->nkeys)
		gx_die(GX_EXIT_DATA, "--keys: line %lu: %s has %zu values, expected %zu "
		       "(the query's @key)", lineno, a->json.s, a->n, q->nkeys);
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == GX_NULL)
			gx_die(GX_EXIT_DATA, "--keys: line %lu: a key cannot be null", lineno);
}

/* The query file at path, parsed (query_parse is the same from memory). */
void query_load(struct query *q, const char *path)
{
	gx_buf b = GX_BUF_INIT;

	gx_read_file(&b, path, MAX_QUERY_FILE);
	query_parse(q, path, b.s, b.len);
	buf_free(&b);
}
