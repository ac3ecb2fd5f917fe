/* fuzz-phc.c: the PHC string parser (stored password hashes), checked by formatting back. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret_phc phc, again;
	char *text, formatted[SECRET_PHC_MAX * 2];

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (secret_phc_parse(text, &phc) == 0) {
		/* What parses is canonical: it formats to the same text, which parses the same. */
		if (secret_phc_format(&phc, formatted, sizeof(formatted)) != 0 ||
		    strcmp(formatted, text) != 0 || secret_phc_parse(formatted, &again) != 0 ||
		    memcmp(&phc, &again, sizeof(phc)) != 0)
			abort();
	}
	free(text);
	return 0;
}
