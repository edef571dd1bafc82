/* libFuzzer target: MySQL option files as gx-extract reads them
 * (cnf_line, extract/cnf.c), line by line as read_file feeds them; an
 * !include is counted, not followed. Checks: a refusal is bad data (status
 * 1) naming "fuzz.cnf:LINE: " of the line being read; every setting read
 * says where ("fuzz.cnf:LINE" of a line already read), a boolean is "1" or
 * "0", and a boolean key alone in a group we read ("ssl-verify-server-cert"
 * with no "=") is on: the stock client's reading, not Connector/C's.
 * gx_die jumps back instead of exiting (refusal.h). */
#define _POSIX_C_SOURCE 200809L
#include "extract.h"

#include <stdint.h>

#include "refusal.h"

static char expect[64];	/* what a refusal must begin with */

static const enum cnf_key bools[] = { CNF_COMPRESS, CNF_SSL, CNF_SSL_VERIFY_SERVER_CERT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cnf c;
	static char *text;
	static struct cnf_pos at;
	char *line, *next, *inc;
	int dir;

	/* A line cannot hold a NUL: getline would cut the string there. */
	if (memchr(data, '\0', size))
		return 0;
	free(text);
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof c);
	c.suffix = "-fz";
	at = (struct cnf_pos){ .path = "fuzz.cnf" };
	die_prefix = expect;
	if (setjmp(die_jmp) == 0) {
		for (line = text; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			size_t n = strlen(line);
			while (n && line[n - 1] == '\r')
				line[--n] = '\0';
			at.line++;
			snprintf(expect, sizeof expect, "fuzz.cnf:%u: ", at.line);
			/* a group key alone, the trap, checked on the line itself */
			char key[32] = "", more[2];
			if (at.in && sscanf(line, " %31[a-z-] %1s", key, more) == 1 &&
			    !strcmp(key, "ssl-verify-server-cert")) {
				cnf_line(&c, &at, line, &inc, &dir);
				if (strcmp(c.value[CNF_SSL_VERIFY_SERVER_CERT], "1"))
					abort();
				continue;
			}
			cnf_line(&c, &at, line, &inc, &dir);
		}
		for (size_t k = 0; k < CNF_NKEYS; k++) {
			unsigned l;
			if (!c.value[k])
				continue;
			if (!c.where[k] || sscanf(c.where[k], "fuzz.cnf:%u", &l) != 1 ||
			    l < 1 || l > at.line)
				abort();
		}
		for (size_t i = 0; i < sizeof bools / sizeof *bools; i++) {
			const char *v = c.value[bools[i]];
			if (v && strcmp(v, "1") && strcmp(v, "0"))
				abort();
		}
	}
	cnf_free(&c);
	return 0;
}
