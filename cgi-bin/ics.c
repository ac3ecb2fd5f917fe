/* ics.c: an invitation as an RFC 5545 calendar (one all-day VEVENT), for mail attachments. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ics.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long
ics_days_from_civil(long year, long month, long day)
{
	long era, year_of_era, day_of_year, day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = year - era * 400;
	day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

static void
ics_civil_from_days(long days, long *year, long *month, long *day)
{
	long era, day_of_era, year_of_era, day_of_year, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	day_of_era = days - era * 146097;
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	mp = (5 * day_of_year + 2) / 153;
	*day = day_of_year - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = year_of_era + era * 400 + (*month <= 2);
}

/* YYYY-MM-DD, a real day: its days since the epoch. */
static int
ics_parse_date(const char *date, long *days)
{
	long year, month, day, back_year, back_month, back_day;
	int consumed = 0;

	if (date == NULL || strlen(date) != 10 ||
	    sscanf(date, "%4ld-%2ld-%2ld%n", &year, &month, &day, &consumed) != 3 || consumed != 10 ||
	    date[4] != '-' || date[7] != '-' || strspn(date, "0123456789-") != 10 ||
	    month < 1 || month > 12 || day < 1 || day > 31)
		return -1;
	*days = ics_days_from_civil(year, month, day);
	ics_civil_from_days(*days, &back_year, &back_month, &back_day);
	return back_year == year && back_month == month && back_day == day ? 0 : -1;
}

int
ics_next_day(const char *date, char next[11])
{
	long days, year, month, day;

	if (ics_parse_date(date, &days) != 0)
		return -1;
	ics_civil_from_days(days + 1, &year, &month, &day);
	if (year < 0 || year > 9999)
		return -1;
	snprintf(next, 11, "%04ld-%02ld-%02ld", year, month, day);
	return 0;
}

/* A content line, folded: CRLF then a space before the octet that would pass the limit. */
static void
ics_line(FILE *out, const char *line)
{
	size_t used = 0, length;
	const unsigned char *at = (const unsigned char *)line;

	while (*at != '\0') {
		/* A UTF-8 character's length by its lead byte; never split one. */
		length = *at < 0x80 ? 1 : *at >= 0xf0 ? 4 : *at >= 0xe0 ? 3 : *at >= 0xc0 ? 2 : 1;
		if (used + length > ICS_LINE_OCTETS) {
			fputs("\r\n ", out);
			used = 1;
		}
		fwrite(at, 1, length, out);
		used += length;
		for (; length > 0 && *at != '\0'; length--)
			at++;
	}
	fputs("\r\n", out);
}

/* name:TEXT with RFC 5545 3.3.11's escapes; controls other than the line end dropped. */
static void
ics_text_line(FILE *out, const char *name, const char *text)
{
	char *line = NULL;
	size_t size = 0;
	FILE *buffer;

	if ((buffer = open_memstream(&line, &size)) == NULL)
		return;
	fprintf(buffer, "%s:", name);
	for (; *text != '\0'; text++) {
		if (*text == '\\' || *text == ';' || *text == ',')
			fprintf(buffer, "\\%c", *text);
		else if (*text == '\n')
			fputs("\\n", buffer);
		else if ((unsigned char)*text >= 0x20 && *text != 0x7f)
			fputc(*text, buffer);
	}
	fclose(buffer);
	ics_line(out, line);
	free(line);
}

/* name:URI, as it is (a URI has no character TEXT escapes), controls dropped. */
static void
ics_uri_line(FILE *out, const char *name, const char *uri)
{
	char *line;
	size_t i, j;

	if ((line = malloc(strlen(name) + strlen(uri) + 2)) == NULL)
		return;
	j = (size_t)sprintf(line, "%s:", name);
	for (i = 0; uri[i] != '\0'; i++)
		if ((unsigned char)uri[i] > 0x20 && uri[i] != 0x7f)
			line[j++] = uri[i];
	line[j] = '\0';
	ics_line(out, line);
	free(line);
}

/* A date as DATE's basic form: 20260314. */
static void
ics_date_line(FILE *out, const char *name, const char *date)
{
	char line[64];

	snprintf(line, sizeof(line), "%s;VALUE=DATE:%.4s%.2s%.2s", name, date, date + 5, date + 8);
	ics_line(out, line);
}

char *
ics_build(const struct ics_event *event)
{
	char end[11], stamp[CLOCK_TIME_SIZE], line[64], *calendar = NULL;
	const char *last = event->ends_on != NULL ? event->ends_on : event->starts_on;
	size_t size = 0;
	long first_day, last_day;
	struct tm tm;
	FILE *out;

	if (ics_parse_date(event->starts_on, &first_day) != 0 ||
	    ics_parse_date(last, &last_day) != 0 || last_day < first_day ||
	    ics_next_day(last, end) != 0 || gmtime_r(&event->stamp, &tm) == NULL)
		return NULL;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if ((out = open_memstream(&calendar, &size)) == NULL)
		return NULL;
	ics_line(out, "BEGIN:VCALENDAR");
	ics_line(out, "VERSION:2.0");
	ics_line(out, "PRODID:-//pinconf//" PACKAGE_NAME " " PACKAGE_VERSION "//EN");
	ics_line(out, "CALSCALE:GREGORIAN");
	ics_line(out, "BEGIN:VEVENT");
	ics_text_line(out, "UID", event->uid);
	snprintf(line, sizeof(line), "DTSTAMP:%s", stamp);
	ics_line(out, line);
	ics_date_line(out, "DTSTART", event->starts_on);
	/* DTEND is the day after the last: an all-day event's end is exclusive. */
	ics_date_line(out, "DTEND", end);
	ics_text_line(out, "SUMMARY", event->summary);
	ics_text_line(out, "DESCRIPTION", event->description);
	if (event->url != NULL)
		ics_uri_line(out, "URL", event->url);
	ics_line(out, "TRANSP:TRANSPARENT");
	ics_line(out, "END:VEVENT");
	ics_line(out, "END:VCALENDAR");
	if (fclose(out) != 0) {
		free(calendar);
		return NULL;
	}
	return calendar;
}
