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

#define VARIABLES	(sizeof(variables) / sizeof(variables[0]))

extern char **environ;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgi_request request;
	char *text = fuzz_string(data, size), *rest = text, *line, *value;
	char *environment[VARIABLES + 1] = { NULL }, **saved = environ;
	const char *why;
	FILE *in = NULL;
	size_t i, count = 0;

	if (text == NULL)
		return 0;
	/* An environment of our own: setenv() keeps every old value for good, an OOM in the long run. */
	for (i = 0; i < VARIABLES && (line = fuzz_line(&rest)) != NULL; i++)
		if (asprintf(&environment[count], "%s=%s", variables[i], line) >= 0)
			count++;
	environ = environment;
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
	environ = saved;
	for (i = 0; i < count; i++)
		free(environment[i]);
	free(text);
	return 0;
}
