/* sinchapi.c: Sinch's Calling REST API (conferences and callouts), signed as Sinch signs. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "clock.h"
#include "configfile.h"
#include "sinch.h"
#include "sinchapi.h"

#define SINCHAPI_ANSWER_MAX	(1024 * 1024)
/* Three seconds to connect and seven to answer: a retried GET still ends within 15 s. */
#define SINCHAPI_CONNECT_TIMEOUT 3
#define SINCHAPI_TIMEOUT	7

/* An answer's body, read up to SINCHAPI_ANSWER_MAX. */
struct sinchapi_buffer {
	char	*data;
	size_t	 length;
	int	 too_long;
};

/*
 * Set the reason a command failed.  A reason longer than api->why is cut:
 * through vsnprintf, so that no optimisation level's -Wformat-truncation
 * counts every host and message at its largest and fails the build.
 */
static void __attribute__((format(printf, 2, 3)))
sinchapi_why(struct sinchapi *api, const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(api->why, sizeof(api->why), format, arguments);
	va_end(arguments);
}

/*
 * Call ids and conference ids go into the path unescaped, one segment each:
 * allow only what needs no escaping, and at least one letter or digit, so
 * that no id is a dot segment ("." or "..") that would change the path.
 */
static int
sinchapi_id_ok(const char *id)
{
	size_t length = strlen(id);
	int plain = 0;

	if (length == 0 || length > SINCHAPI_ID_MAX)
		return 0;
	for (; *id != '\0'; id++) {
		if (isalnum((unsigned char)*id))
			plain = 1;
		else if (strchr("-_.:", *id) == NULL)
			return 0;
	}
	return plain;
}

/* Copy printable text, dropping control bytes an answer should never hold. */
static void
sinchapi_copy_text(char *out, size_t size, const char *text)
{
	size_t i = 0;

	for (; *text != '\0' && i + 1 < size; text++)
		if ((unsigned char)*text >= 0x20 && *text != 0x7f)
			out[i++] = *text;
	out[i] = '\0';
}

static cJSON *
sinchapi_parse_object(const char *body, size_t length)
{
	cJSON *json;

	if (body == NULL || length == 0)
		return NULL;
	json = cJSON_ParseWithLength(body, length);
	if (json != NULL && !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

static int
sinchapi_parse_participant(const cJSON *item, struct sinchapi_participant *participant,
    const char **why)
{
	const cJSON *id, *cli, *duration, *muted, *onhold;

	memset(participant, 0, sizeof(*participant));
	if (!cJSON_IsObject(item)) {
		*why = "a participant is not an object";
		return -1;
	}
	/* 2015-era answers call the participant's call id callId. */
	if ((id = cJSON_GetObjectItemCaseSensitive(item, "id")) == NULL)
		id = cJSON_GetObjectItemCaseSensitive(item, "callId");
	if (!cJSON_IsString(id) || !sinchapi_id_ok(id->valuestring)) {
		*why = "a participant has no call id Sinch would send";
		return -1;
	}
	snprintf(participant->callid, sizeof(participant->callid), "%s", id->valuestring);
	cli = cJSON_GetObjectItemCaseSensitive(item, "cli");
	if (cli != NULL && !cJSON_IsNull(cli)) {
		if (!cJSON_IsString(cli) || strlen(cli->valuestring) > SINCHAPI_ID_MAX) {
			*why = "a participant's cli is not a string of at most 128 bytes";
			return -1;
		}
		sinchapi_copy_text(participant->cli, sizeof(participant->cli), cli->valuestring);
	}
	participant->duration = -1;
	duration = cJSON_GetObjectItemCaseSensitive(item, "duration");
	if (duration != NULL) {
		if (!cJSON_IsNumber(duration) || duration->valuedouble < 0 ||
		    duration->valuedouble > 1e9) {
			*why = "a participant's duration is not a number of seconds";
			return -1;
		}
		participant->duration = (long long)duration->valuedouble;
	}
	muted = cJSON_GetObjectItemCaseSensitive(item, "muted");
	onhold = cJSON_GetObjectItemCaseSensitive(item, "onhold");
	if ((muted != NULL && !cJSON_IsBool(muted)) || (onhold != NULL && !cJSON_IsBool(onhold))) {
		*why = "a participant's muted or onhold is not true or false";
		return -1;
	}
	participant->muted = cJSON_IsTrue(muted);
	participant->onhold = cJSON_IsTrue(onhold);
	return 0;
}

int
sinchapi_parse_participants(const char *body, size_t length,
    struct sinchapi_participants *participants, const char **why)
{
	const cJSON *list, *item;
	cJSON *json;
	size_t count, i = 0;
	int rc = -1;

	memset(participants, 0, sizeof(*participants));
	*why = "the answer is not a JSON object";
	if ((json = sinchapi_parse_object(body, length)) == NULL)
		return -1;
	list = cJSON_GetObjectItemCaseSensitive(json, "participants");
	if (!cJSON_IsArray(list)) {
		*why = "the answer has no participants list";
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(list);
	if (count > SINCHAPI_PARTICIPANTS_MAX) {
		*why = "the answer lists more participants than a conference holds";
		goto out;
	}
	if (count > 0 && (participants->list = calloc(count, sizeof(*participants->list))) == NULL) {
		*why = "out of memory";
		goto out;
	}
	cJSON_ArrayForEach(item, list)
		if (sinchapi_parse_participant(item, &participants->list[i++], why) != 0)
			goto out;
	participants->count = count;
	rc = 0;
out:
	if (rc != 0)
		sinchapi_participants_free(participants);
	cJSON_Delete(json);
	return rc;
}

void
sinchapi_participants_free(struct sinchapi_participants *participants)
{
	free(participants->list);
	participants->list = NULL;
	participants->count = 0;
}

int
sinchapi_parse_callout(const char *body, size_t length, char *callid, size_t size)
{
	const cJSON *id;
	cJSON *json;
	int rc = -1;

	*callid = '\0';
	if ((json = sinchapi_parse_object(body, length)) == NULL)
		return -1;
	id = cJSON_GetObjectItemCaseSensitive(json, "callId");
	if (cJSON_IsString(id) && sinchapi_id_ok(id->valuestring) &&
	    strlen(id->valuestring) < size) {
		snprintf(callid, size, "%s", id->valuestring);
		rc = 0;
	}
	cJSON_Delete(json);
	return rc;
}

int
sinchapi_parse_error(const char *body, size_t length, struct sinchapi_error *error)
{
	const cJSON *code, *message;
	cJSON *json;
	int rc = -1;

	memset(error, 0, sizeof(*error));
	if ((json = sinchapi_parse_object(body, length)) == NULL)
		return -1;
	code = cJSON_GetObjectItemCaseSensitive(json, "errorCode");
	message = cJSON_GetObjectItemCaseSensitive(json, "message");
	if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1e6 &&
	    code->valuedouble == (double)(long)code->valuedouble) {
		error->code = (long)code->valuedouble;
		rc = 0;
	}
	if (cJSON_IsString(message)) {
		sinchapi_copy_text(error->message, sizeof(error->message), message->valuestring);
		rc = 0;
	}
	cJSON_Delete(json);
	return rc;
}

/* api_url's host[:port], for messages: the scheme and any slash dropped. */
static void
sinchapi_host(struct sinchapi *api, const char *url)
{
	const char *start = strstr(url, "://");

	start = start != NULL ? start + 3 : url;
	snprintf(api->host, sizeof(api->host), "%.*s", (int)strcspn(start, "/"), start);
}

int
sinchapi_init(struct sinchapi *api, const struct config *config)
{
	memset(api, 0, sizeof(*api));
	api->config = config;
	sinchapi_host(api, config->api_url);
	api->timeout = SINCHAPI_TIMEOUT;
	api->attempts = 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		sinchapi_why(api, "cannot initialise libcurl");
		return -1;
	}
	return 0;
}

void
sinchapi_set_timeout(struct sinchapi *api, int seconds)
{
	api->timeout = seconds;
	api->attempts = 1;
}

void
sinchapi_cleanup(struct sinchapi *api)
{
	curl_global_cleanup();
	api->config = NULL;
}

static size_t
sinchapi_collect(char *data, size_t size, size_t count, void *context)
{
	struct sinchapi_buffer *buffer = context;
	size_t length = size * count;
	char *grown;

	if (buffer->length + length > SINCHAPI_ANSWER_MAX) {
		buffer->too_long = 1;
		return 0;
	}
	if ((grown = realloc(buffer->data, buffer->length + length + 1)) == NULL)
		return 0;
	buffer->data = grown;
	memcpy(buffer->data + buffer->length, data, length);
	buffer->length += length;
	buffer->data[buffer->length] = '\0';
	return length;
}

static void
sinchapi_buffer_free(struct sinchapi_buffer *buffer)
{
	free(buffer->data);
	memset(buffer, 0, sizeof(*buffer));
}

/* The signed headers of section 3: Authorization and X-Timestamp, plus Content-Type. */
static struct curl_slist *
sinchapi_headers(struct sinchapi *api, const char *method, const char *path, const char *body)
{
	const struct config *config = api->config;
	char timestamp[CLOCK_TIME_SIZE], *signature, line[512];
	struct curl_slist *headers = NULL, *more;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	clock_format_utc(now.tv_sec, (int)(now.tv_nsec / 1000000), timestamp);
	signature = sinch_signature(config->secret, config->secret_length, method,
	    body != NULL ? "application/json" : NULL, timestamp, path,
	    body != NULL ? body : "", body != NULL ? strlen(body) : 0);
	if (signature == NULL)
		return NULL;
	snprintf(line, sizeof(line), "Authorization: Application %s:%s",
	    config->application_key, signature);
	free(signature);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof(line), "X-Timestamp: %s", timestamp);
	if (headers == NULL || (more = curl_slist_append(headers, line)) == NULL)
		goto fail;
	/* No "Expect: 100-continue": Sinch answers at once. */
	if ((more = curl_slist_append(headers, "Expect:")) == NULL ||
	    (more = curl_slist_append(headers, "Accept: application/json")) == NULL)
		goto fail;
	if (body != NULL && (more = curl_slist_append(headers, "Content-Type: application/json")) == NULL)
		goto fail;
	return headers;
fail:
	curl_slist_free_all(headers);
	return NULL;
}

/* Why a transfer failed, as a sentence naming the host. */
static void
sinchapi_transport_failure(struct sinchapi *api, CURLcode code, const char *detail)
{
	const char *text = *detail != '\0' ? detail : curl_easy_strerror(code);

	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		sinchapi_why(api, "no answer from Sinch at %s within %d seconds",
		    api->host, api->timeout);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		sinchapi_why(api, "cannot connect to Sinch at %s: %s",
		    api->host, text);
		break;
	default:
		sinchapi_why(api, "cannot talk to Sinch at %s: %s",
		    api->host, text);
		break;
	}
}

/* Turn a status other than 200/204 and Sinch's error body into a result and a sentence. */
static int
sinchapi_refusal(struct sinchapi *api, const struct sinchapi_buffer *answer, int *transient)
{
	struct sinchapi_error *error = &api->error;
	char detail[200] = "";

	sinchapi_parse_error(answer->data, answer->length, error);
	if (error->code != 0 || *error->message != '\0')
		snprintf(detail, sizeof(detail), ", error %ld%s%s", error->code,
		    *error->message != '\0' ? ": " : "", error->message);
	if (error->code == 40400 || (error->code == 0 && api->status == 404)) {
		sinchapi_why(api, "Sinch at %s: not found (HTTP %ld%s)",
		    api->host, api->status, detail);
		return SINCHAPI_NOT_FOUND;
	}
	if (error->code == 40101)
		sinchapi_why(api, "Sinch at %s refused the request's time"
		    " (HTTP %ld%s): this machine's clock is off; set it right, e.g. with NTP",
		    api->host, api->status, detail);
	else if (api->status == 401 || error->code == 40100 || error->code == 40102)
		sinchapi_why(api, "Sinch at %s refused the application key"
		    " or secret (HTTP %ld%s): check application_key and application_secret in %s",
		    api->host, api->status, detail, config_path());
	else if (api->status >= 500) {
		*transient = 1;
		sinchapi_why(api, "Sinch at %s failed (HTTP %ld%s);"
		    " try again later", api->host, api->status, detail);
	} else
		sinchapi_why(api, "Sinch at %s refused the request (HTTP %ld%s)",
		    api->host, api->status, detail);
	return SINCHAPI_FAILED;
}

/* One attempt; *transient says whether trying again could help. */
static int
sinchapi_send(struct sinchapi *api, const char *method, const char *path, const char *body,
    struct sinchapi_buffer *answer, int *transient)
{
	char url[1024], detail[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURL *curl = NULL;
	CURLcode code;
	size_t base;
	int rc = SINCHAPI_FAILED;

	*transient = 0;
	api->status = 0;
	memset(&api->error, 0, sizeof(api->error));
	/* config_check allows no path in api_url, only a trailing slash. */
	base = strlen(api->config->api_url);
	while (base > 0 && api->config->api_url[base - 1] == '/')
		base--;
	snprintf(url, sizeof(url), "%.*s%s", (int)base, api->config->api_url, path);
	if ((curl = curl_easy_init()) == NULL ||
	    (headers = sinchapi_headers(api, method, path, body)) == NULL) {
		sinchapi_why(api, "cannot prepare the request to %s: out of memory",
		    api->host);
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	/* Send the path that was signed, never one libcurl has folded. */
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)(api->timeout < SINCHAPI_CONNECT_TIMEOUT ?
	    api->timeout : SINCHAPI_CONNECT_TIMEOUT));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)api->timeout);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sinchapi_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	if ((code = curl_easy_perform(curl)) != CURLE_OK) {
		if (answer->too_long)
			sinchapi_why(api, "Sinch at %s answered more than %d bytes",
			    api->host, SINCHAPI_ANSWER_MAX);
		else {
			*transient = 1;
			sinchapi_transport_failure(api, code, detail);
		}
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &api->status);
	rc = api->status == 200 || api->status == 204 ? SINCHAPI_OK :
	    sinchapi_refusal(api, answer, transient);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc;
}

/* A request with its retry: only a GET, which changes nothing, is tried twice. */
static int
sinchapi_request(struct sinchapi *api, const char *method, const char *path,
    const char *body, struct sinchapi_buffer *answer)
{
	int attempts = strcmp(method, "GET") == 0 ? api->attempts : 1, transient, rc = SINCHAPI_FAILED, i;

	for (i = 0; i < attempts; i++) {
		sinchapi_buffer_free(answer);
		rc = sinchapi_send(api, method, path, body, answer, &transient);
		if (rc != SINCHAPI_FAILED || !transient)
			break;
	}
	return rc;
}

/* The path of a conference, or of one call in it; -1 for an id unfit for a path. */
static int
sinchapi_path(struct sinchapi *api, char *path, size_t size, const char *conference,
    const char *callid)
{
	if (!sinchapi_id_ok(conference) || (callid != NULL && !sinchapi_id_ok(callid))) {
		sinchapi_why(api, "%s is not an id Sinch knows: letters, digits,"
		    " - _ . : only, and a letter or digit at least", sinchapi_id_ok(conference) ?
		    "the call id" : "the conference id");
		return -1;
	}
	if (callid != NULL)
		snprintf(path, size, "/calling/v1/conferences/id/%s/%s", conference, callid);
	else
		snprintf(path, size, "/calling/v1/conferences/id/%s", conference);
	return 0;
}

int
sinchapi_conference_participants(struct sinchapi *api, const char *conference,
    struct sinchapi_participants *participants)
{
	struct sinchapi_buffer answer = { 0 };
	char path[512];
	const char *why;
	int rc;

	memset(participants, 0, sizeof(*participants));
	if (sinchapi_path(api, path, sizeof(path), conference, NULL) != 0)
		return SINCHAPI_FAILED;
	if ((rc = sinchapi_request(api, "GET", path, NULL, &answer)) == SINCHAPI_OK &&
	    sinchapi_parse_participants(answer.data, answer.length, participants, &why) != 0) {
		sinchapi_why(api, "Sinch at %s answered in a shape pinconf"
		    " does not know: %s", api->host, why);
		rc = SINCHAPI_FAILED;
	}
	sinchapi_buffer_free(&answer);
	return rc;
}

/* A request whose answer has no body we need. */
static int
sinchapi_command(struct sinchapi *api, const char *method, const char *path, cJSON *json)
{
	struct sinchapi_buffer answer = { 0 };
	char *body = NULL;
	int rc;

	if (json != NULL && (body = cJSON_PrintUnformatted(json)) == NULL) {
		sinchapi_why(api, "out of memory");
		return SINCHAPI_FAILED;
	}
	rc = sinchapi_request(api, method, path, body, &answer);
	sinchapi_buffer_free(&answer);
	free(body);
	return rc;
}

int
sinchapi_participant_command(struct sinchapi *api, const char *conference,
    const char *callid, const char *command)
{
	char path[512];
	cJSON *json;
	int rc;

	if (sinchapi_path(api, path, sizeof(path), conference, callid) != 0)
		return SINCHAPI_FAILED;
	if ((json = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(json, "command", command) == NULL) {
		cJSON_Delete(json);
		sinchapi_why(api, "out of memory");
		return SINCHAPI_FAILED;
	}
	rc = sinchapi_command(api, "PATCH", path, json);
	cJSON_Delete(json);
	return rc;
}

int
sinchapi_kick_participant(struct sinchapi *api, const char *conference, const char *callid)
{
	char path[512];

	if (sinchapi_path(api, path, sizeof(path), conference, callid) != 0)
		return SINCHAPI_FAILED;
	return sinchapi_command(api, "DELETE", path, NULL);
}

int
sinchapi_end_conference(struct sinchapi *api, const char *conference)
{
	char path[512];

	if (sinchapi_path(api, path, sizeof(path), conference, NULL) != 0)
		return SINCHAPI_FAILED;
	return sinchapi_command(api, "DELETE", path, NULL);
}

static cJSON *
sinchapi_callout_body(const char *conference, const char *cli, const char *number,
    const char *greeting, const char *locale)
{
	cJSON *json, *callout, *destination;
	char custom[128];

	/* Echoed on the leg's ACE, whose answer must connect it there (sinch-api.md 5). */
	snprintf(custom, sizeof(custom), "conference=%s", conference);
	if ((json = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(json, "method", "conferenceCallout") == NULL ||
	    (callout = cJSON_AddObjectToObject(json, "conferenceCallout")) == NULL ||
	    cJSON_AddStringToObject(callout, "cli", cli) == NULL ||
	    (destination = cJSON_AddObjectToObject(callout, "destination")) == NULL ||
	    cJSON_AddStringToObject(destination, "type", "number") == NULL ||
	    cJSON_AddStringToObject(destination, "endpoint", number) == NULL ||
	    cJSON_AddStringToObject(callout, "conferenceId", conference) == NULL ||
	    cJSON_AddStringToObject(callout, "greeting", greeting) == NULL ||
	    cJSON_AddStringToObject(callout, "locale", locale) == NULL ||
	    cJSON_AddBoolToObject(callout, "enableAce", 1) == NULL ||
	    cJSON_AddBoolToObject(callout, "enableDice", 1) == NULL ||
	    cJSON_AddStringToObject(callout, "custom", custom) == NULL) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

int
sinchapi_conference_callout(struct sinchapi *api, const char *conference,
    const char *cli, const char *number, const char *greeting, const char *locale,
    char *callid, size_t size)
{
	struct sinchapi_buffer answer = { 0 };
	char *body = NULL;
	cJSON *json;
	int rc = SINCHAPI_FAILED;

	if (!sinchapi_id_ok(conference)) {
		sinchapi_why(api, "the conference id is not an id Sinch knows");
		return SINCHAPI_FAILED;
	}
	if ((json = sinchapi_callout_body(conference, cli, number, greeting, locale)) == NULL ||
	    (body = cJSON_PrintUnformatted(json)) == NULL) {
		sinchapi_why(api, "out of memory");
		goto out;
	}
	if ((rc = sinchapi_request(api, "POST", "/calling/v1/callouts", body, &answer)) ==
	    SINCHAPI_OK && sinchapi_parse_callout(answer.data, answer.length, callid, size) != 0) {
		sinchapi_why(api, "Sinch at %s placed the call but its answer"
		    " has no call id pinconf can use", api->host);
		rc = SINCHAPI_FAILED;
	}
out:
	sinchapi_buffer_free(&answer);
	free(body);
	cJSON_Delete(json);
	return rc;
}
