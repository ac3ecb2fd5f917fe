/* unit-sinchapi.c: the parsers of Sinch's Calling API answers, on good and bad bodies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sinchapi.h"
#include "tap.h"

/* Parse text (without its NUL) as a participant list; the count, or -1 if refused. */
static int
participants(const char *text, struct sinchapi_participants *out)
{
	const char *why;

	if (sinchapi_parse_participants(text, strlen(text), out, &why) != 0)
		return -1;
	return (int)out->count;
}

static int
refused(const char *text)
{
	struct sinchapi_participants out;
	int rc = participants(text, &out);

	sinchapi_participants_free(&out);
	return rc == -1 && out.list == NULL && out.count == 0;
}

static void
test_participants_good(void)
{
	struct sinchapi_participants out;

	tap_ok(participants("{\"participants\":[{\"cli\":\"+46708168731\",\"id\":\"abc-1\","
	    "\"duration\":14,\"muted\":false,\"onhold\":true},{\"cli\":\"Alice\",\"callId\":\"c2\","
	    "\"duration\":3,\"muted\":true,\"onhold\":false}]}", &out) == 2,
	    "sinch_documented_participant_list_parses");
	tap_is(out.list[0].callid, "abc-1", "participant_id_is_the_call_id");
	tap_is(out.list[0].cli, "+46708168731", "participant_cli_is_kept");
	tap_ok(out.list[0].duration == 14, "participant_duration_is_seconds");
	tap_ok(!out.list[0].muted && out.list[0].onhold, "participant_muted_and_onhold_are_read");
	tap_is(out.list[1].callid, "c2", "participant_2015_callId_is_read_when_id_is_absent");
	tap_ok(out.list[1].muted && !out.list[1].onhold, "second_participant_flags_are_its_own");
	sinchapi_participants_free(&out);

	tap_ok(participants("{\"participants\":[]}", &out) == 0 && out.list == NULL,
	    "empty_participant_list_parses_as_none");
	sinchapi_participants_free(&out);
	tap_ok(participants("{\"participants\":[{\"id\":\"x\"}]}", &out) == 1 &&
	    out.list[0].duration == -1 && out.list[0].cli[0] == '\0',
	    "participant_with_only_an_id_has_unknown_duration_and_no_cli");
	sinchapi_participants_free(&out);
	tap_ok(participants("{\"participants\":[{\"id\":\"x\",\"cli\":\"a\\u0007b\"}]}", &out) == 1 &&
	    strcmp(out.list[0].cli, "ab") == 0, "control_characters_in_cli_are_dropped");
	sinchapi_participants_free(&out);
}

static void
test_participants_bad(void)
{
	char big[SINCHAPI_PARTICIPANTS_MAX * 12 + 64];
	size_t used;
	int i;

	tap_ok(refused(""), "empty_body_is_refused");
	tap_ok(refused("null"), "json_null_is_refused");
	tap_ok(refused("[]"), "array_body_is_refused");
	tap_ok(refused("{\"participants\":"), "truncated_json_is_refused");
	tap_ok(refused("{}"), "object_without_participants_is_refused");
	tap_ok(refused("{\"participants\":{}}"), "participants_not_an_array_is_refused");
	tap_ok(refused("{\"participants\":[1]}"), "participant_not_an_object_is_refused");
	tap_ok(refused("{\"participants\":[{\"cli\":\"+46\"}]}"), "participant_without_id_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"\"}]}"), "participant_with_empty_id_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"../x\"}]}"),
	    "participant_id_with_a_slash_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"a b\"}]}"),
	    "participant_id_with_a_space_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":7}]}"), "participant_numeric_id_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"x\",\"duration\":-1}]}"),
	    "negative_duration_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"x\",\"duration\":\"14\"}]}"),
	    "duration_as_text_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"x\",\"muted\":\"yes\"}]}"),
	    "muted_as_text_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"x\",\"cli\":5}]}"), "numeric_cli_is_refused");
	tap_ok(refused("{\"participants\":[{\"id\":\"x\"},{\"id\":null}]}"),
	    "a_bad_second_participant_refuses_the_whole_answer");

	used = (size_t)snprintf(big, sizeof(big), "{\"participants\":[");
	for (i = 0; i <= SINCHAPI_PARTICIPANTS_MAX; i++)
		used += (size_t)snprintf(big + used, sizeof(big) - used, "%s{\"id\":\"a\"}",
		    i > 0 ? "," : "");
	snprintf(big + used, sizeof(big) - used, "]}");
	tap_ok(refused(big), "more_participants_than_the_cap_are_refused");
}

static void
test_callout(void)
{
	char callid[SINCHAPI_ID_MAX + 1];
	char small[4];
	const char *body = "{\"callId\":\"4398599d1ba84a2b9c8b4e4c2f3a7e6d\"}";

	tap_ok(sinchapi_parse_callout(body, strlen(body), callid, sizeof(callid)) == 0,
	    "callout_answer_parses");
	tap_is(callid, "4398599d1ba84a2b9c8b4e4c2f3a7e6d", "callout_answer_gives_the_call_id");
	/* Only the first length bytes count: a valid answer cut short is refused. */
	tap_ok(sinchapi_parse_callout(body, 10, callid, sizeof(callid)) == -1 && *callid == '\0',
	    "callout_answer_cut_short_is_refused");
	tap_ok(sinchapi_parse_callout(body, strlen(body), small, sizeof(small)) == -1,
	    "callout_id_longer_than_the_buffer_is_refused");
	tap_ok(sinchapi_parse_callout("{}", 2, callid, sizeof(callid)) == -1,
	    "callout_answer_without_callId_is_refused");
	tap_ok(sinchapi_parse_callout("{\"callId\":42}", 13, callid, sizeof(callid)) == -1,
	    "callout_numeric_callId_is_refused");
	tap_ok(sinchapi_parse_callout("{\"callId\":\"a/b\"}", 16, callid, sizeof(callid)) == -1,
	    "callout_callId_with_a_slash_is_refused");
	tap_ok(sinchapi_parse_callout(NULL, 0, callid, sizeof(callid)) == -1,
	    "callout_without_body_is_refused");
	tap_ok(sinchapi_parse_callout("\"x\"", 3, callid, sizeof(callid)) == -1,
	    "callout_string_body_is_refused");
}

static void
test_error(void)
{
	struct sinchapi_error error;
	const char *body = "{\"errorCode\":40400,\"message\":\"Conference not found\",\"reference\":\"r1\"}";

	tap_ok(sinchapi_parse_error(body, strlen(body), &error) == 0 && error.code == 40400,
	    "error_body_gives_the_code");
	tap_is(error.message, "Conference not found", "error_body_gives_the_message");
	tap_ok(sinchapi_parse_error("{\"errorCode\":40102}", 19, &error) == 0 &&
	    error.code == 40102 && *error.message == '\0', "error_body_without_message_parses");
	tap_ok(sinchapi_parse_error("<html>", 6, &error) == -1 && error.code == 0,
	    "html_error_page_is_no_error_body");
	tap_ok(sinchapi_parse_error("{\"errorCode\":\"40400\"}", 21, &error) == -1 &&
	    error.code == 0, "error_code_as_text_is_refused");
	tap_ok(sinchapi_parse_error("{\"errorCode\":404.5}", 19, &error) == -1,
	    "fractional_error_code_is_refused");
	tap_ok(sinchapi_parse_error("{\"errorCode\":-1}", 16, &error) == -1,
	    "negative_error_code_is_refused");
	tap_ok(sinchapi_parse_error("", 0, &error) == -1, "empty_error_body_is_refused");
	tap_ok(sinchapi_parse_error("{\"message\":\"a\\nb\\u001b[31m\"}", 28, &error) == 0 &&
	    strcmp(error.message, "ab[31m") == 0, "control_characters_in_message_are_dropped");
}

int
main(void)
{
	test_participants_good();
	test_participants_bad();
	test_callout();
	test_error();
	return tap_done();
}
