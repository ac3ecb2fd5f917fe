/* fuzz-utf8.c: cgi_text_ok() and cgi_name_ok(), the checks on every name, cli and value Sinch or a browser sends. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "fuzz.h"

/* A slow, obviously right decoder (RFC 3629): 1 if text is printable UTF-8. */
static int
reference_ok(const unsigned char *p)
{
	unsigned long code;
	int follow, i;

	for (; *p != '\0'; p += follow + 1) {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return 0;
			follow = 0;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			follow = 1, code = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			follow = 2, code = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			follow = 3, code = *p & 0x07;
		else
			return 0;
		for (i = 1; i <= follow; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			code = code << 6 | (p[i] & 0x3f);
		}
		if ((follow == 1 && code < 0x80) || (follow == 2 && code < 0x800) ||
		    (follow == 3 && code < 0x10000) || code > 0x10ffff ||
		    (code >= 0xd800 && code <= 0xdfff))
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	const char *p;
	size_t length, step;
	long code;

	if (text == NULL)
		return 0;
	length = strlen(text);
	if (cgi_text_ok(text, 64) != (length >= 1 && length <= 64 &&
	    reference_ok((const unsigned char *)text)))
		abort();
	/* A name is text; walking it character by character stays inside it. */
	if (cgi_name_ok(text, 64) && !cgi_text_ok(text, 256))
		abort();
	for (p = text; *p != '\0'; p += step)
		if ((cgi_character_unsafe(p, &step, &code) && code >= 0x20 && code < 0x7f) ||
		    step < 1 || step > 4 || step > strlen(p))
			abort();
	free(text);
	return 0;
}
