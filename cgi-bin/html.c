/* html.c: the one place where text becomes HTML: escaping and error pages. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cgi.h"
#include "html.h"

void
html_text(FILE *out, const char *text)
{
	for (; *text != '\0'; text++) {
		switch (*text) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*text, out); break;
		}
	}
}

void
html_refuse(const struct cgi_request *request, struct cgi_response *response,
    int status, const char *message, const char *why)
{
	char *page = NULL;
	size_t length;
	FILE *out;

	cgi_log_refusal(request, status, why);
	if ((out = open_memstream(&page, &length)) != NULL) {
		fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>%d %s</title>\n<link rel=\"stylesheet\" href=\"/pinconf.css\">\n"
		    "</head>\n<body>\n<main>\n<h1>", status, cgi_status_text(status));
		html_text(out, cgi_status_text(status));
		fputs("</h1>\n<p>", out);
		html_text(out, message);
		fputs("</p>\n</main>\n</body>\n</html>\n", out);
		fclose(out);
	}
	cgi_response_set_body(response, status, "text/html; charset=utf-8", page);
	cgi_response_add_header(response, "X-Content-Type-Options: nosniff");
}
