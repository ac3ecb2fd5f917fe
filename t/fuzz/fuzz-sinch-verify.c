/*
 * fuzz-sinch-verify.c: the Authorization and X-Timestamp headers and the
 * signature over a request.  Input: a flag byte line (accept Basic if it
 * starts with 1), Authorization, X-Timestamp, path, Content-Type, then the body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "sinch.h"

#define KEY	"5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7b"
#define SECRET	"zLq1b3hJ9kQ2Zk5tM0c3dA=="

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgi_request request;
	struct config config;
	char *text = fuzz_string(data, size), *rest = text, *flags;
	char key[] = KEY, secret[] = SECRET;
	const char *why = NULL;

	if (text == NULL)
		return 0;
	memset(&config, 0, sizeof(config));
	memset(&request, 0, sizeof(request));
	config.application_key = key;
	config.application_secret = secret;
	config.timestamp_window = 600;
	if (base64_decode(secret, strlen(secret), &config.secret, &config.secret_length) != 0)
		abort();
	flags = fuzz_line(&rest);
	config.accept_basic_auth = flags != NULL && flags[0] == '1';
	request.program = "fuzz-sinch-verify";
	request.method = "POST";
	request.authorization = fuzz_line(&rest);
	request.timestamp = fuzz_line(&rest);
	request.path = fuzz_line(&rest);
	request.content_type = fuzz_line(&rest);
	request.body = rest;
	request.body_length = rest != NULL ? strlen(rest) : 0;
	if (request.path == NULL)
		request.path = (char *)"/cgi-bin/callback.cgi";
	/* 2026-11-24T10:00:00Z, so that seeds with that X-Timestamp reach the MAC. */
	if (sinch_verify_request(&config, &request, 1795514400, &why) != 0 && why == NULL)
		abort();
	free(config.secret);
	free(text);
	return 0;
}
