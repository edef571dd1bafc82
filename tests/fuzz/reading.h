/* gx_die for the targets that feed the fuzz bytes to the common reader and
 * then check what a converter wrote: while `reading` is set a refusal is the
 * reader's and fine, and it jumps back to die_jmp (the target's setjmp);
 * any other death is a bug: abort. tests/fuzz/run builds gx.c with its own
 * gx_die renamed. Included once, by the target's .c. */
#ifndef GX_FUZZ_READING_H
#define GX_FUZZ_READING_H

#include <setjmp.h>
#include <stdlib.h>

static jmp_buf die_jmp;
static int reading;	/* the reader on the fuzz bytes: a refusal is fine */

void gx_die(int status, const char *fmt, ...)
{
	(void)status;
	(void)fmt;
	if (!reading)
		abort();
	longjmp(die_jmp, 1);
}

#endif
