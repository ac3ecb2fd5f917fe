/* cgi.c: one CGI request in (RFC 3875 environment and body), one response out. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cgi.h"

/* The most of an unwanted body we read, so that a server does not reset us. */
#define CGI_DRAIN_MAX	(1024 * 1024)

/* A CGI's parameters are its environment. */
static const char *
environment_lookup(void *context, const char *name)
{
	(void)context;
	return getenv(name);
}

/* A parameter's value, NULL when absent or empty, as RFC 3875 treats both. */
static const char *
parameter(const struct cgi_parameters *parameters, const char *name)
{
	const char *value = parameters->lookup(parameters->context, name);

	return value != NULL && *value != '\0' ? value : NULL;
}

/*
 * Sinch signs the path it called, so take REQUEST_URI, which servers pass
 * as received, before any rewrite; SCRIPT_NAME + PATH_INFO only without it.
 */
static char *
request_path(const struct cgi_parameters *parameters)
{
	const char *uri = parameter(parameters, "REQUEST_URI");
	const char *script, *info;
	char *path;

	if (uri != NULL)
		return strndup(uri, strcspn(uri, "?"));
	script = parameter(parameters, "SCRIPT_NAME");
	info = parameter(parameters, "PATH_INFO");
	if (asprintf(&path, "%s%s", script ? script : "", info ? info : "") < 0)
		return NULL;
	return path;
}

int
cgi_request_from_environment(struct cgi_request *request, const char *program)
{
	struct cgi_parameters parameters = { environment_lookup, NULL };

	return cgi_request_from_parameters(request, program, &parameters);
}

int
cgi_request_from_parameters(struct cgi_request *request, const char *program,
    const struct cgi_parameters *parameters)
{
	const char *query = parameter(parameters, "QUERY_STRING");

	memset(request, 0, sizeof(*request));
	request->program = program;
	request->method = parameter(parameters, "REQUEST_METHOD");
	request->content_type = parameter(parameters, "CONTENT_TYPE");
	request->content_length = parameter(parameters, "CONTENT_LENGTH");
	request->query = query != NULL ? query : "";
	request->remote_address = parameter(parameters, "REMOTE_ADDR");
	request->forwarded_for = parameter(parameters, "HTTP_X_FORWARDED_FOR");
	request->origin = parameter(parameters, "HTTP_ORIGIN");
	request->fetch_site = parameter(parameters, "HTTP_SEC_FETCH_SITE");
	request->host = parameter(parameters, "HTTP_HOST");
	request->authorization = parameter(parameters, "HTTP_AUTHORIZATION");
	request->timestamp = parameter(parameters, "HTTP_X_TIMESTAMP");
	request->cookie = parameter(parameters, "HTTP_COOKIE");
	request->path_info = parameter(parameters, "PATH_INFO");
	request->remote_user = parameter(parameters, "REMOTE_USER");
	request->https = (parameter(parameters, "HTTPS") != NULL &&
	    strcasecmp(parameter(parameters, "HTTPS"), "off") != 0) ||
	    (parameter(parameters, "REQUEST_SCHEME") != NULL &&
	    strcasecmp(parameter(parameters, "REQUEST_SCHEME"), "https") == 0);
	if (request->method == NULL)
		request->method = "";
	if ((request->path = request_path(parameters)) == NULL)
		return -1;
	return 0;
}

void
cgi_request_free(struct cgi_request *request)
{
	free(request->path);
	free(request->body);
	request->path = request->body = NULL;
}

/* CONTENT_LENGTH as a number, digits only; -1 if malformed, LLONG_MAX if huge. */
static long long
parse_content_length(const char *text)
{
	long long value = 0;

	if (text == NULL || *text == '\0')
		return -1;
	for (; *text != '\0'; text++) {
		if (!isdigit((unsigned char)*text))
			return -1;
		if (value > (LLONG_MAX - 9) / 10)
			value = LLONG_MAX;
		else
			value = value * 10 + (*text - '0');
	}
	return value;
}

int
cgi_request_read_body(struct cgi_request *request, FILE *in, size_t cap,
    const char **why)
{
	long long length;

	if (request->content_length == NULL) {
		*why = "a body with Content-Length is required";
		return 411;
	}
	if ((length = parse_content_length(request->content_length)) < 0) {
		*why = "Content-Length is not a number";
		return 400;
	}
	if ((unsigned long long)length > cap) {
		*why = "body too large";
		return 413;
	}
	if (length == 0) {
		*why = "empty body";
		return 400;
	}
	if ((request->body = malloc((size_t)length + 1)) == NULL) {
		*why = "out of memory";
		return 500;
	}
	request->body_length = fread(request->body, 1, (size_t)length, in);
	request->body[request->body_length] = '\0';
	if (request->body_length != (size_t)length) {
		*why = "body shorter than Content-Length";
		return 400;
	}
	return 0;
}

/* Printable UTF-8 of 1 to max bytes: no control characters, no invalid bytes. */
int
cgi_text_ok(const char *text, size_t max)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char low, high;
	size_t length = strlen(text);
	int follow;

	if (length == 0 || length > max)
		return 0;
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80)
			continue;
		/* RFC 3629 table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF. */
		low = 0x80, high = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf)
			follow = 1;
		else if (*p >= 0xe0 && *p <= 0xef) {
			follow = 2;
			if (*p == 0xe0)
				low = 0xa0;
			else if (*p == 0xed)
				high = 0x9f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			follow = 3;
			if (*p == 0xf0)
				low = 0x90;
			else if (*p == 0xf4)
				high = 0x8f;
		} else
			return 0;
		if (p[1] < low || p[1] > high)
			return 0;
		for (p++, follow--; follow > 0; follow--)
			if ((*++p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* One code point of UTF-8 at text: -1 for an invalid sequence; *length its bytes (1 if invalid). */
static long
cgi_utf8_decode(const unsigned char *text, size_t *length)
{
	long code;
	size_t follow, i;

	*length = 1;
	if (text[0] < 0x80)
		return text[0];
	if (text[0] >= 0xc2 && text[0] <= 0xdf)
		follow = 1, code = text[0] & 0x1f;
	else if (text[0] >= 0xe0 && text[0] <= 0xef)
		follow = 2, code = text[0] & 0x0f;
	else if (text[0] >= 0xf0 && text[0] <= 0xf4)
		follow = 3, code = text[0] & 0x07;
	else
		return -1;
	for (i = 1; i <= follow; i++) {
		if ((text[i] & 0xc0) != 0x80)
			return -1;
		code = code << 6 | (text[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((follow == 2 && code < 0x800) || (follow == 3 && code < 0x10000) ||
	    (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
		return -1;
	*length = follow + 1;
	return code;
}

/*
 * Code points that change how text looks without being seen: controls (C0,
 * DEL, C1: U+009B is the 8-bit CSI of terminals), bidirectional embeddings,
 * overrides, isolates and marks, and invisible format characters.  The join
 * page's nameProblem() in htdocs/pinconf.js refuses the same list.
 */
static int
cgi_code_point_unsafe(long code)
{
	static const long ranges[][2] = {
		{ 0x0000, 0x001f }, { 0x007f, 0x009f }, { 0x00ad, 0x00ad }, { 0x061c, 0x061c },
		{ 0x180e, 0x180e }, { 0x200b, 0x200f }, { 0x2028, 0x202e }, { 0x2060, 0x206f },
		{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
	};
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (code >= ranges[i][0] && code <= ranges[i][1])
			return 1;
	return 0;
}

int
cgi_character_unsafe(const char *text, size_t *length, long *code)
{
	*code = cgi_utf8_decode((const unsigned char *)text, length);
	return *code < 0 || cgi_code_point_unsafe(*code);
}

int
cgi_name_ok(const char *name, size_t max_characters)
{
	size_t characters = 0, length;
	long code;

	if (!cgi_text_ok(name, max_characters * 4))
		return 0;
	for (; *name != '\0'; name += length, characters++)
		if (cgi_character_unsafe(name, &length, &code))
			return 0;
	return characters >= 1 && characters <= max_characters;
}

int
cgi_content_type_is(const struct cgi_request *request, const char *type)
{
	const char *value = request->content_type;
	size_t length = strlen(type);

	if (value == NULL || strncasecmp(value, type, length) != 0)
		return 0;
	value += length;
	while (*value == ' ' || *value == '\t')
		value++;
	return *value == '\0' || *value == ';';
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode %XX and '+' of a form value of length bytes; NULL on a bad escape or a NUL. */
static char *
url_decode(const char *text, size_t length)
{
	char *out, *p;
	size_t i;
	int high, low;

	if ((out = malloc(length + 1)) == NULL)
		return NULL;
	for (p = out, i = 0; i < length; i++) {
		if (text[i] == '+') {
			*p++ = ' ';
		} else if (text[i] != '%') {
			*p++ = text[i];
		} else if (i + 2 < length &&
		    (high = hex_value((unsigned char)text[i + 1])) >= 0 &&
		    (low = hex_value((unsigned char)text[i + 2])) >= 0 &&
		    (high | low) != 0) {
			*p++ = (char)(high << 4 | low);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	*p = '\0';
	return out;
}

char *
cgi_query_value(const struct cgi_request *request, const char *name)
{
	return cgi_form_value(request->query, name);
}

char *
cgi_form_value(const char *encoded, const char *name)
{
	const char *p = encoded, *end, *equals;
	size_t name_length = strlen(name);

	while (*p != '\0') {
		end = p + strcspn(p, "&;");
		equals = memchr(p, '=', (size_t)(end - p));
		if (equals != NULL && (size_t)(equals - p) == name_length &&
		    memcmp(p, name, name_length) == 0)
			return url_decode(equals + 1, (size_t)(end - equals - 1));
		p = *end != '\0' ? end + 1 : end;
	}
	return NULL;
}

void
cgi_response_init(struct cgi_response *response)
{
	memset(response, 0, sizeof(*response));
}

void
cgi_response_free(struct cgi_response *response)
{
	free(response->body);
	size_t i;

	free(response->extra_header);
	for (i = 0; i < CGI_OWNED_HEADERS_MAX; i++)
		free(response->owned_headers[i]);
	cgi_response_init(response);
}

int
cgi_response_add_header(struct cgi_response *response, const char *header)
{
	size_t i;

	for (i = 0; i < CGI_HEADERS_MAX; i++) {
		if (response->headers[i] == NULL) {
			response->headers[i] = header;
			return 0;
		}
	}
	/* A dropped header may be a security one: never send the rest without it. */
	response->headers_overflowed = 1;
	return -1;
}

int
cgi_response_add_owned_header(struct cgi_response *response, char *header)
{
	size_t i;

	for (i = 0; header != NULL && i < CGI_OWNED_HEADERS_MAX; i++) {
		if (response->owned_headers[i] == NULL) {
			response->owned_headers[i] = header;
			return 0;
		}
	}
	free(header);
	response->headers_overflowed = 1;
	return -1;
}

void
cgi_response_set_body(struct cgi_response *response, int status,
    const char *content_type, char *body)
{
	free(response->body);
	response->status = status;
	response->content_type = content_type;
	response->body = body;
	response->body_length = body != NULL ? strlen(body) : 0;
}

void
cgi_response_json_error(struct cgi_response *response, int status, const char *message)
{
	cJSON *object = cJSON_CreateObject();
	char *body = NULL;

	if (object != NULL && cJSON_AddStringToObject(object, "error", message) != NULL)
		body = cJSON_PrintUnformatted(object);
	cJSON_Delete(object);
	cgi_response_set_body(response, status, "application/json", body);
}

const char *
cgi_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int
cgi_response_write(const struct cgi_response *response, FILE *out)
{
	int status = response->status != 0 ? response->status : 500;
	size_t i;

	if (response->headers_overflowed) {
		fprintf(out, "Status: 500 %s\r\nContent-Length: 0\r\n\r\n", cgi_status_text(500));
		fflush(out);
		return -1;
	}
	fprintf(out, "Status: %d %s\r\n", status, cgi_status_text(status));
	if (response->content_type != NULL)
		fprintf(out, "Content-Type: %s\r\n", response->content_type);
	for (i = 0; i < CGI_HEADERS_MAX && response->headers[i] != NULL; i++)
		fprintf(out, "%s\r\n", response->headers[i]);
	if (response->extra_header != NULL)
		fprintf(out, "%s\r\n", response->extra_header);
	for (i = 0; i < CGI_OWNED_HEADERS_MAX && response->owned_headers[i] != NULL; i++)
		fprintf(out, "%s\r\n", response->owned_headers[i]);
	fprintf(out, "Content-Length: %zu\r\n\r\n", response->body_length);
	if (response->body_length > 0 && !response->omit_body)
		fwrite(response->body, 1, response->body_length, out);
	return fflush(out) == 0 ? 0 : -1;
}

void
cgi_log(const struct cgi_request *request, const char *format, ...)
{
	char line[1200], *p;
	va_list ap;

	va_start(ap, format);
	vsnprintf(line, sizeof(line), format, ap);
	va_end(ap);
	/* One line per event: a stray newline from input must not forge another. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "%s: %s\n", request->program, line);
	fflush(stderr);
}

void
cgi_log_refusal(const struct cgi_request *request, int status, const char *why)
{
	cgi_log(request, "%s %s: %d %s", request->method,
	    request->path != NULL ? request->path : "?", status, why);
}

void
cgi_refuse(const struct cgi_request *request, struct cgi_response *response,
    int status, const char *message, const char *why)
{
	cgi_log_refusal(request, status, why);
	cgi_response_json_error(response, status, message);
}

/*
 * RFC 3875 lets a script ignore the body, but Apache's mod_cgid resets the
 * connection when one is left unread, and the client never sees our 405 or
 * 413.  Read and discard what a refused request sent, up to a bound.
 */
void
cgi_request_drain(const struct cgi_request *request, FILE *in)
{
	char buffer[8192];
	long long left;

	if (request->body != NULL || request->content_length == NULL)
		return;
	if ((left = parse_content_length(request->content_length)) <= 0)
		return;
	if (left > CGI_DRAIN_MAX)
		left = CGI_DRAIN_MAX;
	while (left > 0) {
		size_t got = fread(buffer, 1, left < (long long)sizeof(buffer) ?
		    (size_t)left : sizeof(buffer), in);

		if (got == 0)
			break;
		left -= (long long)got;
	}
}

/* Origin's host[:port] part, or NULL if origin is not http(s)://host. */
static const char *
origin_host(const char *origin)
{
	if (strncasecmp(origin, "https://", 8) == 0)
		return origin + 8;
	if (strncasecmp(origin, "http://", 7) == 0)
		return origin + 7;
	return NULL;
}

int
cgi_cross_site(const struct cgi_request *request, const char **why)
{
	const char *host;

	/* Browsers send Sec-Fetch-Site; only our own pages may drive us. */
	if (request->fetch_site != NULL && strcmp(request->fetch_site, "same-origin") != 0 &&
	    strcmp(request->fetch_site, "none") != 0) {
		*why = "Sec-Fetch-Site is not same-origin";
		return 1;
	}
	if (request->origin == NULL)
		return 0;
	host = origin_host(request->origin);
	if (host == NULL || request->host == NULL || strcasecmp(host, request->host) != 0) {
		*why = "Origin is not this host";
		return 1;
	}
	return 0;
}

int
cgi_cross_site_origin(const struct cgi_request *request, const char *public_url,
    const char **why)
{
	if (public_url == NULL || *public_url == '\0')
		return cgi_cross_site(request, why);
	if (request->fetch_site != NULL && strcmp(request->fetch_site, "same-origin") != 0 &&
	    strcmp(request->fetch_site, "none") != 0) {
		*why = "Sec-Fetch-Site is not same-origin";
		return 1;
	}
	if (request->origin != NULL && strcasecmp(request->origin, public_url) != 0) {
		*why = "Origin is not public_url";
		return 1;
	}
	return 0;
}
