/* unit-cgi.c: cgi.c's parsers: UTF-8 text (RFC 3629 edge cases), query values, content types. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "tap.h"

static void
test_text(void)
{
	static const struct {
		const char	*text;
		int		 ok;
		const char	*name;
	} cases[] = {
		{ "Ann", 1, "plain ASCII is text" },
		{ "Ann\xc3\xa9", 1, "two-byte UTF-8 (e acute) is text" },
		{ "\xe2\x82\xac", 1, "three-byte UTF-8 (euro sign) is text" },
		{ "\xf0\x9f\x98\x80", 1, "four-byte UTF-8 (emoji) is text" },
		{ "\xef\xbf\xbd", 1, "U+FFFD is text" },
		{ "\xf4\x8f\xbf\xbf", 1, "U+10FFFF, the last code point, is text" },
		{ "", 0, "empty text is refused" },
		{ "a\tb", 0, "a tab is refused" },
		{ "a\nb", 0, "a newline is refused" },
		{ "a\x7f", 0, "DEL is refused" },
		{ "\xc0\xaf", 0, "an overlong two-byte slash is refused" },
		{ "\xc1\xbf", 0, "C1 lead bytes are refused" },
		{ "\xe0\x80\xaf", 0, "an overlong three-byte slash is refused" },
		{ "\xed\xa0\x80", 0, "a UTF-16 surrogate is refused" },
		{ "\xf0\x80\x80\xaf", 0, "an overlong four-byte slash is refused" },
		{ "\xf4\x90\x80\x80", 0, "a code point past U+10FFFF is refused" },
		{ "\xf5\x80\x80\x80", 0, "lead byte F5 is refused" },
		{ "\xff", 0, "byte FF is refused" },
		{ "\x80", 0, "a lone continuation byte is refused" },
		{ "\xc3", 0, "a truncated sequence at the end is refused" },
		{ "\xe2\x82", 0, "a truncated three-byte sequence is refused" },
		{ "\xe2\x28\xa1", 0, "a sequence broken by ASCII is refused" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(cgi_text_ok(cases[i].text, 64) == cases[i].ok, cases[i].name);
	tap_ok(cgi_text_ok("abcd", 4), "text of exactly max bytes is accepted");
	tap_ok(!cgi_text_ok("abcde", 4), "text over max bytes is refused");
}

/* Issue 20: the name rule of getticket.cgi and the page; pinconf escapes the same characters. */
static void
test_name(void)
{
	static const struct {
		const char	*text;
		int		 ok;
		const char	*name;
	} cases[] = {
		{ "Anna Svensson", 1, "a plain name is a name" },
		{ "\xc3\x85sa \xd7\xa9\xd7\x9c", 1, "Swedish and Hebrew letters are a name" },
		{ "\xf0\x9f\x98\x80", 1, "an emoji is a name" },
		{ "Eve\xc2\x9b" "2J", 0, "U+009B (8-bit CSI) is refused" },
		{ "Eve\xc2\x80", 0, "U+0080, the first C1 control, is refused" },
		{ "Eve\xc2\x9f", 0, "U+009F, the last C1 control, is refused" },
		{ "Eve\xc2\xa0x", 1, "U+00A0, just past C1, is allowed" },
		{ "E\xc2\xadve", 0, "U+00AD soft hyphen is refused" },
		{ "\xd8\x9c" "Eve", 0, "U+061C Arabic letter mark is refused" },
		{ "Eve\xe2\x80\x8b", 0, "U+200B zero-width space is refused" },
		{ "Eve\xe2\x80\x8f", 0, "U+200F right-to-left mark is refused" },
		{ "Eve\xe2\x80\xae", 0, "U+202E right-to-left override is refused" },
		{ "Eve\xe2\x81\xa6x", 0, "U+2066 left-to-right isolate is refused" },
		{ "Eve\xe2\x81\xa0", 0, "U+2060 word joiner is refused" },
		{ "Eve\xef\xbb\xbf", 0, "U+FEFF byte order mark is refused" },
		{ "Eve\xf3\xa0\x81\x81", 0, "U+E0041, a tag character, is refused" },
		{ "Eve\xe2\x80\x90", 1, "U+2010 hyphen, beside the refused range, is allowed" },
	};
	size_t i, length;
	long code;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(cgi_name_ok(cases[i].text, 64) == cases[i].ok, cases[i].name);
	tap_ok(cgi_name_ok("\xc3\xa9\xc3\xa9", 2) && !cgi_name_ok("\xc3\xa9\xc3\xa9\xc3\xa9", 2),
	    "a name's length counts characters, not bytes");
	tap_ok(cgi_character_unsafe("\xc3", &length, &code) && length == 1 && code == -1,
	    "a truncated sequence is one unsafe byte");
	tap_ok(cgi_character_unsafe("\x1b[", &length, &code) && length == 1 && code == 0x1b,
	    "ESC is unsafe");
	tap_ok(!cgi_character_unsafe("\xe2\x82\xac", &length, &code) && length == 3 && code == 0x20ac,
	    "the euro sign is three safe bytes");
}

static void
test_query(void)
{
	struct cgi_request request;
	char *value;

	memset(&request, 0, sizeof(request));
	request.query = "id=Ann+Lee%40example.com&pin=4321&empty=&x";
	value = cgi_query_value(&request, "id");
	tap_is(value, "Ann Lee@example.com", "+ and %40 are decoded");
	free(value);
	value = cgi_query_value(&request, "pin");
	tap_is(value, "4321", "the second parameter is found");
	free(value);
	value = cgi_query_value(&request, "empty");
	tap_is(value, "", "an empty value is the empty string");
	free(value);
	tap_ok(cgi_query_value(&request, "x") == NULL, "a name without = has no value");
	tap_ok(cgi_query_value(&request, "missing") == NULL, "a missing name has no value");
	tap_ok(cgi_query_value(&request, "pi") == NULL, "a prefix of a name does not match");
	request.query = "id=a%00b";
	tap_ok(cgi_query_value(&request, "id") == NULL, "an encoded NUL is refused");
	request.query = "id=a%4";
	tap_ok(cgi_query_value(&request, "id") == NULL, "a truncated escape is refused");
	request.query = "id=a%zz";
	tap_ok(cgi_query_value(&request, "id") == NULL, "a bad escape is refused");
}

static void
test_content_type(void)
{
	struct cgi_request request;

	memset(&request, 0, sizeof(request));
	request.content_type = "application/json";
	tap_ok(cgi_content_type_is(&request, "application/json"), "application/json matches");
	request.content_type = "Application/JSON; charset=utf-8";
	tap_ok(cgi_content_type_is(&request, "application/json"), "case and a charset do not matter");
	request.content_type = "application/jsonp";
	tap_ok(!cgi_content_type_is(&request, "application/json"), "application/jsonp does not match");
	request.content_type = "text/plain";
	tap_ok(!cgi_content_type_is(&request, "application/json"), "text/plain does not match");
	request.content_type = NULL;
	tap_ok(!cgi_content_type_is(&request, "application/json"), "no content type does not match");
}

/* What cgi_response_write() puts out, as a string; caller frees. */
static char *
written(const struct cgi_response *response, int *rc)
{
	char *text = NULL;
	size_t length;
	FILE *out = open_memstream(&text, &length);

	*rc = cgi_response_write(response, out);
	fclose(out);
	return text;
}

static void
test_response(void)
{
	struct cgi_response response;
	char *text;
	int i, rc, all = 1;

	cgi_response_init(&response);
	for (i = 0; i < 7; i++)
		all &= cgi_response_add_header(&response, "X-Seven: 7") == 0;
	tap_ok(all, "seven headers fit");
	cgi_response_set_body(&response, 200, "text/plain", strdup("hello"));
	text = written(&response, &rc);
	tap_ok(rc == 0 && text != NULL && strstr(text, "X-Seven: 7\r\nX-Seven: 7\r\nX-Seven: 7\r\n"
	    "X-Seven: 7\r\nX-Seven: 7\r\nX-Seven: 7\r\nX-Seven: 7\r\n") != NULL,
	    "a seventh header is written, not dropped");
	free(text);
	for (; i < CGI_HEADERS_MAX; i++)
		cgi_response_add_header(&response, "X-More: 1");
	tap_ok(cgi_response_add_header(&response, "X-Too-Many: 1") == -1,
	    "a header past CGI_HEADERS_MAX is refused with -1");
	text = written(&response, &rc);
	tap_ok(rc == -1 && text != NULL && strncmp(text, "Status: 500 ", 12) == 0 &&
	    strstr(text, "hello") == NULL, "a response that lost a header is written as a bare 500");
	free(text);
	cgi_response_free(&response);

	cgi_response_init(&response);
	cgi_response_set_body(&response, 200, "text/html", strdup("<p>page</p>"));
	response.omit_body = 1;
	text = written(&response, &rc);
	tap_ok(rc == 0 && text != NULL && strstr(text, "Content-Length: 11\r\n\r\n") != NULL &&
	    strstr(text, "page") == NULL, "HEAD: the Content-Length of the body, and no body");
	free(text);
	cgi_response_free(&response);
}

int
main(void)
{
	test_text();
	test_name();
	test_query();
	test_content_type();
	test_response();
	return tap_done();
}
