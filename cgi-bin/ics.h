/* ics.h: an invitation as an RFC 5545 calendar (one all-day VEVENT), for mail attachments. */
#ifndef PINCONF_ICS_H
#define PINCONF_ICS_H

#include <time.h>

/* Content lines are folded so that none is longer than this many octets (RFC 5545 3.1). */
#define ICS_LINE_OCTETS	75

struct ics_event {
	const char	*uid;		/* stable: the same invitation updates one entry */
	time_t		 stamp;		/* DTSTAMP: when the invitation was made */
	const char	*starts_on;	/* YYYY-MM-DD, the first day */
	const char	*ends_on;	/* YYYY-MM-DD, the last day; NULL: a one-day event */
	const char	*summary;	/* UTF-8 text, escaped here */
	const char	*description;
	const char	*url;		/* a URI; NULL: none */
};

/*
 * The calendar, CRLF line ends, lines folded at ICS_LINE_OCTETS octets
 * between UTF-8 characters; malloc'd, NULL for a date that is not one or
 * when memory runs out.
 */
char	*ics_build(const struct ics_event *);

/* The day after date (YYYY-MM-DD) into next: DTEND is exclusive.  0, or -1 if date is not one. */
int	 ics_next_day(const char *date, char next[11]);

#endif
