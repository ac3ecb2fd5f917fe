/* clock.c: ISO 8601 times in and out, and what "today" is in a time zone. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int
clock_today(const char *zone, time_t now, char date[CLOCK_DATE_SIZE])
{
	struct tm local;

	/* localtime_r reads TZ; each request sets it, so none carries over. */
	if (setenv("TZ", zone, 1) != 0)
		return -1;
	tzset();
	if (localtime_r(&now, &local) == NULL)
		return -1;
	return strftime(date, CLOCK_DATE_SIZE, "%Y-%m-%d", &local) == 10 ? 0 : -1;
}

/* Read exactly count digits as a number; -1 if any is not a digit. */
static int
digits(const char *text, int count)
{
	int value = 0, i;

	for (i = 0; i < count; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -1;
		value = value * 10 + (text[i] - '0');
	}
	return value;
}

int
clock_parse_utc(const char *text, time_t *when)
{
	struct tm tm;
	const char *p;

	if (strlen(text) < 20 || text[4] != '-' || text[7] != '-' ||
	    (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(text, 4) - 1900;
	tm.tm_mon = digits(text + 5, 2) - 1;
	tm.tm_mday = digits(text + 8, 2);
	tm.tm_hour = digits(text + 11, 2);
	tm.tm_min = digits(text + 14, 2);
	tm.tm_sec = digits(text + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	p = text + 19;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			continue;
		if (p == text + 20 || p - text > 29)
			return -1;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	*when = timegm(&tm);
	return *when == (time_t)-1 ? -1 : 0;
}

void
clock_format_utc(time_t when, int milliseconds, char out[CLOCK_TIME_SIZE])
{
	char seconds[20];
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(seconds, sizeof(seconds), "%Y-%m-%dT%H:%M:%S", &tm);
	if (milliseconds >= 0)
		snprintf(out, CLOCK_TIME_SIZE, "%s.%03dZ", seconds, milliseconds % 1000);
	else
		snprintf(out, CLOCK_TIME_SIZE, "%sZ", seconds);
}

void
clock_spoken_date(const char *date, const char *zone, time_t now, char *out, size_t size)
{
	static const char *const months[] = { "January", "February", "March", "April", "May",
	    "June", "July", "August", "September", "October", "November", "December" };
	int year = digits(date, 4), month = digits(date + 5, 2), day = digits(date + 8, 2);
	char today[CLOCK_DATE_SIZE];

	if (strlen(date) != 10 || year < 0 || month < 1 || month > 12 || day < 1 || day > 31) {
		snprintf(out, size, "%s", date);
		return;
	}
	/* Callers hear the year only when it is not this one (nor unknown). */
	if (clock_today(zone, now, today) != 0 || strncmp(date, today, 4) == 0)
		snprintf(out, size, "%d %s", day, months[month - 1]);
	else
		snprintf(out, size, "%d %s %d", day, months[month - 1], year);
}
