/* html.h: the one place where text becomes HTML: escaping and error pages. */
#ifndef PINCONF_HTML_H
#define PINCONF_HTML_H

#include <stdio.h>

#include "cgi.h"

/* Write text escaped for element content and quoted attribute values. */
void	 html_text(FILE *out, const char *text);

/* A small HTML page saying message, with status; one log line says why. */
void	 html_refuse(const struct cgi_request *, struct cgi_response *, int status,
	    const char *message, const char *why);

#endif
