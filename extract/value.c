/* One column value as JSON, chosen by the field's type; the server's own text
 * is kept: numbers are never routed through double. */
#include "extract.h"

#include <string.h>

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
