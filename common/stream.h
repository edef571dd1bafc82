/* The NDJSON stream: one JSON object per line; "@gx" objects are control
 * lines; the last line a producer writes is {"@gx":"end","records":N}. */
#ifndef GX_STREAM_H
#define GX_STREAM_H

#include "gx.h"

enum gx_type { GX_NULL, GX_BOOL, GX_NUM, GX_STR, GX_OBJ, GX_ARR };

/* One top-level member of a record. val/vlen is the raw JSON text of the
 * value; for a string it is the still-escaped text between the quotes. */
struct gx_field {
	const char *key;
	size_t klen;
	enum gx_type type;
	const char *val;
	size_t vlen;
};

struct gx_reader {
	FILE *in;
	const char *name;	/* for messages: "stdin" or a file name */
	unsigned long lineno;
	size_t max_line;	/* bytes; a longer line is an error */
	int control;		/* this line is a control line */
	int end_seen;		/* the end marker has been read */
	unsigned long long end_records;	/* its "records" */
	struct gx_field *f;
	size_t nf;
	gx_buf line;
	/* private */
	char *blk;
	size_t bpos, blen, capf;
	void *tok;
	size_t ntok;
	gx_buf keys;
};

#define GX_MAX_LINE_DEFAULT ((size_t)256 << 20)

void reader_init(struct gx_reader *r, FILE *in, const char *name);
/* 1 (default): compact flat records are read in one pass, anything else
 * by jsmn with the full checks; 0: always the latter (the fuzz target
 * compares the two). */
extern int gx_reader_flat;
/* Reads the next line: 1 when r holds a record or control line, 0 at EOF.
 * Malformed input dies with "line N: reason" (status 1). */
int reader_next(struct gx_reader *r);
/* The member named key (NUL-terminated) or NULL. */
const struct gx_field *reader_get(const struct gx_reader *r, const char *key);
/* Dies with status 3 unless the end marker was read: call at EOF. */
void reader_expect_end(const struct gx_reader *r);
void reader_free(struct gx_reader *r);

/* Appends s as a JSON string (quotes included), escaping as JSON requires.
 * Invalid UTF-8 is replaced by U+FFFD; returns how many replacements. */
size_t json_add_str(gx_buf *b, const char *s, size_t n);
/* Decodes the escaped content of a JSON string into out (appending).
 * Returns -1 on a bad escape, lone surrogate, raw control character or
 * invalid UTF-8; else the number of characters (code points) decoded.
 * *has_nul is set if the text holds U+0000. */
long json_unescape(gx_buf *out, const char *s, size_t n, int *has_nul);
/* Like json_unescape without output: validates and counts characters. */
long json_str_check(const char *s, size_t n, int *has_nul);
/* 1 if s[0..n) is a JSON number. */
int json_num_valid(const char *s, size_t n);
/* 1 if f is a JSON number without fraction or exponent, of at most max
 * characters (its sign included), and not negative unless signed_ok. */
int json_field_int(const struct gx_field *f, size_t max, int signed_ok);

#endif
