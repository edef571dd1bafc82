/* One column value as JSON, chosen by the field's type; the server's own text
 * is kept: numbers are never routed through double. */
#include "extract.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

/* MariaDB Connector/C names a character set number and its iconv
 * encoding; without it (MySQL's client), non-UTF-8 columns keep the
 * server's conversion. */
#ifdef MARIADB_PACKAGE_VERSION_ID
#include <mariadb_ctype.h>
#define HAVE_CHARSET_INFO 1
#endif

#define BINARY_CHARSET 63

static void base64_add(gx_buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	char *o;

	buf_grow(b, (n + 2) / 3 * 4 + 2);
	o = b->s + b->len;
	*o++ = '"';
	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->s);
	b->s[b->len] = '\0';
}

int value_is_date(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_NEWDATE:
	case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_DATETIME2:
	case MYSQL_TYPE_TIMESTAMP:
	case MYSQL_TYPE_TIMESTAMP2:
		return 1;
	default:
		return 0;
	}
}

size_t value_add(gx_buf *b, const MYSQL_FIELD *f, const char *v, unsigned long len)
{
	if (!v) {
		buf_add(b, "null", 4);
		return 0;
	}
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_YEAR:
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		/* ZEROFILL ("0042") or YEAR 0 ("0000") are not JSON numbers:
		 * their exact text survives as a string. */
		if (json_num_valid(v, len)) {
			buf_add(b, v, len);
			return 0;
		}
		return json_add_str(b, v, len);
	case MYSQL_TYPE_BIT: {
		/* Sent as the raw big-endian bytes of a BIT(1..64). */
		unsigned long long n = 0;
		for (unsigned long i = 0; i < len; i++)
			n = n << 8 | (unsigned char)v[i];
		buf_addf(b, "%llu", n);
		return 0;
	}
	case MYSQL_TYPE_NULL:
		buf_add(b, "null", 4);
		return 0;
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_GEOMETRY:
		if (f->charsetnr == BINARY_CHARSET) {
			base64_add(b, (const unsigned char *)v, len);
			return 0;
		}
		return json_add_str(b, v, len);
	default:
		/* Dates and times (zero, partial and negative ones too), ENUM,
		 * SET, JSON and any type added later: the server's text. */
		return json_add_str(b, v, len);
	}
}

/* MySQL's latin1 is Windows-1252, with the five bytes cp1252 leaves
 * undefined kept as the C1 controls of the same number. */
static const unsigned short cp1252[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178 };

static void utf8_add(gx_buf *b, unsigned c)
{
	if (c < 0x80) {
		buf_addc(b, (char)c);
	} else if (c < 0x800) {
		buf_addc(b, (char)(0xC0 | c >> 6));
		buf_addc(b, (char)(0x80 | (c & 0x3F)));
	} else {
		buf_addc(b, (char)(0xE0 | c >> 12));
		buf_addc(b, (char)(0x80 | (c >> 6 & 0x3F)));
		buf_addc(b, (char)(0x80 | (c & 0x3F)));
	}
}

void value_cs_open(struct value_cs *c, const MYSQL_FIELD *f)
{
	memset(c, 0, sizeof *c);
	c->kind = CS_AS_IS;
	switch (f->type) {
	case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB: case MYSQL_TYPE_STRING: case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_ENUM: case MYSQL_TYPE_SET:
		break;
	default:
		return;	/* numbers, dates, JSON (utf8mb4): ASCII or UTF-8 */
	}
	if (f->charsetnr == BINARY_CHARSET)
		return;
#ifdef HAVE_CHARSET_INFO
	const MARIADB_CHARSET_INFO *cs = mariadb_get_charset_by_nr(f->charsetnr);

	c->name = cs ? cs->csname : "unknown";
	if (cs && (!strncmp(cs->csname, "utf8", 4) || !strcmp(cs->csname, "ascii")))
		return;
	if (cs && !strcmp(cs->csname, "latin1")) {
		c->kind = CS_LATIN1;
		return;
	}
	iconv_t cd = cs && cs->encoding && *cs->encoding ?
		     iconv_open("UTF-8", cs->encoding) : (iconv_t)-1;
	if (cd == (iconv_t)-1) {
		c->kind = CS_UNKNOWN;
		gx_warn("column %s: no converter for character set %s: its non-ASCII "
			"characters are counted as invalid UTF-8", f->name, c->name);
		return;
	}
	c->kind = CS_ICONV;
	c->cd = cd;
	c->charlen = cs->mb_charlen;
#else
	c->name = "unknown";
	c->kind = CS_UNKNOWN;
#endif
}

void value_cs_close(struct value_cs *c)
{
	if (c->kind == CS_ICONV)
		iconv_close((iconv_t)c->cd);
	c->kind = CS_AS_IS;
}

size_t value_cs_convert(const struct value_cs *c, gx_buf *tmp, const char **v,
			unsigned long *len)
{
	const unsigned char *s = (const unsigned char *)*v;
	size_t bad = 0;

	if (!*v || c->kind == CS_AS_IS || c->kind == CS_UNKNOWN)
		return 0;
	buf_reset(tmp);
	if (c->kind == CS_LATIN1) {
		for (unsigned long i = 0; i < *len; i++)
			utf8_add(tmp, s[i] >= 0x80 && s[i] < 0xA0 ? cp1252[s[i] - 0x80] : s[i]);
	} else {
		char *in = (char *)*v;
		size_t left = *len;

		iconv((iconv_t)c->cd, NULL, NULL, NULL, NULL);
		while (left) {
			buf_grow(tmp, 4 * left + 8);
			char *o = tmp->s + tmp->len;
			size_t room = tmp->cap - tmp->len - 1;

			size_t rc = iconv((iconv_t)c->cd, &in, &left, &o, &room);
			tmp->len = (size_t)(o - tmp->s);
			tmp->s[tmp->len] = '\0';
			if (rc != (size_t)-1 || errno == E2BIG)
				continue;
			/* EILSEQ: no Unicode character (or bytes the charset does
			 * not have); EINVAL: a character cut short. One U+FFFD
			 * for the whole character. */
			size_t skip = c->charlen ? c->charlen((unsigned char)*in) : 1;
			if (!skip || skip > left)
				skip = 1;
			buf_adds(tmp, "\xef\xbf\xbd");
			bad++;
			in += skip;
			left -= skip;
		}
	}
	*v = tmp->s ? tmp->s : "";
	*len = tmp->len;
	return bad;
}
