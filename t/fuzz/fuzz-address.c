/*
 * fuzz-address.c: trusted_proxies, REMOTE_ADDR and X-Forwarded-For.  Input:
 * the trusted list, REMOTE_ADDR, X-Forwarded-For, one a line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgi_request request;
	char *text = fuzz_string(data, size), *rest = text, *trusted;
	char client[ADDRESS_TEXT_MAX], key[ADDRESS_TEXT_MAX];

	if (text == NULL)
		return 0;
	memset(&request, 0, sizeof(request));
	trusted = fuzz_line(&rest);
	request.remote_address = fuzz_line(&rest);
	request.forwarded_for = fuzz_line(&rest);
	address_list_ok(trusted);
	if (address_client(&request, trusted, client) == 0) {
		/* What address_client() writes is an address, so it has a key. */
		if (strlen(client) >= ADDRESS_TEXT_MAX || address_guess_key(client, key) != 0)
			abort();
	}
	free(text);
	return 0;
}
