/* The systemic-failure rule of rejected records (threshold.h). */
#include <stdlib.h>

#include "gx.h"
#include "threshold.h"

double gx_parse_percent(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 100))
		gx_die(GX_EXIT_DATA, "%s: \"%s\" is not a percentage (0 to 100)", opt, s);
	return v;
}

int gx_too_many_rejects(unsigned long long rejected, unsigned long long seen,
			unsigned long long max, double rate, int final)
{
	if (rejected <= max)
		return 0;
	if (rate < 0)
		return 1;
	if (final)
		return (double)rejected * 100 > rate * (double)seen;
	return rejected >= GX_EARLY_REJECTS && 2 * rejected > seen;
}
