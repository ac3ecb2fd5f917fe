/* getticket.c: issues a browser a Sinch user id and its credentials for an active conference's PIN. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "address.h"
#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "db.h"
#include "service.h"
#include "sinch.h"

#define GETTICKET_BODY_MAX	4096
#define NAME_CHARACTERS_MAX	64
/* The join page says exactly this when its own check fails. */
#define NAME_RULE		"Your name must be 1 to 64 printable characters."
#define UNAVAILABLE		"The conference service is unavailable. Please try again later."
#define TOO_MANY_GUESSES	"Too many wrong PINs from your network. Please try again later."
#define TOO_MANY_IDENTITIES	"Too many joins from your network. Please try again later."

struct getticket {
	struct service		*service;
	struct cgi_request	*request;
	struct cgi_response	*response;
	const struct config	*config;
	struct db		*db;
	char			*name;		/* trimmed, checked */
	char			*pin;
	char			*user_id;	/* a renewal names the id it holds */
	char			 source[ADDRESS_TEXT_MAX];
	struct timeval		 now;
	int			 wait_for_host;	/* the page must wait until a host is in */
};

/*
 * The name rule the page applies too: trimmed, 1 to 64 characters (code
 * points, not bytes), none a control, bidirectional or invisible format
 * character (cgi_name_ok).
 */
static int
getticket_name_ok(const char *name)
{
	return cgi_name_ok(name, NAME_CHARACTERS_MAX);
}

static char *
getticket_trim(char *text)
{
	char *end;

	if (text == NULL)
		return NULL;
	end = text + strlen(text);
	while (end > text && strchr(" \t\r\n", end[-1]) != NULL)
		*--end = '\0';
	memmove(text, text + strspn(text, " \t\r\n"), strlen(text + strspn(text, " \t\r\n")) + 1);
	return text;
}

static void
getticket_fault(struct getticket *getticket)
{
	db_rollback(getticket->db);
	cgi_refuse(getticket->request, getticket->response, 503, UNAVAILABLE, getticket->db->why);
}

/* {userId, jwt, userTicket, expiresIn, name, conference}: credentials for either SDK. */
static void
getticket_answer(struct getticket *getticket, const char *user_id, const char *name,
    const char *conference)
{
	const struct config *config = getticket->config;
	cJSON *object = NULL;
	char *jwt = NULL, *ticket = NULL, *nonce = NULL, *body = NULL;

	if ((nonce = sinch_new_nonce()) == NULL ||
	    (jwt = sinch_registration_jwt(config, user_id, getticket->now.tv_sec,
	    config->jwt_lifetime, nonce)) == NULL ||
	    (ticket = sinch_user_ticket(config, user_id, getticket->now.tv_sec,
	    (int)(getticket->now.tv_usec / 1000), config->ticket_expires)) == NULL)
		goto out;
	if ((object = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(object, "userId", user_id) == NULL ||
	    cJSON_AddStringToObject(object, "jwt", jwt) == NULL ||
	    cJSON_AddStringToObject(object, "userTicket", ticket) == NULL ||
	    cJSON_AddNumberToObject(object, "expiresIn", config->jwt_lifetime) == NULL ||
	    cJSON_AddStringToObject(object, "name", name) == NULL ||
	    cJSON_AddStringToObject(object, "conference", conference) == NULL ||
	    (getticket->wait_for_host && cJSON_AddBoolToObject(object, "waitForHost", 1) == NULL))
		goto out;
	body = cJSON_PrintUnformatted(object);
out:
	cJSON_Delete(object);
	free(nonce);
	free(jwt);
	free(ticket);
	if (body == NULL) {
		cgi_refuse(getticket->request, getticket->response, 500, "internal error",
		    "cannot build the credentials");
		return;
	}
	cgi_response_set_body(getticket->response, 200, "application/json", body);
}

static void
getticket_too_many(struct getticket *getticket, int retry_after, const char *text,
    const char *why)
{
	char reason[192];

	snprintf(reason, sizeof(reason), "%s %s for %d s", getticket->source, why, retry_after);
	cgi_refuse(getticket->request, getticket->response, 429, text, reason);
	if (asprintf(&getticket->response->extra_header, "Retry-After: %d", retry_after) < 0)
		getticket->response->extra_header = NULL;
}

/*
 * May this source try the PIN of holder (NULL: a PIN nobody holds today)?
 * db_guess_check is the rule; refused: 429, *limited set.
 */
static int
getticket_limited(struct getticket *getticket, const struct db_conference *holder, int *limited)
{
	static const char *const why[] = {
		[DB_GUESS_LOCKED_OUT] = "is locked out after too many wrong PINs",
		[DB_GUESS_OVER_SHARE] = "is locked out after its share of the hour's guess budget",
		[DB_GUESS_BUDGET_SPENT] = "was never connected with this PIN and the guess budget is spent",
	};
	struct db_guess_check check;

	*limited = 1;
	if (db_guess_check(getticket->db, getticket->source, holder != NULL ? holder->id : 0,
	    holder != NULL ? holder->attendee_id : 0, getticket->now.tv_sec, &check) != DB_OK)
		return DB_FAULT;
	if (check.verdict != DB_GUESS_ALLOWED) {
		getticket_too_many(getticket, check.retry_after, TOO_MANY_GUESSES,
		    why[check.verdict]);
		return DB_OK;
	}
	*limited = 0;
	return DB_OK;
}

/* A PIN that lets nobody in today: a wrong guess, and a 404 that says why. */
static void
getticket_not_active(struct getticket *getticket, int rc, const struct db_conference *holder)
{
	const char *text = "No active conference has this PIN.";
	char spoken[64], *filled = NULL;

	if (rc == DB_OK && holder->state == DB_PIN_ENDED)
		text = getticket->config->say_ended;
	if (rc == DB_OK && holder->state == DB_PIN_NOT_STARTED) {
		clock_spoken_date(holder->starts_on, getticket->config->timezone,
		    getticket->now.tv_sec, spoken, sizeof(spoken));
		/* The page shows what a phone caller would hear. */
		if ((filled = config_text_fill(getticket->config->say_not_started, "{date}",
		    spoken)) != NULL)
			text = filled;
	}
	cgi_refuse(getticket->request, getticket->response, 404, text,
	    rc == DB_OK ? "PIN of a conference that is not on today" : "unknown PIN");
	free(filled);
}

/* A right PIN: refuse while locked or full, else issue a new identity. */
static int
getticket_issue(struct getticket *getticket, const struct db_conference *holder)
{
	struct db_identity identity;
	char *user_id;
	int in, hosts = 1, retry_after;

	if (holder->locked) {
		cgi_refuse(getticket->request, getticket->response, 409,
		    getticket->config->say_locked, "conference is locked");
		return DB_OK;
	}
	if (db_count_in_conference(getticket->db, holder->id, getticket->now.tv_sec, &in) != DB_OK)
		return DB_FAULT;
	if (holder->max_participants > 0 && in >= holder->max_participants) {
		cgi_refuse(getticket->request, getticket->response, 409,
		    getticket->config->say_full, "conference is full");
		return DB_OK;
	}
	if (db_identity_limit(getticket->db, getticket->source, getticket->now.tv_sec,
	    &retry_after) != DB_OK)
		return DB_FAULT;
	if (retry_after > 0) {
		getticket_too_many(getticket, retry_after, TOO_MANY_IDENTITIES,
		    "was issued identity_limit identities in the last hour");
		return DB_OK;
	}
	/* Not refused: the page waits, polling roster.cgi, then calls (issue 19). */
	if (holder->wait_for_host && !holder->host &&
	    db_hosts_in(getticket->db, holder->id, getticket->now.tv_sec, &hosts) != DB_OK)
		return DB_FAULT;
	getticket->wait_for_host = hosts == 0;
	if ((user_id = sinch_new_user_id()) == NULL) {
		snprintf(getticket->db->why, sizeof(getticket->db->why), "cannot make a user id");
		return DB_FAULT;
	}
	memset(&identity, 0, sizeof(identity));
	snprintf(identity.user_id, sizeof(identity.user_id), "%s", user_id);
	free(user_id);
	/* A personal PIN shows its holder's name, whatever was typed. */
	snprintf(identity.display_name, sizeof(identity.display_name), "%s",
	    holder->attendee_id != 0 ? holder->attendee_name : getticket->name);
	identity.conference_id = holder->id;
	identity.attendee_id = holder->attendee_id;
	snprintf(identity.pin, sizeof(identity.pin), "%s", getticket->pin);
	snprintf(identity.source, sizeof(identity.source), "%s", getticket->source);
	/* Credentials fetched do not make the source known: only a call that joins does. */
	if (db_identity_prune(getticket->db, getticket->now.tv_sec) != DB_OK ||
	    db_identity_issue(getticket->db, &identity, getticket->now.tv_sec,
	    getticket->config->identity_lifetime) != DB_OK ||
	    db_commit(getticket->db) != DB_OK)
		return DB_FAULT;
	getticket_answer(getticket, identity.user_id, identity.display_name, holder->name);
	return DB_OK;
}

/*
 * A first join: the PIN's holder, the limits (which depend on it while the
 * budget is spent), then the PIN, in one write transaction.
 */
static int
getticket_join(struct getticket *getticket)
{
	struct db_conference holder;
	int limited, rc;

	if ((rc = db_find_pin_holder(getticket->db, getticket->pin, getticket->config->timezone,
	    getticket->now.tv_sec, &holder)) == DB_FAULT)
		return DB_FAULT;
	if (getticket_limited(getticket, rc == DB_OK && holder.state == DB_PIN_ACTIVE ?
	    &holder : NULL, &limited) != DB_OK)
		return DB_FAULT;
	if (limited)
		return DB_OK;
	if (rc == DB_OK && holder.state == DB_PIN_ACTIVE)
		return getticket_issue(getticket, &holder);
	if (db_guess_record(getticket->db, getticket->source) != DB_OK ||
	    db_commit(getticket->db) != DB_OK)
		return DB_FAULT;
	getticket_not_active(getticket, rc, &holder);
	return DB_OK;
}

/*
 * A renewal: fresh credentials for an id we issued, still within its
 * lifetime, for the same PIN, whose conference is still on.  Never a guess.
 */
static int
getticket_renew(struct getticket *getticket)
{
	struct db_identity identity;
	struct db_conference holder;
	const char *why = NULL;
	time_t expires;
	int rc;

	if ((rc = db_identity_find(getticket->db, getticket->user_id, &identity)) == DB_FAULT)
		return DB_FAULT;
	if (rc == DB_NONE)
		why = "renewal of a user id we did not issue";
	else if (clock_parse_utc(identity.expires, &expires) != 0 ||
	    expires <= getticket->now.tv_sec)
		why = "renewal of an expired user id";
	else if (strcmp(identity.pin, getticket->pin) != 0)
		why = "renewal for another PIN than the user id's";
	else if ((rc = db_find_pin_holder(getticket->db, identity.pin, getticket->config->timezone,
	    getticket->now.tv_sec, &holder)) == DB_FAULT)
		return DB_FAULT;
	else if (rc == DB_NONE || holder.id != identity.conference_id ||
	    holder.attendee_id != identity.attendee_id || holder.state != DB_PIN_ACTIVE)
		why = "renewal for a conference that is no longer on";
	/* It wrote nothing, but a transaction that cannot end is a fault like any other. */
	if (db_commit(getticket->db) != DB_OK)
		return DB_FAULT;
	if (why != NULL) {
		cgi_refuse(getticket->request, getticket->response, 403,
		    "These credentials can no longer be renewed; join again.", why);
		return DB_OK;
	}
	getticket_answer(getticket, identity.user_id, identity.display_name, holder.name);
	return DB_OK;
}

static void
getticket_lookup(struct getticket *getticket)
{
	if (service_database(getticket->service, DB_READ_WRITE, &getticket->db) != DB_OK) {
		cgi_refuse(getticket->request, getticket->response, 503, UNAVAILABLE,
		    getticket->db->why);
		return;
	}
	if (db_begin(getticket->db) != DB_OK ||
	    (getticket->user_id != NULL ? getticket_renew(getticket) :
	    getticket_join(getticket)) != DB_OK)
		getticket_fault(getticket);
	db_rollback(getticket->db);
}

/* Method, origin, content type, body, fields: cheapest refusals first. */
static int
getticket_read(struct getticket *getticket, FILE *in)
{
	struct cgi_request *request = getticket->request;
	struct cgi_response *response = getticket->response;
	const char *why;
	int status;

	if (strcmp(request->method, "POST") != 0) {
		cgi_refuse(request, response, 405, "only POST is allowed", "method not allowed");
		cgi_response_add_header(response, "Allow: POST");
		return -1;
	}
	if (cgi_cross_site(request, &why)) {
		cgi_refuse(request, response, 403, "requests from other sites are refused", why);
		return -1;
	}
	if (!cgi_content_type_is(request, "application/x-www-form-urlencoded")) {
		cgi_refuse(request, response, 415,
		    "Content-Type must be application/x-www-form-urlencoded",
		    "content type is not a form");
		return -1;
	}
	if ((status = cgi_request_read_body(request, in, GETTICKET_BODY_MAX, &why)) != 0) {
		cgi_refuse(request, response, status, why, why);
		return -1;
	}
	getticket->name = getticket_trim(cgi_form_value(request->body, "name"));
	getticket->pin = cgi_form_value(request->body, "pin");
	getticket->user_id = cgi_form_value(request->body, "userId");
	if (getticket->name == NULL || !getticket_name_ok(getticket->name)) {
		cgi_refuse(request, response, 400, NAME_RULE, "bad or missing name");
		return -1;
	}
	if (getticket->pin == NULL || *getticket->pin == '\0' ||
	    strspn(getticket->pin, "0123456789") != strlen(getticket->pin) ||
	    strlen(getticket->pin) < 4 || strlen(getticket->pin) > 8) {
		cgi_refuse(request, response, 400, "The PIN must be 4 to 8 digits.", "bad or missing pin");
		return -1;
	}
	if (getticket->user_id != NULL && !sinch_user_id_ok(getticket->user_id)) {
		cgi_refuse(request, response, 400, "userId is not one this server issues",
		    "malformed userId");
		return -1;
	}
	return 0;
}

static void
getticket_handle(struct service *service, struct cgi_request *request, FILE *in,
    struct cgi_response *response)
{
	struct getticket getticket = { .service = service, .request = request, .response = response };
	const char *why_cross;
	char why[256];

	gettimeofday(&getticket.now, NULL);
	cgi_response_add_header(response, "Cache-Control: no-store");
	cgi_response_add_header(response, "X-Content-Type-Options: nosniff");
	if (getticket_read(&getticket, in) != 0)
		goto out;
	if ((getticket.config = service_config(service, why, sizeof(why))) == NULL) {
		cgi_log(request, "config %s: %s", config_path(), why);
		cgi_response_json_error(response, 500, "server configuration error");
		goto out;
	}
	if (cgi_cross_site_origin(request, getticket.config->public_url, &why_cross)) {
		cgi_refuse(request, response, 403, "requests from other sites are refused", why_cross);
		goto out;
	}
	/* Fail closed: a client we cannot place cannot be limited. */
	if (address_client(request, getticket.config->trusted_proxies,
	    getticket.source) != 0 || address_guess_key(getticket.source, getticket.source) != 0) {
		cgi_refuse(request, response, 403, "cannot tell where this request comes from",
		    "no usable client address (REMOTE_ADDR, or X-Forwarded-For from a trusted proxy)");
		goto out;
	}
	getticket_lookup(&getticket);
out:
	free(getticket.name);
	free(getticket.pin);
	free(getticket.user_id);
}

int
main(void)
{
	return service_main("getticket.cgi", getticket_handle);
}
