/* gx_die for the targets whose parser refuses with gx_die: instead of
 * exiting it jumps back to die_jmp (the target's setjmp), after checking
 * that the refusal is bad data (status 1) and that its message begins with
 * die_prefix (which names the file and line, or the option); any other
 * death is a bug: abort. tests/fuzz/run builds gx.c with its own gx_die
 * renamed. Included once, by the target's .c. */
#ifndef GX_FUZZ_REFUSAL_H
#define GX_FUZZ_REFUSAL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf die_jmp;
static const char *die_prefix = "";

void gx_die(int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (status != GX_EXIT_DATA || strncmp(msg, die_prefix, strlen(die_prefix)))
		abort();
	longjmp(die_jmp, 1);
}

#endif
