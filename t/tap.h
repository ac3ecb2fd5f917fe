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

/* bytes as lower-case hex into out (2 * length + 1 bytes), to compare with tap_is. */
static inline void
tap_hex(const unsigned char *data, size_t length, char *out)
{
	size_t i;

	for (i = 0; i < length; i++)
		sprintf(out + 2 * i, "%02x", data[i]);
	out[2 * length] = '\0';
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}

#endif
