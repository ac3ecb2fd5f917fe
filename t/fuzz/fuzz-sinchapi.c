/* fuzz-sinchapi.c: Sinch's REST answers, as the pinconf command reads them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sinchapi.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sinchapi_participants participants;
	struct sinchapi_error error;
	char callid[SINCHAPI_ID_MAX + 1];
	const char *why = NULL;
	size_t i;

	/* Exactly size bytes, no NUL after them: the parsers must not read past. */
	memset(&participants, 0, sizeof(participants));
	if (sinchapi_parse_participants((const char *)data, size, &participants, &why) == 0) {
		if (participants.count > SINCHAPI_PARTICIPANTS_MAX)
			abort();
		for (i = 0; i < participants.count; i++)
			if (strlen(participants.list[i].callid) > SINCHAPI_ID_MAX ||
			    strlen(participants.list[i].cli) > SINCHAPI_ID_MAX)
				abort();
	}
	sinchapi_participants_free(&participants);
	if (sinchapi_parse_callout((const char *)data, size, callid, sizeof(callid)) == 0 &&
	    strlen(callid) >= sizeof(callid))
		abort();
	if (sinchapi_parse_error((const char *)data, size, &error) == 0 &&
	    strlen(error.message) >= sizeof(error.message))
		abort();
	return 0;
}
