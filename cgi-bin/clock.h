/* clock.h: ISO 8601 times in and out, and what "today" is in a time zone. */
#ifndef PINCONF_CLOCK_H
#define PINCONF_CLOCK_H

#include <stddef.h>
#include <time.h>

#define CLOCK_DATE_SIZE		11	/* YYYY-MM-DD */
#define CLOCK_TIME_SIZE		25	/* YYYY-MM-DDTHH:MM:SS.mmmZ */

/* Today's date in zone (a tz database name), as YYYY-MM-DD; 0 on success. */
int	 clock_today(const char *zone, time_t now, char date[CLOCK_DATE_SIZE]);

/* Parse YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00) as UTC; 0 on success. */
int	 clock_parse_utc(const char *text, time_t *when);

/* Format as YYYY-MM-DDTHH:MM:SSZ, or with milliseconds if milliseconds >= 0. */
void	 clock_format_utc(time_t when, int milliseconds, char out[CLOCK_TIME_SIZE]);

/* YYYY-MM-DD as a caller hears it: "7 December", with the year if not this one in zone; never fails. */
void	 clock_spoken_date(const char *date, const char *zone, time_t now, char *out, size_t size);

#endif
