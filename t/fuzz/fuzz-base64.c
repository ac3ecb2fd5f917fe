/* fuzz-base64.c: base64 decoding (the secret, Basic credentials), checked by encoding back. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *decoded = NULL;
	char *again;
	size_t length;

	if (base64_decode((const char *)data, size, &decoded, &length) != 0)
		return 0;
	/* Whatever decodes must encode to bytes that decode to the same. */
	if ((again = base64_encode(decoded, length)) != NULL) {
		unsigned char *twice = NULL;
		size_t twice_length;

		if (base64_decode(again, strlen(again), &twice, &twice_length) != 0 ||
		    twice_length != length || memcmp(twice, decoded, length) != 0)
			abort();
		free(twice);
		free(again);
	}
	free(decoded);
	return 0;
}
