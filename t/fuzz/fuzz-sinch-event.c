/* fuzz-sinch-event.c: a callback body, through the parser that runs after the signature check. */
#include "config.h"

#include "fuzz.h"
#include "sinch.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sinch_event event;
	int rc = sinch_event_parse(&event, (const char *)data, size);

	/* Only a known event may be reported as badly shaped. */
	if (rc == -2 && (int)event.type > SINCH_NOTIFY)
		__builtin_trap();
	sinch_event_free(&event);
	return 0;
}
