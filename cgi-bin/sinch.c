/* sinch.c: Sinch's protocol: callback events in, signatures, user tickets (SVAML: svaml.c). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "crypto.h"
#include "sinch.h"

static const struct {
	const char		*name;
	enum sinch_event_type	 type;
} sinch_event_names[] = {
	{ "ice", SINCH_ICE },
	{ "pie", SINCH_PIE },
	{ "ace", SINCH_ACE },
	{ "dice", SINCH_DICE },
	{ "notify", SINCH_NOTIFY },
};

static int
sinch_callid_ok(const char *callid)
{
	size_t length = strlen(callid);

	if (length == 0 || length > SINCH_FIELD_MAX)
		return 0;
	for (; *callid != '\0'; callid++)
		if (!isalnum((unsigned char)*callid) && strchr("-_.:", *callid) == NULL)
			return 0;
	return 1;
}

/*
 * Read string member name of object into *out.  Absent is fine unless
 * required; present means a string of printable UTF-8 within max bytes.
 */
static int
sinch_string(struct sinch_event *event, const cJSON *object, const char *name,
    int required, size_t max, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	*out = NULL;
	if (item == NULL || cJSON_IsNull(item)) {
		if (!required)
			return 0;
		snprintf(event->why, sizeof(event->why), "field %s is missing", name);
		return -1;
	}
	if (!cJSON_IsString(item)) {
		snprintf(event->why, sizeof(event->why), "field %s must be a string", name);
		return -1;
	}
	/* An empty optional string (a withheld cli) counts as absent. */
	if (item->valuestring[0] == '\0' && !required)
		return 0;
	if (!cgi_text_ok(item->valuestring, max)) {
		snprintf(event->why, sizeof(event->why),
		    "field %s must be printable text of 1 to %zu bytes", name, max);
		return -1;
	}
	*out = item->valuestring;
	return 0;
}

static const cJSON *
sinch_object(struct sinch_event *event, const cJSON *parent, const char *name, int required)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(parent, name);

	if (item == NULL && !required)
		return NULL;
	if (item == NULL || !cJSON_IsObject(item)) {
		snprintf(event->why, sizeof(event->why), "field %s must be an object", name);
		return NULL;
	}
	return item;
}

static int
sinch_parse_ice(struct sinch_event *event)
{
	const char *origination, *cli, *user;
	const cJSON *to;

	if (sinch_string(event, event->json, "originationType", 1, 16, &origination) != 0 ||
	    sinch_string(event, event->json, "cli", 0, SINCH_FIELD_MAX, &cli) != 0 ||
	    sinch_string(event, event->json, "user", 0, SINCH_FIELD_MAX, &user) != 0)
		return -1;
	/* Older Sinch documents write "mxp", newer "MXP". */
	event->from_browser = strcasecmp(origination, "mxp") == 0;
	event->caller = event->from_browser && user != NULL ? user : cli;
	if ((to = sinch_object(event, event->json, "to", event->from_browser)) == NULL)
		return event->why[0] != '\0' ? -1 : 0;
	if (sinch_string(event, to, "type", event->from_browser, 32, &event->to_type) != 0 ||
	    sinch_string(event, to, "endpoint", event->from_browser, SINCH_FIELD_MAX,
	    &event->to_endpoint) != 0)
		return -1;
	return 0;
}

static int
sinch_parse_pie(struct sinch_event *event)
{
	const cJSON *result;

	if ((result = sinch_object(event, event->json, "menuResult", 1)) == NULL)
		return -1;
	if (sinch_string(event, result, "type", 1, 32, &event->menu_type) != 0 ||
	    sinch_string(event, result, "value", 0, 64, &event->menu_value) != 0 ||
	    sinch_string(event, result, "menuId", 0, 64, &event->menu_id) != 0)
		return -1;
	return 0;
}

static int
sinch_parse_dice(struct sinch_event *event)
{
	const cJSON *duration = cJSON_GetObjectItemCaseSensitive(event->json, "duration");

	if (sinch_string(event, event->json, "reason", 0, 64, &event->reason) != 0 ||
	    sinch_string(event, event->json, "result", 0, 64, &event->result) != 0)
		return -1;
	if (duration == NULL)
		return 0;
	if (!cJSON_IsNumber(duration) || duration->valuedouble < 0 ||
	    duration->valuedouble > 1e8) {
		snprintf(event->why, sizeof(event->why), "field duration must be a number of seconds");
		return -1;
	}
	event->duration = (long long)duration->valuedouble;
	return 0;
}

/* The fields of a recognised event; -1 with the reason in event->why. */
static int
sinch_event_fields(struct sinch_event *event)
{
	if (sinch_string(event, event->json, "callid", event->type != SINCH_NOTIFY,
	    SINCH_FIELD_MAX, &event->callid) != 0)
		return -1;
	if (event->callid != NULL && !sinch_callid_ok(event->callid)) {
		snprintf(event->why, sizeof(event->why), "field callid has characters Sinch never sends");
		event->callid = NULL;
		return -1;
	}
	switch (event->type) {
	case SINCH_ICE:
		return sinch_parse_ice(event);
	case SINCH_PIE:
		return sinch_parse_pie(event);
	case SINCH_DICE:
		return sinch_parse_dice(event);
	case SINCH_ACE:
		/* Sinch echoes a callout's custom (at most 1024 bytes) on its ACE. */
		return sinch_string(event, event->json, "custom", 0, 1024, &event->custom);
	case SINCH_NOTIFY:
		break;
	}
	return 0;
}

int
sinch_event_parse(struct sinch_event *event, const char *body, size_t length)
{
	const char *name, *end = NULL;
	size_t i;

	memset(event, 0, sizeof(*event));
	event->duration = -1;
	event->json = cJSON_ParseWithLengthOpts(body, length, &end, 0);
	if (event->json == NULL || !cJSON_IsObject(event->json)) {
		snprintf(event->why, sizeof(event->why), "body is not a JSON object");
		return -1;
	}
	while (end != NULL && end < body + length && isspace((unsigned char)*end))
		end++;
	if (end != body + length) {
		snprintf(event->why, sizeof(event->why), "trailing bytes after the JSON object");
		return -1;
	}
	if (sinch_string(event, event->json, "event", 1, 16, &name) != 0)
		return -1;
	for (i = 0; i < sizeof(sinch_event_names) / sizeof(sinch_event_names[0]); i++)
		if (strcmp(name, sinch_event_names[i].name) == 0)
			break;
	if (i == sizeof(sinch_event_names) / sizeof(sinch_event_names[0])) {
		snprintf(event->why, sizeof(event->why), "unknown event '%.16s'", name);
		return -1;
	}
	event->type = sinch_event_names[i].type;
	return sinch_event_fields(event) == 0 ? 0 : -2;
}

void
sinch_event_free(struct sinch_event *event)
{
	cJSON_Delete(event->json);
	event->json = NULL;
}

char *
sinch_signature(const unsigned char *secret, size_t secret_length,
    const char *method, const char *content_type, const char *timestamp,
    const char *path, const char *body, size_t body_length)
{
	unsigned char digest[CRYPTO_MD5_LENGTH], mac[CRYPTO_SHA256_LENGTH];
	char *content_md5 = NULL, *to_sign = NULL, *signature = NULL;

	crypto_md5(body, body_length, digest);
	if (body_length > 0 && (content_md5 = base64_encode(digest, sizeof(digest))) == NULL)
		goto out;
	if (asprintf(&to_sign, "%s\n%s\n%s\nx-timestamp:%s\n%s", method,
	    content_md5 != NULL ? content_md5 : "", content_type != NULL ? content_type : "",
	    timestamp, path) < 0) {
		to_sign = NULL;
		goto out;
	}
	if (crypto_hmac_sha256(secret, secret_length, to_sign, strlen(to_sign), mac) == 0)
		signature = base64_encode(mac, sizeof(mac));
out:
	free(content_md5);
	free(to_sign);
	return signature;
}

/* Verify "Application KEY:SIGNATURE" (scheme already skipped) over the request. */
static int
sinch_verify_hmac(const struct config *config, const struct cgi_request *request,
    const char *credentials, time_t now, const char **why)
{
	const char *colon = strchr(credentials, ':');
	char *expected = NULL;
	time_t stamp;
	int ok;

	if (colon == NULL) {
		*why = "Authorization is not key:signature";
		return -1;
	}
	if ((size_t)(colon - credentials) != strlen(config->application_key) ||
	    strncmp(credentials, config->application_key, (size_t)(colon - credentials)) != 0) {
		*why = "Authorization names another application key";
		return -1;
	}
	if (request->timestamp == NULL || clock_parse_utc(request->timestamp, &stamp) != 0) {
		*why = "X-Timestamp is missing or not ISO 8601 UTC";
		return -1;
	}
	/* The signature covers the timestamp, so an old one is a replay. */
	if (stamp < now - config->timestamp_window || stamp > now + config->timestamp_window) {
		*why = "X-Timestamp is outside the accepted window";
		return -1;
	}
	expected = sinch_signature(config->secret, config->secret_length, request->method,
	    request->content_type, request->timestamp, request->path,
	    request->body != NULL ? request->body : "", request->body_length);
	if (expected == NULL) {
		*why = "cannot compute the signature";
		return -1;
	}
	ok = strlen(colon + 1) == strlen(expected) &&
	    crypto_equal(colon + 1, expected, strlen(expected));
	free(expected);
	if (!ok)
		*why = "signature does not match";
	return ok ? 0 : -1;
}

static int
sinch_verify_basic(const struct config *config, const char *credentials, const char **why)
{
	unsigned char *decoded = NULL;
	size_t length, key_length = strlen(config->application_key);
	size_t secret_length = strlen(config->application_secret);
	int ok;

	if (base64_decode(credentials, strlen(credentials), &decoded, &length) != 0) {
		*why = "Basic credentials are not base64";
		return -1;
	}
	ok = length == key_length + 1 + secret_length &&
	    memcmp(decoded, config->application_key, key_length) == 0 &&
	    decoded[key_length] == ':' &&
	    crypto_equal(decoded + key_length + 1, config->application_secret, secret_length);
	crypto_wipe(decoded, length);
	free(decoded);
	if (!ok)
		*why = "Basic credentials do not match";
	return ok ? 0 : -1;
}

int
sinch_verify_request(const struct config *config, const struct cgi_request *request,
    time_t now, const char **why)
{
	const char *header = request->authorization, *credentials;
	size_t scheme_length;

	if (header == NULL) {
		*why = "no Authorization header (Apache needs CGIPassAuth On)";
		return -1;
	}
	scheme_length = strcspn(header, " ");
	credentials = header + scheme_length;
	while (*credentials == ' ')
		credentials++;
	/* Sinch writes the scheme both as "Application" and "application". */
	if (scheme_length == 11 && strncasecmp(header, "application", 11) == 0)
		return sinch_verify_hmac(config, request, credentials, now, why);
	if (scheme_length == 5 && strncasecmp(header, "basic", 5) == 0) {
		/* Basic covers neither body nor timestamp: one leaked header forges all. */
		if (!config->accept_basic_auth) {
			*why = "Basic credentials refused (accept_basic_auth = no)";
			return -1;
		}
		return sinch_verify_basic(config, credentials, why);
	}
	*why = "Authorization scheme is neither Application nor Basic";
	return -1;
}

char *
sinch_user_ticket(const struct config *config, const char *identity,
    time_t created, int milliseconds, int expires_in)
{
	unsigned char mac[CRYPTO_SHA256_LENGTH];
	char when[CLOCK_TIME_SIZE], *json = NULL, *json64 = NULL, *mac64 = NULL;
	char *ticket = NULL;
	cJSON *root, *who;

	clock_format_utc(created, milliseconds, when);
	/* Member order matters: the signature covers these exact bytes. */
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "applicationKey", config->application_key) == NULL ||
	    (who = cJSON_AddObjectToObject(root, "identity")) == NULL ||
	    cJSON_AddStringToObject(who, "type", "username") == NULL ||
	    cJSON_AddStringToObject(who, "endpoint", identity) == NULL ||
	    cJSON_AddStringToObject(root, "created", when) == NULL ||
	    cJSON_AddNumberToObject(root, "expiresIn", expires_in) == NULL ||
	    (json = cJSON_PrintUnformatted(root)) == NULL)
		goto out;
	if (crypto_hmac_sha256(config->secret, config->secret_length, json, strlen(json), mac) != 0)
		goto out;
	if ((json64 = base64_encode(json, strlen(json))) == NULL ||
	    (mac64 = base64_encode(mac, sizeof(mac))) == NULL)
		goto out;
	if (asprintf(&ticket, "%s:%s", json64, mac64) < 0)
		ticket = NULL;
out:
	cJSON_Delete(root);
	free(json);
	free(json64);
	free(mac64);
	return ticket;
}

/* b64url(JSON of object), or NULL. */
static char *
sinch_jwt_part(cJSON *object)
{
	char *json, *part;

	if (object == NULL || (json = cJSON_PrintUnformatted(object)) == NULL)
		return NULL;
	part = base64url_encode(json, strlen(json));
	free(json);
	return part;
}

/* Header and payload with their members in sorted order, as Sinch's examples have them. */
static int
sinch_jwt_parts(const struct config *config, const char *user_id, time_t issued,
    int lifetime, const char *nonce, const char *day, char **header, char **payload)
{
	cJSON *head = NULL, *body = NULL;
	char kid[32], issuer[256], subject[600];
	int rc = -1;

	snprintf(kid, sizeof(kid), "hkdfv1-%s", day);
	snprintf(issuer, sizeof(issuer), "//rtc.sinch.com/applications/%s", config->application_key);
	snprintf(subject, sizeof(subject), "%s/users/%s", issuer, user_id);
	if ((head = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(head, "alg", "HS256") == NULL ||
	    cJSON_AddStringToObject(head, "kid", kid) == NULL ||
	    (body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(body, "exp", (double)(issued + lifetime)) == NULL ||
	    cJSON_AddNumberToObject(body, "iat", (double)issued) == NULL ||
	    cJSON_AddStringToObject(body, "iss", issuer) == NULL ||
	    cJSON_AddStringToObject(body, "nonce", nonce) == NULL ||
	    cJSON_AddStringToObject(body, "sub", subject) == NULL)
		goto out;
	*header = sinch_jwt_part(head);
	*payload = sinch_jwt_part(body);
	rc = *header != NULL && *payload != NULL ? 0 : -1;
out:
	cJSON_Delete(head);
	cJSON_Delete(body);
	return rc;
}

char *
sinch_registration_jwt(const struct config *config, const char *user_id, time_t issued,
    int lifetime, const char *nonce)
{
	unsigned char key[CRYPTO_SHA256_LENGTH], mac[CRYPTO_SHA256_LENGTH];
	char day[9], *header = NULL, *payload = NULL, *signing = NULL;
	char *signature = NULL, *jwt = NULL;
	struct tm tm;

	/* The signing key is derived per day: HMAC(secret, "YYYYMMDD" of iat, UTC). */
	if (gmtime_r(&issued, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y%m%d", &tm) != 8)
		return NULL;
	if (crypto_hmac_sha256(config->secret, config->secret_length, day, 8, key) != 0)
		return NULL;
	if (sinch_jwt_parts(config, user_id, issued, lifetime, nonce, day, &header, &payload) != 0 ||
	    asprintf(&signing, "%s.%s", header, payload) < 0) {
		signing = NULL;
		goto out;
	}
	if (crypto_hmac_sha256(key, sizeof(key), signing, strlen(signing), mac) != 0 ||
	    (signature = base64url_encode(mac, sizeof(mac))) == NULL)
		goto out;
	if (asprintf(&jwt, "%s.%s", signing, signature) < 0)
		jwt = NULL;
out:
	crypto_wipe(key, sizeof(key));
	free(header);
	free(payload);
	free(signing);
	free(signature);
	return jwt;
}

char *
sinch_new_user_id(void)
{
	unsigned char random[SINCH_USER_ID_BYTES];
	char *encoded, *user_id = NULL;

	if (crypto_random(random, sizeof(random)) != 0 ||
	    (encoded = base64url_encode(random, sizeof(random))) == NULL)
		return NULL;
	if (asprintf(&user_id, "u-%s", encoded) < 0)
		user_id = NULL;
	free(encoded);
	return user_id;
}

char *
sinch_new_nonce(void)
{
	unsigned char random[16];
	char *nonce;
	size_t i;

	if (crypto_random(random, sizeof(random)) != 0 || (nonce = malloc(33)) == NULL)
		return NULL;
	for (i = 0; i < sizeof(random); i++)
		snprintf(nonce + 2 * i, 3, "%02x", random[i]);
	return nonce;
}

int
sinch_user_id_ok(const char *user_id)
{
	size_t length = strlen(user_id);

	if (length == 0 || length > 255)
		return 0;
	return strspn(user_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_=") == length;
}
