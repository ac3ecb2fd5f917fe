/* unit-sinch.c: sinch.c against Sinch's own examples: signatures, tickets, events, SVAML. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "crypto.h"
#include "sinch.h"
#include "tap.h"

#define DOC_KEY		"669E367E-6BBA-48AB-AF15-266871C28135"
#define DOC_SECRET	"BeIukql3pTKJ8RGL5zo0DA=="
#define DOC_BODY	"{\"event\":\"ace\",\"callid\":\"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257\"," \
			"\"timestamp\":\"2014-09-24T10:59:41Z\",\"version\":1}"
#define KEY		"5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7b"
#define SECRET		"zLq1b3hJ9kQ2Zk5tM0c3dA=="
#define ICE_BODY	"{\"event\":\"ice\",\"callid\":\"4398599d1ba84a2b9c8b4e4c2f3a7e6d\"," \
			"\"timestamp\":\"2026-11-24T10:00:00Z\",\"version\":1,\"cli\":\"46700000000\"," \
			"\"to\":{\"type\":\"did\",\"endpoint\":\"+14158544909\"},\"domain\":\"pstn\"," \
			"\"applicationKey\":\"" KEY "\",\"originationType\":\"PSTN\"}"
#define ICE_SIGNATURE	"lX0Nq+dqr41dGIjQUZuEIz6aTV60PROEH0Olucvt3p4="

static void
make_config(struct config *config, const char *key, const char *secret)
{
	memset(config, 0, sizeof(*config));
	config->application_key = strdup(key);
	config->application_secret = strdup(secret);
	base64_decode(secret, strlen(secret), &config->secret, &config->secret_length);
	config->timestamp_window = 600;
}

static void
free_config(struct config *config)
{
	free(config->application_key);
	free(config->application_secret);
	free(config->secret);
}

static time_t
utc(const char *text)
{
	time_t when = 0;

	clock_parse_utc(text, &when);
	return when;
}

static void
test_signature_vectors(void)
{
	struct config config;
	char *signature;

	make_config(&config, DOC_KEY, DOC_SECRET);
	signature = sinch_signature(config.secret, config.secret_length, "POST",
	    "application/json", "2014-09-24T10:59:41Z", "/sinch/callback/ace",
	    DOC_BODY, strlen(DOC_BODY));
	tap_is(signature, "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4=",
	    "Sinch documentation's ACE example signs as documented");
	free(signature);
	free_config(&config);

	make_config(&config, KEY, SECRET);
	signature = sinch_signature(config.secret, config.secret_length, "POST",
	    "application/json; charset=utf-8", "2026-11-24T10:00:00.123Z",
	    "/cgi-bin/callback.cgi", ICE_BODY, strlen(ICE_BODY));
	tap_is(signature, ICE_SIGNATURE, "Sinch signer's ICE example signs as documented");
	free(signature);
	free_config(&config);
}

static struct cgi_request
ice_request(const char *authorization, const char *timestamp)
{
	static char body[] = ICE_BODY;
	static char path[] = "/cgi-bin/callback.cgi";
	struct cgi_request request;

	memset(&request, 0, sizeof(request));
	request.program = "unit-sinch";
	request.method = "POST";
	request.content_type = "application/json; charset=utf-8";
	request.path = path;
	request.body = body;
	request.body_length = strlen(body);
	request.authorization = authorization;
	request.timestamp = timestamp;
	return request;
}

/* Sinch's JWT example (sinch-api.md section 4b), byte for byte. */
static void
test_registration_jwt_vector(void)
{
	struct config config;
	char *jwt, *id, *other, *nonce;
	size_t i;
	int ok;

	make_config(&config, "a32e5a8d-f7d8-411c-9645-9038e8dd051d", "ax8hTTQJF0OPXL32r1LHMA==");
	jwt = sinch_registration_jwt(&config, "foo", 1514862245, 600,
	    "6b438bda-2d5c-4e8c-92b0-39f20a94b34e");
	tap_is(jwt, "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhrZGZ2MS0yMDE4MDEwMiJ9."
	    "eyJleHAiOjE1MTQ4NjI4NDUsImlhdCI6MTUxNDg2MjI0NSwiaXNzIjoiLy9ydGMuc2luY2guY29tL2FwcGxp"
	    "Y2F0aW9ucy9hMzJlNWE4ZC1mN2Q4LTQxMWMtOTY0NS05MDM4ZThkZDA1MWQiLCJub25jZSI6IjZiNDM4YmRh"
	    "LTJkNWMtNGU4Yy05MmIwLTM5ZjIwYTk0YjM0ZSIsInN1YiI6Ii8vcnRjLnNpbmNoLmNvbS9hcHBsaWNhdGlv"
	    "bnMvYTMyZTVhOGQtZjdkOC00MTFjLTk2NDUtOTAzOGU4ZGQwNTFkL3VzZXJzL2ZvbyJ9."
	    "10N-QAvRK0-dacox5X5YusK7C0AWb-kZLiNNTKLQw8I", "Sinch's registration JWT for foo");
	free(jwt);
	/* One second before midnight and at midnight sign with different day keys. */
	jwt = sinch_registration_jwt(&config, "foo", 1514937599, 600, "n");
	other = sinch_registration_jwt(&config, "foo", 1514937600, 600, "n");
	tap_ok(jwt != NULL && other != NULL && strstr(jwt, "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhrZGZ2MS0yMDE4MDEwMiJ9.") == jwt &&
	    strstr(other, "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhrZGZ2MS0yMDE4MDEwMyJ9.") == other,
	    "the kid names the UTC day of iat");
	free(jwt);
	free(other);
	free_config(&config);

	id = sinch_new_user_id();
	other = sinch_new_user_id();
	tap_ok(id != NULL && other != NULL && strcmp(id, other) != 0, "two user ids differ");
	tap_ok(id != NULL && strncmp(id, "u-", 2) == 0 && strlen(id) == 24 && sinch_user_id_ok(id),
	    "a user id is u- and 22 base64url characters (128 random bits)");
	ok = 1;
	for (i = 0; id != NULL && id[i] != '\0'; i++)
		if (id[i] == '+' || id[i] == '/' || id[i] == '=')
			ok = 0;
	tap_ok(ok, "a user id has no + / or padding");
	free(id);
	free(other);
	nonce = sinch_new_nonce();
	tap_ok(nonce != NULL && strlen(nonce) == 32, "a nonce is 32 hex digits");
	free(nonce);
	tap_ok(!sinch_user_id_ok("") && !sinch_user_id_ok("Ann Smith") && !sinch_user_id_ok("a@b") &&
	    sinch_user_id_ok("abc-_=XYZ09"), "user ids: only A-Z a-z 0-9 - _ =, at least one");
}

static int
verifies(const struct config *config, const char *authorization, const char *timestamp,
    time_t now, const char *path)
{
	struct cgi_request request = ice_request(authorization, timestamp);
	const char *why;
	char copy[64];

	if (path != NULL) {
		snprintf(copy, sizeof(copy), "%s", path);
		request.path = copy;
	}
	return sinch_verify_request(config, &request, now, &why) == 0;
}

static void
test_verify_request(void)
{
	const char *stamp = "2026-11-24T10:00:00.123Z";
	time_t now = utc("2026-11-24T10:01:00Z");
	struct config config;
	char *basic;

	make_config(&config, KEY, SECRET);
	tap_ok(verifies(&config, "Application " KEY ":" ICE_SIGNATURE, stamp, now, NULL),
	    "the ICE example verifies");
	tap_ok(verifies(&config, "application " KEY ":" ICE_SIGNATURE, stamp, now, NULL),
	    "the scheme word is accepted in lower case");
	tap_ok(verifies(&config, "APPLICATION " KEY ":" ICE_SIGNATURE, stamp, now, NULL),
	    "the scheme word is accepted in upper case");
	tap_ok(!verifies(&config, NULL, stamp, now, NULL), "no Authorization is refused");
	tap_ok(!verifies(&config, "Application " KEY ":" "lX0Nq+dqr41dGIjQUZuEIz6aTV60PROEH0Olucvt3p5=",
	    stamp, now, NULL), "a signature one bit off is refused");
	tap_ok(!verifies(&config, "Application 5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7c:" ICE_SIGNATURE,
	    stamp, now, NULL), "another application key is refused");
	tap_ok(!verifies(&config, "Application " KEY ":" ICE_SIGNATURE, "2026-11-24T10:00:00.124Z",
	    now, NULL), "a changed X-Timestamp breaks the signature");
	tap_ok(!verifies(&config, "Application " KEY ":" ICE_SIGNATURE, NULL, now, NULL),
	    "a missing X-Timestamp is refused");
	tap_ok(!verifies(&config, "Application " KEY ":" ICE_SIGNATURE, stamp, now,
	    "/cgi-bin/other.cgi"), "a signature for another path is refused");
	tap_ok(!verifies(&config, "Application " KEY ":" ICE_SIGNATURE, stamp,
	    utc("2026-11-24T10:10:01Z"), NULL), "a timestamp older than the window is a replay");
	tap_ok(!verifies(&config, "Application " KEY ":" ICE_SIGNATURE, stamp,
	    utc("2026-11-24T09:49:59Z"), NULL), "a timestamp from the future is refused");
	tap_ok(verifies(&config, "Application " KEY ":" ICE_SIGNATURE, stamp,
	    utc("2026-11-24T10:10:00Z"), NULL), "a timestamp at the window's edge is accepted");
	tap_ok(!verifies(&config, "Bearer " KEY ":" ICE_SIGNATURE, stamp, now, NULL),
	    "an unknown scheme is refused");
	tap_ok(!verifies(&config, "Application " ICE_SIGNATURE, stamp, now, NULL),
	    "credentials without a key are refused");

	basic = base64_encode(KEY ":" SECRET, strlen(KEY ":" SECRET));
	{
		char header[128];

		snprintf(header, sizeof(header), "Basic %s", basic);
		tap_ok(!verifies(&config, header, NULL, now, NULL),
		    "Basic key:secret is refused by default (accept_basic_auth = no)");
		snprintf(header, sizeof(header), "basic %s", basic);
		tap_ok(!verifies(&config, header, NULL, now, NULL),
		    "basic in lower case is refused by default");
		config.accept_basic_auth = 1;
		snprintf(header, sizeof(header), "Basic %s", basic);
		tap_ok(verifies(&config, header, NULL, now, NULL),
		    "with accept_basic_auth, Basic key:secret is accepted");
		snprintf(header, sizeof(header), "basic %s", basic);
		tap_ok(verifies(&config, header, NULL, now, NULL),
		    "with accept_basic_auth, basic in lower case is accepted");
	}
	free(basic);
	basic = base64_encode(KEY ":" "zLq1b3hJ9kQ2Zk5tM0c3dB==", strlen(KEY ":" SECRET));
	{
		char header[128];

		snprintf(header, sizeof(header), "Basic %s", basic);
		tap_ok(!verifies(&config, header, NULL, now, NULL),
		    "with accept_basic_auth, Basic with a wrong secret is refused");
	}
	free(basic);
	tap_ok(!verifies(&config, "Basic !!!!", NULL, now, NULL), "with accept_basic_auth, Basic that is not base64 is refused");
	free_config(&config);
}

static void
test_user_ticket_vector(void)
{
	struct config config;
	char *ticket;

	make_config(&config, KEY, SECRET);
	ticket = sinch_user_ticket(&config, "alice@example.com", utc("2026-11-24T10:00:00Z"), 0, 86400);
	tap_is(ticket, "eyJhcHBsaWNhdGlvbktleSI6IjViMGYzYTRlLTljMWQtNGUyZi04YTdiLTJjM2Q0ZTVmNmE3YiIs"
	    "ImlkZW50aXR5Ijp7InR5cGUiOiJ1c2VybmFtZSIsImVuZHBvaW50IjoiYWxpY2VAZXhhbXBsZS5jb20ifSwiY3Jl"
	    "YXRlZCI6IjIwMjYtMTEtMjRUMTA6MDA6MDAuMDAwWiIsImV4cGlyZXNJbiI6ODY0MDB9:"
	    "ts2iPNpzAQm3f74Tcs6BpgeUWyWzGiUcNKBEV+3w0bk=", "sinch-ticketgen's ticket for alice");
	free(ticket);
	free_config(&config);
}

static int
parses(const char *body, struct sinch_event *event)
{
	int rc = sinch_event_parse(event, body, strlen(body));

	return rc == 0;
}

static void
test_event_parsing(void)
{
	static const struct {
		const char	*body;
		int		 rc;		/* 0, -1 no event, -2 a known event badly shaped */
		int		 type;
		const char	*name;
	} cases[] = {
		{ ICE_BODY, 0, SINCH_ICE, "the documented phone ICE parses" },
		{ "{\"event\":\"pie\",\"callid\":\"c1\",\"menuResult\":{\"menuId\":\"main\","
		  "\"type\":\"sequence\",\"value\":\"4321\",\"inputMethod\":\"dtmf\"}}", 0, SINCH_PIE,
		  "the documented PIE parses" },
		{ "{\"event\":\"ace\",\"callid\":\"c1\"}", 0, SINCH_ACE, "a bare ACE parses" },
		{ "{\"event\":\"dice\",\"callid\":\"c1\",\"reason\":\"CALLERHANGUP\","
		  "\"result\":\"ANSWERED\",\"duration\":42}", 0, SINCH_DICE, "a DiCE parses" },
		{ "{\"event\":\"notify\",\"type\":\"recording\"}", 0, SINCH_NOTIFY, "notify needs no callid" },
		{ "[1,2]", -1, -1, "an array is refused" },
		{ "{\"event\":\"ace\",\"callid\":\"c1\"} x", -1, -1, "trailing bytes are refused" },
		{ "{\"event\":\"ace\",\"callid\":\"c1\"", -1, -1, "truncated JSON is refused" },
		{ "{\"callid\":\"c1\"}", -1, -1, "a missing event is refused" },
		{ "{\"event\":\"bogus\",\"callid\":\"c1\"}", -1, -1, "an unknown event is refused" },
		{ "{\"event\":42,\"callid\":\"c1\"}", -1, -1, "a numeric event is refused" },
		{ "{\"event\":\"ace\"}", -2, SINCH_ACE, "an ACE without callid is refused" },
		{ "{\"event\":\"ace\",\"callid\":7}", -2, SINCH_ACE, "a numeric callid is refused" },
		{ "{\"event\":\"ace\",\"callid\":\"a b\"}", -2, SINCH_ACE, "a callid with a space is refused" },
		{ "{\"event\":\"ice\",\"callid\":\"c1\"}", -2, SINCH_ICE, "an ICE without originationType is refused" },
		{ "{\"event\":\"ice\",\"callid\":\"c1\",\"originationType\":\"MXP\"}", -2, SINCH_ICE,
		  "a browser ICE without a destination is refused" },
		{ "{\"event\":\"ice\",\"callid\":\"c1\",\"originationType\":\"PSTN\",\"cli\":[1]}", -2, SINCH_ICE,
		  "a cli that is not a string is refused" },
		{ "{\"event\":\"ice\",\"callid\":\"c1\",\"originationType\":\"PSTN\",\"cli\":\"a\\u0001b\"}", -2, SINCH_ICE,
		  "a cli with a control character is refused" },
		{ "{\"event\":\"ice\",\"callid\":\"c1\",\"originationType\":\"mxp\",\"to\":\"4321\"}", -2, SINCH_ICE,
		  "a destination that is not an object is refused" },
		{ "{\"event\":\"pie\",\"callid\":\"c1\"}", -2, SINCH_PIE, "a PIE without menuResult is refused" },
		{ "{\"event\":\"pie\",\"callid\":\"c1\",\"menuResult\":{\"value\":\"1\"}}", -2, SINCH_PIE,
		  "a menuResult without type is refused" },
		{ "{\"event\":\"dice\",\"callid\":\"c1\",\"duration\":\"long\"}", -2, SINCH_DICE,
		  "a DiCE with a text duration is refused" },
		{ "{\"event\":\"dice\",\"callid\":\"c1\",\"duration\":-5}", -2, SINCH_DICE,
		  "a DiCE with a negative duration is refused" },
	};
	struct sinch_event event;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = sinch_event_parse(&event, cases[i].body, strlen(cases[i].body));
		tap_ok(rc == cases[i].rc && (rc == -1 || (int)event.type == cases[i].type),
		    cases[i].name);
		if (rc != 0 && event.why[0] == '\0')
			tap_ok(0, "a refusal says why");
		sinch_event_free(&event);
	}
	parses("{\"event\":\"ice\",\"callid\":\"c1\",\"originationType\":\"mxp\","
	    "\"cli\":\"cli-name\",\"user\":\"Ann\",\"to\":{\"type\":\"conference\",\"endpoint\":\"4321\"}}",
	    &event);
	tap_ok(event.from_browser, "lower-case mxp is a browser");
	tap_is(event.caller, "Ann", "a browser's caller is user when present");
	tap_is(event.to_endpoint, "4321", "a browser's destination is its endpoint");
	sinch_event_free(&event);
	parses("{\"event\":\"ice\",\"callid\":\"c1\",\"originationType\":\"MXP\",\"cli\":\"Bob\","
	    "\"to\":{\"type\":\"conference\",\"endpoint\":\"4321\"}}", &event);
	tap_is(event.caller, "Bob", "without user, a browser's caller is cli");
	sinch_event_free(&event);
}

/* The SVAML of a runMenu for pin_length digits, as text; the caller frees it. */
static char *
run_menu_text(const struct config *config, int pin_length)
{
	cJSON *svaml = svaml_new();
	char *text = NULL;

	if (svaml != NULL && svaml_run_menu(svaml, config, pin_length) == 0)
		text = svaml_print(svaml);
	cJSON_Delete(svaml);
	return text;
}

static void
test_svaml_shapes(void)
{
	struct config config;
	cJSON *svaml;
	char *text;

	memset(&config, 0, sizeof(config));
	config.prompt_pin = "Enter 4 digit pin";
	config.locale = "en-US";
	config.menu_timeout = 30;
	text = run_menu_text(&config, 4);
	tap_is(text, "{\"action\":{\"name\":\"runMenu\",\"locale\":\"en-US\",\"mainMenu\":\"main\","
	    "\"menus\":[{\"id\":\"main\",\"mainPrompt\":\"#tts[Enter 4 digit pin]\","
	    "\"repeatPrompt\":\"#tts[Enter 4 digit pin]\",\"repeats\":3,\"maxDigits\":4,"
	    "\"timeoutMills\":30000}]}}", "runMenu is one main menu with a 30 s timeout");
	free(text);

	config.prompt_pin = "";
	text = run_menu_text(&config, 6);
	tap_ok(text != NULL && strstr(text, "\"mainPrompt\":\"#tts[Enter 6 digit pin]\"") != NULL &&
	    strstr(text, "\"maxDigits\":6") != NULL,
	    "without prompt_pin the prompt asks for pin_length digits");
	free(text);
	config.prompt_pin = "Your code please";
	text = run_menu_text(&config, 6);
	tap_ok(text != NULL && strstr(text, "\"mainPrompt\":\"#tts[Your code please]\"") != NULL,
	    "a configured prompt_pin is said as it is");
	free(text);
	config.prompt_pin = "Enter 4 digit pin";

	svaml = svaml_new();
	svaml_say(svaml, ", Welcome to the conference", "en-US");
	svaml_connect_conference(svaml, "pinconf-1", "46700000000", "ring");
	text = svaml_print(svaml);
	tap_is(text, "{\"instructions\":[{\"name\":\"say\",\"text\":\", Welcome to the conference\","
	    "\"locale\":\"en-US\"}],\"action\":{\"name\":\"connectConf\",\"conferenceId\":\"pinconf-1\","
	    "\"moh\":\"ring\",\"cli\":\"46700000000\"}}", "say then connectConf with the caller's cli");
	free(text);
	cJSON_Delete(svaml);
}

int
main(void)
{
	if (crypto_init() != 0) {
		printf("Bail out! libgcrypt does not initialise\n");
		return 1;
	}
	test_signature_vectors();
	test_verify_request();
	test_user_ticket_vector();
	test_registration_jwt_vector();
	test_event_parsing();
	test_svaml_shapes();
	return tap_done();
}
