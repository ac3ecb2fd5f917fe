/* fuzz.h: what every libFuzzer harness shares: the input as a NUL-terminated copy, split into lines. */
#ifndef PINCONF_FUZZ_H
#define PINCONF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a malloc'd C string (stopping at a NUL, as the CGIs' inputs do); NULL on ENOMEM. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text == NULL)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/* Cut the next line off *text (in place); NULL when none is left. */
static inline char *
fuzz_line(char **text)
{
	char *line = *text, *end;

	if (line == NULL)
		return NULL;
	if ((end = strchr(line, '\n')) != NULL) {
		*end = '\0';
		*text = end + 1;
	} else
		*text = NULL;
	return line;
}

#endif
