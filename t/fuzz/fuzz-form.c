/* fuzz-form.c: URL-encoded text, as a query string and as a form body. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "fuzz.h"

static const char *const names[] = { "pin", "id", "name", "", "p%69n" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgi_request request;
	char *text = fuzz_string(data, size), *value;
	size_t i;

	if (text == NULL)
		return 0;
	memset(&request, 0, sizeof(request));
	request.query = text;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((value = cgi_query_value(&request, names[i])) != NULL) {
			/* A decoded value holds no NUL: the decoder refuses %00. */
			if (strlen(value) > size)
				abort();
			free(value);
		}
		free(cgi_form_value(text, names[i]));
	}
	free(text);
	return 0;
}
