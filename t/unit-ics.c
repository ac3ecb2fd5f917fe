/* unit-ics.c: the invitation's calendar: RFC 5545 folding at 75 octets, TEXT escapes, all-day dates. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ics.h"
#include "tap.h"

/* Every line (CRLF-ended) at most 75 octets, no UTF-8 character split across a fold. */
static int
lines_ok(const char *calendar)
{
	const char *line = calendar, *end;

	for (; *line != '\0'; line = end + 2) {
		if ((end = strstr(line, "\r\n")) == NULL || end - line > ICS_LINE_OCTETS)
			return 0;
		/* A continuation starts with a space, then never with a UTF-8 continuation byte. */
		if (*line == ' ' && ((unsigned char)line[1] & 0xc0) == 0x80)
			return 0;
	}
	return 1;
}

/* The calendar with its folds undone (CRLF + space removed). */
static char *
unfold(const char *calendar)
{
	char *out = malloc(strlen(calendar) + 1), *at = out;

	for (; out != NULL && *calendar != '\0'; calendar++) {
		if (calendar[0] == '\r' && calendar[1] == '\n' && calendar[2] == ' ') {
			calendar += 2;
			continue;
		}
		*at++ = *calendar;
	}
	if (out != NULL)
		*at = '\0';
	return out;
}

int
main(void)
{
	char long_name[400], next[11], *calendar, *plain;
	struct ics_event event = { "attendee-7@conf.example.com", 1767225600, "2026-03-14",
	    "2026-03-18", "Board; Q1, review \\ plan", "PIN: 1234\nDial +46850512345",
	    "https://conf.example.com/cgi-bin/join.cgi?pin=1234" };
	size_t i;

	calendar = ics_build(&event);
	tap_ok(calendar != NULL && strncmp(calendar, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30) == 0,
	    "a calendar begins with BEGIN:VCALENDAR and VERSION:2.0, CRLF line ends");
	tap_ok(calendar != NULL && strstr(calendar, "\r\nDTSTART;VALUE=DATE:20260314\r\n") != NULL &&
	    strstr(calendar, "\r\nDTEND;VALUE=DATE:20260319\r\n") != NULL,
	    "all-day DTSTART, and DTEND the day after the last day (exclusive)");
	tap_ok(calendar != NULL && strstr(calendar, "\r\nDTSTAMP:20260101T000000Z\r\n") != NULL,
	    "DTSTAMP in UTC");
	tap_ok(calendar != NULL && strstr(calendar, "SUMMARY:Board\\; Q1\\, review \\\\ plan\r\n") != NULL,
	    "TEXT escapes: semicolon, comma and backslash");
	tap_ok(calendar != NULL && strstr(calendar, "DESCRIPTION:PIN: 1234\\nDial +46850512345\r\n") != NULL,
	    "a newline in TEXT is \\n");
	tap_ok(calendar != NULL && strstr(calendar, "UID:attendee-7@conf.example.com\r\n") != NULL &&
	    strstr(calendar, "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") != NULL, "UID, and the ends");
	free(calendar);

	/* Multi-byte UTF-8 (3-byte U+20AC) across the fold: folds fall between characters. */
	for (i = 0; i + 3 < sizeof(long_name) - 1; i += 3)
		memcpy(long_name + i, "\xe2\x82\xac", 3);
	long_name[i] = '\0';
	event.summary = long_name;
	event.ends_on = NULL;
	calendar = ics_build(&event);
	tap_ok(calendar != NULL && lines_ok(calendar),
	    "a 399-byte UTF-8 summary folds at 75 octets, never inside a character");
	plain = calendar != NULL ? unfold(calendar) : NULL;
	tap_ok(plain != NULL && strstr(plain, long_name) != NULL, "unfolded, the summary is whole again");
	tap_ok(calendar != NULL && strstr(calendar, "DTEND;VALUE=DATE:20260315\r\n") != NULL,
	    "no end date: a one-day event on the first day");
	free(plain);
	free(calendar);
	memset(long_name, 'a', 200);
	long_name[200] = '\0';
	event.summary = long_name;
	calendar = ics_build(&event);
	tap_ok(calendar != NULL && lines_ok(calendar) && strstr(calendar, "\r\n a") != NULL,
	    "a 200-character ASCII summary folds into lines of 75 octets");
	free(calendar);

	event.starts_on = "2026-02-30";
	tap_ok(ics_build(&event) == NULL, "an impossible date gives no calendar");
	event.starts_on = "2026-03-20";
	event.ends_on = "2026-03-19";
	tap_ok(ics_build(&event) == NULL, "an end before the start gives no calendar");
	tap_ok(ics_next_day("2024-02-28", next) == 0 && strcmp(next, "2024-02-29") == 0,
	    "the day after 2024-02-28 is the leap day");
	ics_next_day("2026-12-31", next);
	tap_is(next, "2027-01-01", "the day after New Year's Eve is in the next year");
	tap_ok(ics_next_day("2026-1-01", next) == -1 && ics_next_day("2026-01-01x", next) == -1,
	    "a date not YYYY-MM-DD is refused");
	return tap_done();
}
