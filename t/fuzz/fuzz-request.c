/*
 * fuzz-request.c: a CGI request: the environment a server sets, Content-Length
 * and the body read from stdin.  Input: one line per variable of the list
 * below, in order, then the body.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cgi.h"
#include "fuzz.h"

static const char *const variables[] = {
	"REQUEST_METHOD", "CONTENT_TYPE", "CONTENT_LENGTH", "QUERY_STRING", "REQUEST_URI",
	"SCRIPT_NAME", "PATH_INFO", "REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_AUTHORIZATION",
	"HTTP_X_TIMESTAMP", "HTTP_ORIGIN",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgi_request request;
	char *text = fuzz_string(data, size), *rest = text, *line, *value;
	const char *why;
	FILE *in = NULL;
	size_t i;

	if (text == NULL)
		return 0;
	for (i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
		if ((line = fuzz_line(&rest)) != NULL)
			setenv(variables[i], line, 1);
		else
			unsetenv(variables[i]);
	}
	if (cgi_request_from_environment(&request, "fuzz-request") != 0)
		goto out;
	cgi_content_type_is(&request, "application/json");
	if ((value = cgi_query_value(&request, "pin")) != NULL)
		free(value);
	/* The body: what is left of the input, bytes after a NUL included. */
	i = rest != NULL ? (size_t)(rest - text) : size;
	if (size > i)
		in = fmemopen((void *)(data + i), size - i, "r");
	if (in != NULL) {
		if (cgi_request_read_body(&request, in, 4096, &why) != 0)
			cgi_request_drain(&request, in);
		fclose(in);
	}
	cgi_request_free(&request);
out:
	free(text);
	return 0;
}
