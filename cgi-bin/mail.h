/* mail.h: plain-text UTF-8 mail (RFC 5322, RFC 2047), handed to the host's sendmail. */
#ifndef PINCONF_MAIL_H
#define PINCONF_MAIL_H

#include <stddef.h>
#include <time.h>

/* A file sent after the text, making the mail multipart/mixed (an .ics invitation). */
struct mail_attachment {
	const char	*filename;	/* printable ASCII, no quotes */
	const char	*content_type;	/* "text/calendar; charset=utf-8; method=REQUEST" */
	const char	*data;
	size_t		 length;
};

struct mail {
	const char			*from;		/* bare addresses */
	const char			*to;
	const char			*subject;	/* UTF-8; encoded words when not ASCII */
	const char			*text;		/* UTF-8, lines end in \n */
	const struct mail_attachment	*attachments;
	size_t				 attachment_count;
};

/*
 * The whole message, headers and body, with \n line ends as sendmail wants
 * them; malloc'd.  0, or -1 with why (a header value holding CR or LF, a
 * line too long for 8bit, no memory).
 */
int	 mail_build(const struct mail *, time_t now, char **message, size_t *length,
	    const char **why);

/*
 * Run sendmail -t -oi (no shell) with message on its standard input and
 * wait for it.  0 once it took the message (exit status 0), else -1 with a
 * one-line reason.
 */
int	 mail_send(const char *sendmail, const char *message, size_t length,
	    char *why, size_t why_size);

#endif
