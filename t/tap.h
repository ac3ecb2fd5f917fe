/* tap.h: the Test Anything Protocol for the C unit tests, in a few lines. */
#ifndef PINCONF_TAP_H
#define PINCONF_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static void
tap_ok(int ok, const char *name)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++tap_count, name);
	if (!ok)
		tap_failed++;
}

static void
tap_is(const char *got, const char *want, const char *name)
{
	int ok = got != NULL && strcmp(got, want) == 0;

	tap_ok(ok, name);
	if (!ok)
		printf("#   got:  %s\n#   want: %s\n", got != NULL ? got : "(null)", want);
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}

#endif
