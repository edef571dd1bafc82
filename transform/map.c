/* The mapping file: one target column per line, settings start with '@'.
 * docs/mapping.md is the reference; this parser refuses anything it does
 * not say, before a record is read. */
#include "map.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 64

struct tok {
	const char *s;
	size_t n;
};

struct parser {
	struct gx_map *m;
	const char *name;
	int line;
	gx_buf *err;
	gx_buf val;		/* a decoded option value */
};

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	gx_buf why = GX_BUF_INIT;

	va_start(ap, fmt);
	buf_vaddf(&why, fmt, ap);
	va_end(ap);
	buf_reset(p->err);
	if (p->line)
		buf_addf(p->err, "%s:%d: %s", p->name, p->line, why.s);
	else
		buf_addf(p->err, "%s: %s", p->name, why.s);
	buf_free(&why);
	return -1;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits a line into tokens. A '"' inside a token opens a JSON string
 * that may hold spaces; a token that starts with '#' starts a comment. */
static int split(struct parser *p, const char *s, size_t n, struct tok *t,
		 size_t *nt)
{
	size_t i = 0;

	*nt = 0;
	for (;;) {
		while (i < n && is_ws(s[i]))
			i++;
		if (i == n || s[i] == '#')
			return 0;
		if (*nt == MAX_TOKENS)
			return fail(p, "too many words on one line");
		size_t start = i;
		while (i < n && !is_ws(s[i])) {
			if (s[i++] != '"')
				continue;
			while (i < n && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			if (i >= n)
				return fail(p, "unterminated quoted value");
			i++;
		}
		t[*nt].s = s + start;
		t[(*nt)++].n = i - start;
	}
}

static int tok_is(struct tok t, const char *s)
{
	return t.n == strlen(s) && !memcmp(t.s, s, t.n);
}

/* Decodes an option value into p->val: a bare word, or a JSON string
 * ("..." with escapes) when it holds spaces, quotes or backslashes. */
static int value(struct parser *p, const char *opt, struct tok v)
{
	int nul;

	buf_reset(&p->val);
	buf_grow(&p->val, 1);	/* p->val.s is a string even when empty */
	p->val.s[0] = '\0';
	if (v.n && v.s[0] == '"') {
		size_t i = 1;
		while (i < v.n && v.s[i] != '"')
			i += v.s[i] == '\\' ? 2 : 1;
		if (i != v.n - 1 || json_unescape(&p->val, v.s + 1, v.n - 2, &nul) < 0 || nul)
			return fail(p, "%s: bad quoted value (one JSON string, without U+0000)", opt);
		return 0;
	}
	if (memchr(v.s, '"', v.n) || memchr(v.s, '\\', v.n))
		return fail(p, "%s: quote the whole value as a JSON string to use '\"' or '\\'", opt);
	if (json_str_check(v.s, v.n, &nul) < 0)
		return fail(p, "%s: value is not valid UTF-8 text", opt);
	buf_add(&p->val, v.s, v.n);
	return 0;
}

static int is_ident(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') ||
				  (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static size_t key_hash(const char *s, size_t n)
{
	size_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The index of source key s[0..n), added if new. */
static size_t key_index(struct gx_map *m, const char *s, size_t n)
{
	for (size_t i = 0; i < m->nkey; i++)
		if (m->key[i].len == n && !memcmp(m->key[i].name, s, n))
			return i;
	GX_GROW(m->key, m->nkey + 1, m->key_cap);
	m->key[m->nkey].name = gx_strndup(s, n);
	m->key[m->nkey].len = n;
	m->key[m->nkey].read = 0;
	return m->nkey++;
}

static int parse_uint(const char *s, size_t n, int max, int *v)
{
	*v = 0;
	if (n == 0 || n > 8)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v <= max ? 0 : -1;
}

static const struct {
	const char *name;
	enum col_type type;
} types[] = {
	{ "smallint", COL_SMALLINT }, { "integer", COL_INTEGER },
	{ "bigint", COL_BIGINT }, { "numeric", COL_NUMERIC },
	{ "double", COL_DOUBLE }, { "boolean", COL_BOOLEAN },
	{ "text", COL_TEXT }, { "varchar", COL_VARCHAR }, { "date", COL_DATE },
	{ "time", COL_TIME }, { "interval", COL_INTERVAL },
	{ "timestamptz", COL_TIMESTAMPTZ }, { "json", COL_JSON },
};

static int parse_type(struct parser *p, struct map_col *c, struct tok t)
{
	const char *paren = memchr(t.s, '(', t.n);
	size_t nl = paren ? (size_t)(paren - t.s) : t.n;
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == nl && !memcmp(types[i].name, t.s, nl))
			break;
	if (i == sizeof types / sizeof types[0])
		return fail(p, "unknown type '%.*s'", (int)t.n, t.s);
	c->type = types[i].type;
	if (c->type == COL_VARCHAR) {
		if (!paren || t.s[t.n - 1] != ')' ||
		    parse_uint(paren + 1, t.n - nl - 2, 10485760, &c->len) || c->len < 1)
			return fail(p, "varchar needs a length of 1 to 10485760: varchar(N)");
		return 0;
	}
	if (c->type != COL_NUMERIC) {
		if (paren)
			return fail(p, "type %s takes no (arguments)", types[i].name);
		return 0;
	}
	if (!paren)
		return 0;	/* numeric: any digits, PostgreSQL's unconstrained numeric */
	const char *a = paren + 1, *end = t.s + t.n - 1, *comma;
	if (*end != ')')
		return fail(p, "numeric(p,s): missing ')'");
	comma = memchr(a, ',', (size_t)(end - a));
	if (parse_uint(a, (size_t)((comma ? comma : end) - a), 1000, &c->len) ||
	    c->len < 1 ||
	    (comma && parse_uint(comma + 1, (size_t)(end - comma - 1), c->len, &c->scale)))
		return fail(p, "numeric(p,s) needs 1 <= p <= 1000 and 0 <= s <= p");
	return 0;
}

static int is_text(const struct map_col *c)
{
	return c->type == COL_TEXT || c->type == COL_VARCHAR;
}

/* Appends the comma-separated words of p->val to a word list. */
static int words(struct parser *p, const char *opt, struct word_list *w)
{
	const char *s = p->val.s;
	size_t n = p->val.len, i = 0;

	if (w->s)
		return fail(p, "option %s given twice", opt);
	w->s = gx_malloc(n + 1);
	w->len = n;
	for (size_t k = 0; k <= n; k++) {
		if (k < n && s[k] != ',') {
			w->s[k] = s[k];
			continue;
		}
		if (k == i)
			return fail(p, "%s: an empty word in the list", opt);
		w->s[k] = '\0';
		i = k + 1;
	}
	return 0;
}

static int word_in(const struct word_list *w, const char *s, size_t n)
{
	for (size_t i = 0; w->s && i < w->len; i += strlen(w->s + i) + 1)
		if (strlen(w->s + i) == n && !memcmp(w->s + i, s, n))
			return 1;
	return 0;
}

/* The literal of default=: true/false and JSON numbers keep their JSON
 * type, a quoted value or any other word is a string. */
static int set_default(struct parser *p, struct map_col *c, struct tok v)
{
	char *text;

	if (value(p, "default", v))
		return -1;
	if (v.s[0] == '"') {
		text = gx_strndup(v.s + 1, v.n - 2);	/* keep the escaped form */
		c->def.type = GX_STR;
	} else {
		text = gx_strndup(v.s, v.n);
		if (tok_is(v, "null")) {
			free(text);
			return fail(p, "default=null: a column without default= is null already");
		}
		c->def.type = tok_is(v, "true") || tok_is(v, "false") ? GX_BOOL :
			json_num_valid(v.s, v.n) ? GX_NUM : GX_STR;
	}
	if (c->def.type == GX_STR)
		c->def.vlen = strlen(text), c->def.val = text;
	else
		c->def.vlen = v.n, c->def.val = text;
	c->def.key = "default";
	c->def.klen = 7;
	c->has_def = 1;
	return 0;
}

static int set_enum(struct parser *p, const char *opt, const char *v,
		    const char *const *names, int *out)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	if (names[2])
		return fail(p, "%s takes %s, %s or %s", opt, names[0], names[1], names[2]);
	return fail(p, "%s takes %s or %s", opt, names[0], names[1]);
}

/* The options after the type, in any order, each at most once. A flag
 * takes no value; the others need one, decoded into p->val, but default=,
 * which set_default reads as written. */
enum opt {
	OPT_FROM, OPT_NOT_NULL, OPT_ZERO, OPT_EMPTY, OPT_NUL, OPT_ELSE, OPT_DEFAULT,
	OPT_DROP, OPT_ROUND, OPT_LONG, OPT_TRUE, OPT_FALSE, OPT_N
};
enum opt_value { VALUE, FLAG, AS_WRITTEN };
static const struct {
	const char *name;
	enum opt_value value;
} options[OPT_N] = {
	[OPT_FROM] = { "from", VALUE },		[OPT_NOT_NULL] = { "not-null", FLAG },
	[OPT_ZERO] = { "zero", VALUE },		[OPT_EMPTY] = { "empty", VALUE },
	[OPT_NUL] = { "nul", VALUE },		[OPT_ELSE] = { "else", VALUE },
	[OPT_DEFAULT] = { "default", AS_WRITTEN }, [OPT_DROP] = { "drop", FLAG },
	[OPT_ROUND] = { "round", FLAG },	[OPT_LONG] = { "long", VALUE },
	[OPT_TRUE] = { "true", VALUE },		[OPT_FALSE] = { "false", VALUE },
};
#define OPT(o) (1u << (o))

static int parse_options(struct parser *p, struct map_col *c,
			 const struct tok *t, size_t nt, struct tok *from,
			 struct tok *alt, int *zero_set)
{
	static const char *const zeros[] = { "keep", "null", "reject", NULL };
	static const char *const nuls[] = { "reject", "strip", NULL, NULL };
	static const char *const longs[] = { "reject", "truncate", NULL, NULL };
	static const char *const empties[] = { "keep", "null", NULL, NULL };
	unsigned seen = 0;

	for (size_t i = 0; i < nt; i++) {
		const char *eq = memchr(t[i].s, '=', t[i].n);
		size_t nl = eq ? (size_t)(eq - t[i].s) : t[i].n;
		struct tok v = { eq ? eq + 1 : NULL, eq ? t[i].n - nl - 1 : 0 };
		enum opt k;
		int e;

		for (k = 0; k < OPT_N; k++)
			if (strlen(options[k].name) == nl && !memcmp(options[k].name, t[i].s, nl))
				break;
		if (k == OPT_N)
			return fail(p, "unknown option '%.*s'", (int)t[i].n, t[i].s);
		const char *name = options[k].name;
		if (seen & OPT(k))
			return fail(p, "option %s given twice", name);
		seen |= OPT(k);
		if (options[k].value == FLAG && eq)
			return fail(p, "option %s takes no value", name);
		if (options[k].value != FLAG && (!eq || v.n == 0))
			return fail(p, "option %s needs a value: %s=...", name, name);
		if (options[k].value == VALUE && value(p, name, v))
			return -1;
		switch (k) {
		case OPT_FROM: *from = v; break;
		case OPT_NOT_NULL: c->not_null = 1; break;
		case OPT_ZERO:
			if (set_enum(p, "zero=", p->val.s, zeros, &e))
				return -1;
			c->zero = (enum zero_rule)e;
			*zero_set = 1;
			break;
		case OPT_EMPTY:
			if (set_enum(p, "empty=", p->val.s, empties, &e))
				return -1;
			c->empty_null = e == 1;
			break;
		case OPT_NUL:
			if (set_enum(p, "nul=", p->val.s, nuls, &e))
				return -1;
			c->nul_strip = e == 1;
			break;
		case OPT_ELSE: *alt = v; break;
		case OPT_DEFAULT:
			if (set_default(p, c, v))
				return -1;
			break;
		case OPT_DROP: c->drop = 1; break;
		case OPT_ROUND: c->round = 1; break;
		case OPT_LONG:
			if (set_enum(p, "long=", p->val.s, longs, &e))
				return -1;
			c->truncate = e == 1;
			break;
		case OPT_TRUE:
			if (words(p, "true", &c->yes))
				return -1;
			break;
		case OPT_FALSE:
			if (words(p, "false", &c->no))
				return -1;
			break;
		case OPT_N:
			break;
		}
	}
	/* What the options mean for this type. */
	if (c->drop && (seen & ~(OPT(OPT_FROM) | OPT(OPT_DROP))))
		return fail(p, "drop takes no option but from=");
	if ((seen & OPT(OPT_ZERO)) && c->type != COL_DATE && c->type != COL_TIMESTAMPTZ &&
	    !is_text(c))
		return fail(p, "zero= is only for date, timestamptz and text types");
	if ((seen & OPT(OPT_ZERO)) && c->zero == ZERO_KEEP && !is_text(c))
		return fail(p, "zero=keep is only for text types: PostgreSQL has no zero date");
	if ((seen & OPT(OPT_NUL)) && !is_text(c))
		return fail(p, "nul= is only for text and varchar");
	if ((seen & OPT(OPT_ROUND)) && c->type != COL_NUMERIC)
		return fail(p, "round is only for numeric");
	if ((seen & OPT(OPT_LONG)) && c->type != COL_VARCHAR)
		return fail(p, "long= is only for varchar(n)");
	if ((seen & (OPT(OPT_TRUE) | OPT(OPT_FALSE))) && c->type != COL_BOOLEAN)
		return fail(p, "true= and false= are only for boolean");
	for (size_t i = 0; c->yes.s && i < c->yes.len; i += strlen(c->yes.s + i) + 1)
		if (word_in(&c->no, c->yes.s + i, strlen(c->yes.s + i)))
			return fail(p, "'%s' is both true= and false=", c->yes.s + i);
	return 0;
}

static int parse_column(struct parser *p, const struct tok *t, size_t nt)
{
	struct gx_map *m = p->m;
	struct map_col *c;
	struct tok from = { NULL, 0 }, alt = { NULL, 0 };
	int zero_set = 0;

	if (!is_ident(t[0].s, t[0].n))
		return fail(p, "target '%.*s' is not a column name ([A-Za-z_][A-Za-z0-9_]*, at most 63)",
			    (int)t[0].n, t[0].s);
	for (size_t i = 0; i < m->ncol; i++)
		if (strlen(m->col[i].target) == t[0].n &&
		    !memcmp(m->col[i].target, t[0].s, t[0].n))
			return fail(p, "duplicate target '%s' (first on line %d)",
				    m->col[i].target, m->col[i].line);
	if (nt < 2)
		return fail(p, "target '%.*s' needs a type", (int)t[0].n, t[0].s);
	GX_GROW(m->col, m->ncol + 1, m->col_cap);
	c = &m->col[m->ncol++];
	memset(c, 0, sizeof *c);
	c->target = gx_strndup(t[0].s, t[0].n);
	c->line = p->line;
	if (parse_type(p, c, t[1]) ||
	    parse_options(p, c, t + 2, nt - 2, &from, &alt, &zero_set))
		return -1;
	if (!zero_set)
		c->zero = c->type == COL_DATE || c->type == COL_TIMESTAMPTZ ?
			ZERO_REJECT : ZERO_KEEP;

	/* The source key, then else= keys. */
	if (from.s) {
		if (value(p, "from", from))
			return -1;
	} else {
		buf_reset(&p->val);
		buf_adds(&p->val, c->target);
	}
	if (p->val.len == 0)
		return fail(p, "from=\"\": a source key has a name");
	if (!strcmp(p->val.s, "@gx"))
		return fail(p, "\"@gx\" names control lines, not a source column");
	c->src = key_index(m, p->val.s, p->val.len);
	m->key[c->src].read |= !c->drop;
	if (alt.s) {
		if (value(p, "else", alt))
			return -1;
		gx_buf list = p->val;	/* split in place: value() is not called again */
		p->val = (gx_buf)GX_BUF_INIT;
		const char *s = list.s;
		for (size_t i = 0, k = 0; k <= list.len; k++) {
			if (k < list.len && s[k] != ',')
				continue;
			if (k == i || (k - i == 3 && !memcmp(s + i, "@gx", 3))) {
				buf_free(&list);
				return fail(p, "else=: an empty or control key in the list");
			}
			GX_GROW(c->alt, c->nalt + 1, c->alt_cap);
			c->alt[c->nalt] = key_index(m, s + i, k - i);
			m->key[c->alt[c->nalt++]].read = 1;
			i = k + 1;
		}
		buf_free(&list);
	}

	if (c->has_def) {
		gx_buf out = GX_BUF_INIT, why = GX_BUF_INIT;
		struct gx_tz utc = { .fixed = 1 };
		int rc = map_convert(m, c, &utc, &c->def, &out, &why);
		if (rc != CAST_OK)
			fail(p, "default=%.*s: %s", (int)c->def.vlen, c->def.val,
			     rc == CAST_NULL ? "is null" : why.s);
		buf_free(&out);
		buf_free(&why);
		if (rc != CAST_OK)
			return -1;
	}
	size_t tl = strlen(c->target);
	c->head = gx_malloc(tl + 4);
	c->head[0] = '"';
	memcpy(c->head + 1, c->target, tl);
	memcpy(c->head + 1 + tl, "\":", 3);
	c->headlen = tl + 3;
	return 0;
}

static int parse_setting(struct parser *p, const struct tok *t, size_t nt)
{
	static const char *const unknowns[] = { "ignore", "reject", NULL, NULL };
	static const char *const missings[] = { "reject", "null", NULL, NULL };
	struct gx_map *m = p->m;
	int e;

	/* "@source-tz ZONE override": ZONE whatever the server says. */
	if (nt == 3 && tok_is(t[0], "@source-tz") && !tok_is(t[2], "override"))
		return fail(p, "@source-tz ZONE [override]: '%.*s' is not 'override'",
			    (int)t[2].n, t[2].s);
	if (nt != 2 && !(nt == 3 && tok_is(t[0], "@source-tz")))
		return fail(p, "a setting is one word: %.*s VALUE", (int)t[0].n, t[0].s);
	if (value(p, "setting", t[1]))
		return -1;
	if (tok_is(t[0], "@source-tz")) {
		if (m->source_tz)
			return fail(p, "@source-tz given twice");
		m->source_tz = gx_strdup(p->val.s);
		m->source_tz_override = nt == 3;
		return 0;
	}
	if (tok_is(t[0], "@unknown")) {
		if (set_enum(p, "@unknown", p->val.s, unknowns, &e))
			return -1;
		m->unknown_reject = e;
		return 0;
	}
	if (tok_is(t[0], "@missing")) {
		if (set_enum(p, "@missing", p->val.s, missings, &e))
			return -1;
		m->missing_null = e;
		return 0;
	}
	return fail(p, "unknown setting '%.*s' (@source-tz, @unknown, @missing)",
		    (int)t[0].n, t[0].s);
}

int map_parse(struct gx_map *m, const char *text, size_t len, const char *name,
	      gx_buf *err)
{
	struct parser p = { m, name, 0, err, GX_BUF_INIT };
	struct tok t[MAX_TOKENS];
	const char *s = text, *end = text + len;
	size_t nt;
	int rc = 0;
	unsigned seen = 0;

	memset(m, 0, sizeof *m);
	while (s < end && rc == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		p.line++;
		if (memchr(s, '\0', n))
			rc = fail(&p, "NUL byte");
		else if ((rc = split(&p, s, n, t, &nt)) == 0 && nt) {
			if (t[0].s[0] == '@') {
				int k = tok_is(t[0], "@unknown") ? 1 : tok_is(t[0], "@missing") ? 2 : 0;
				if (k && (seen & 1u << k))
					rc = fail(&p, "%.*s given twice", (int)t[0].n, t[0].s);
				seen |= k ? 1u << k : 0;
				if (!rc)
					rc = parse_setting(&p, t, nt);
			} else {
				rc = parse_column(&p, t, nt);
			}
		}
		s += n + 1;
	}
	if (rc == 0) {
		size_t out = 0;
		for (size_t i = 0; i < m->ncol; i++)
			out += !m->col[i].drop;
		p.line = 0;
		if (out == 0)
			rc = fail(&p, "no target columns");
	}
	buf_free(&p.val);
	if (rc)
		return rc;

	/* A hash of the source keys, for map_apply. */
	size_t cap = 16;
	while (cap < m->nkey * 2)
		cap *= 2;
	m->hmask = cap - 1;
	m->hash = gx_malloc(cap * sizeof *m->hash);
	for (size_t i = 0; i < cap; i++)
		m->hash[i] = 0;
	for (size_t i = 0; i < m->nkey; i++) {
		size_t h = key_hash(m->key[i].name, m->key[i].len) & m->hmask;
		while (m->hash[h])
			h = (h + 1) & m->hmask;
		m->hash[h] = i + 1;
		m->nread += m->key[i].read;
	}
	m->val = gx_malloc(m->nkey * sizeof *m->val);
	return 0;
}

/* The index of a record's key, or -1 when the map does not name it. */
long map_key_find(const struct gx_map *m, const char *s, size_t n)
{
	size_t h = key_hash(s, n) & m->hmask;

	for (; m->hash[h]; h = (h + 1) & m->hmask) {
		const struct map_key *k = &m->key[m->hash[h] - 1];
		if (k->len == n && !memcmp(k->name, s, n))
			return (long)(m->hash[h] - 1);
	}
	return -1;
}

void map_free(struct gx_map *m)
{
	for (size_t i = 0; i < m->ncol; i++) {
		struct map_col *c = &m->col[i];
		free(c->target);
		free(c->head);
		free(c->alt);
		free(c->yes.s);
		free(c->no.s);
		free((char *)c->def.val);
	}
	for (size_t i = 0; i < m->nkey; i++)
		free(m->key[i].name);
	free(m->col);
	free(m->key);
	free(m->source_tz);
	free(m->hash);
	free(m->val);
	free(m->pos);
	buf_free(&m->tmp);
	buf_free(&m->tmp2);
	memset(m, 0, sizeof *m);
}
