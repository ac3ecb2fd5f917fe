/* callback.c: answers Sinch's voice callbacks: PIN menu, conference, call records. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "db.h"
#include "service.h"
#include "sinch.h"

#define CALLBACK_BODY_MAX	(64 * 1024)

/* Everything one callback needs; nothing outlives the request. */
struct callback {
	struct cgi_request	*request;
	struct cgi_response	*response;
	struct service		*service;
	const struct config	*config;
	struct db		*db;
	struct sinch_event	 event;
	cJSON			*svaml;
	time_t			 now;
};

static int
callback_open_database(struct callback *callback)
{
	return service_database(callback->service, DB_READ_WRITE, &callback->db);
}

/* Find the active conference for pin; DB_NONE for a malformed or unknown PIN. */
static int
callback_find_conference(struct callback *callback, const char *pin,
    struct db_conference *conference)
{
	return db_find_conference_for_pin(callback->db, pin, callback->config->timezone,
	    callback->now, conference);
}

static int
callback_connect(struct callback *callback, const struct db_conference *conference,
    const char *cli)
{
	if (db_call_joined(callback->db, callback->event.callid, conference) != DB_OK)
		return DB_FAULT;
	if (svaml_say(callback->svaml, callback->config->say_welcome, callback->config->locale) != 0 ||
	    svaml_connect_conference(callback->svaml, conference->sinch_id, cli,
	    callback->config->moh) != 0)
		return DB_FAULT;
	return DB_OK;
}

static int
callback_reject(struct callback *callback, const char *then)
{
	if (svaml_say(callback->svaml, callback->config->say_invalid, callback->config->locale) != 0 ||
	    svaml_action(callback->svaml, then) != 0)
		return DB_FAULT;
	return DB_OK;
}

/*
 * A browser's callConference(pin): the destination is the PIN.  Wrong PINs
 * count against the address that fetched the browser's ticket, so the
 * callback is no way around getticket's guess limit.
 */
static int
answer_browser_ice(struct callback *callback)
{
	struct sinch_event *event = &callback->event;
	struct db_conference conference;
	char address[64] = "";
	int retry_after = 0, attempts, rc;

	if (event->to_type == NULL || strcasecmp(event->to_type, "conference") != 0) {
		/* Our key must never place calls to numbers or users on the owner's bill. */
		cgi_log(callback->request, "call %s: browser asked for a %s destination: refused",
		    event->callid, event->to_type != NULL ? event->to_type : "missing");
		return svaml_action(callback->svaml, "hangup") == 0 ? DB_OK : DB_FAULT;
	}
	if (db_call_started(callback->db, event->callid, "mxp", event->caller) != DB_OK)
		return DB_FAULT;
	if (event->caller != NULL &&
	    db_ticket_address(callback->db, event->caller, address, sizeof(address)) == DB_FAULT)
		return DB_FAULT;
	if (*address != '\0' &&
	    db_guess_lockout(callback->db, address, callback->now, &retry_after) != DB_OK)
		return DB_FAULT;
	/* A locked-out address is refused even with the right PIN, as getticket does. */
	rc = retry_after > 0 ? DB_NONE :
	    callback_find_conference(callback, event->to_endpoint, &conference);
	if (rc == DB_OK)
		return callback_connect(callback, &conference, event->caller);
	if (rc != DB_NONE)
		return rc;
	if (db_call_failed_attempt(callback->db, event->callid, &attempts) != DB_OK)
		return DB_FAULT;
	if (*address != '\0' && retry_after == 0 && db_guess_record(callback->db, address) != DB_OK)
		return DB_FAULT;
	return callback_reject(callback, "hangup");
}

static int
answer_phone_ice(struct callback *callback)
{
	int pin_length;

	if (db_call_started(callback->db, callback->event.callid, "pstn",
	    callback->event.caller) != DB_OK)
		return DB_FAULT;
	if (db_setting(callback->db, "pin_length", &pin_length) != DB_OK)
		return DB_FAULT;
	return svaml_run_menu(callback->svaml, callback->config, pin_length) == 0 ?
	    DB_OK : DB_FAULT;
}

/* A wrong PIN, a timeout or invalid input: ask again, or give up. */
static int
answer_wrong_pin(struct callback *callback)
{
	int attempts, pin_length;

	if (db_call_failed_attempt(callback->db, callback->event.callid, &attempts) != DB_OK)
		return DB_FAULT;
	if (attempts >= callback->config->pin_attempts)
		return callback_reject(callback, "hangup");
	if (db_setting(callback->db, "pin_length", &pin_length) != DB_OK)
		return DB_FAULT;
	if (svaml_say(callback->svaml, callback->config->say_invalid, callback->config->locale) != 0 ||
	    svaml_run_menu(callback->svaml, callback->config, pin_length) != 0)
		return DB_FAULT;
	return DB_OK;
}

static int
answer_pie(struct callback *callback)
{
	struct db_conference conference;
	char caller[SINCH_FIELD_MAX + 1] = "";
	int rc;

	if (strcmp(callback->event.menu_type, "sequence") != 0)
		return answer_wrong_pin(callback);
	if ((rc = callback_find_conference(callback, callback->event.menu_value,
	    &conference)) == DB_NONE)
		return answer_wrong_pin(callback);
	if (rc != DB_OK)
		return rc;
	/* PIE carries no caller id: the ICE of this call stored it. */
	if (db_call_caller(callback->db, callback->event.callid, caller, sizeof(caller)) == DB_FAULT)
		return DB_FAULT;
	return callback_connect(callback, &conference, caller);
}

static int
answer_dice(struct callback *callback)
{
	char cutoff[CLOCK_TIME_SIZE];

	if (db_call_ended(callback->db, callback->event.callid, callback->event.reason,
	    callback->event.result, callback->event.duration) != DB_OK)
		return DB_FAULT;
	/* Pruning rides along in small batches, so no cron job is needed. */
	if (db_prune_tickets_and_guesses(callback->db, callback->now,
	    callback->config->ticket_expires) != DB_OK)
		return DB_FAULT;
	if (callback->config->retention_days > 0) {
		clock_format_utc(callback->now - (time_t)callback->config->retention_days * 86400,
		    -1, cutoff);
		if (db_prune_calls(callback->db, cutoff) != DB_OK)
			return DB_FAULT;
	}
	return DB_OK;
}

/* Run one event's database work in a single write transaction. */
static int
callback_transaction(struct callback *callback, int (*answer)(struct callback *))
{
	if (callback_open_database(callback) != DB_OK || db_begin(callback->db) != DB_OK)
		return DB_FAULT;
	if (answer(callback) != DB_OK) {
		db_rollback(callback->db);
		return DB_FAULT;
	}
	return db_commit(callback->db);
}

static const char *
callback_fault_reason(struct callback *callback)
{
	return callback->db != NULL && callback->db->why[0] != '\0' ? callback->db->why :
	    "cannot build the answer";
}

/* A live call we cannot serve: the caller hears an apology and a hangup, never silence. */
static void
callback_say_sorry(struct callback *callback)
{
	cJSON_Delete(callback->svaml);
	callback->svaml = svaml_new();
	if (callback->svaml == NULL ||
	    svaml_say(callback->svaml, callback->config->say_unavailable, callback->config->locale) != 0 ||
	    svaml_action(callback->svaml, "hangup") != 0) {
		/* Out of memory: a bare hangup is the most we can still say. */
		cgi_response_set_body(callback->response, 200, "application/json",
		    strdup("{\"action\":{\"name\":\"hangup\"}}"));
		return;
	}
	cgi_response_set_body(callback->response, 200, "application/json",
	    svaml_print(callback->svaml));
}

/* A fault during a live call. */
static void
callback_apologise(struct callback *callback)
{
	cgi_log(callback->request, "call %s: %s: apologised and hung up",
	    callback->event.callid, callback_fault_reason(callback));
	callback_say_sorry(callback);
}

static void
callback_answer(struct callback *callback)
{
	struct sinch_event *event = &callback->event;
	int rc = DB_OK;

	switch (event->type) {
	case SINCH_ICE:
		rc = callback_transaction(callback,
		    event->from_browser ? answer_browser_ice : answer_phone_ice);
		break;
	case SINCH_PIE:
		if (strcmp(event->menu_type, "hangup") == 0 || strcmp(event->menu_type, "error") == 0)
			rc = svaml_action(callback->svaml, "hangup") == 0 ? DB_OK : DB_FAULT;
		else
			rc = callback_transaction(callback, answer_pie);
		break;
	case SINCH_ACE:
		rc = svaml_action(callback->svaml, "continue") == 0 ? DB_OK : DB_FAULT;
		break;
	case SINCH_DICE:
		if (callback_transaction(callback, answer_dice) != DB_OK) {
			cgi_refuse(callback->request, callback->response, 503,
			    "cannot record the end of the call", callback_fault_reason(callback));
			return;
		}
		cgi_response_set_body(callback->response, 200, "application/json", strdup("{}"));
		return;
	case SINCH_NOTIFY:
		cgi_response_set_body(callback->response, 200, "application/json", strdup("{}"));
		return;
	}
	if (rc != DB_OK) {
		callback_apologise(callback);
		return;
	}
	cgi_response_set_body(callback->response, 200, "application/json",
	    svaml_print(callback->svaml));
}

/* Checks in the order that refuses cheapest first; the signature before any parsing. */
static void
callback_handle(struct service *service, struct cgi_request *request, FILE *in,
    struct cgi_response *response)
{
	struct callback callback = { .service = service, .request = request, .response = response };
	char why[256];
	const char *reason;
	int status;

	callback.now = time(NULL);
	if (strcmp(request->method, "POST") != 0) {
		cgi_refuse(request, response, 405, "only POST is allowed", "method not allowed");
		cgi_response_add_header(response, "Allow: POST");
		return;
	}
	if (!cgi_content_type_is(request, "application/json")) {
		cgi_refuse(request, response, 415, "Content-Type must be application/json",
		    "content type is not application/json");
		return;
	}
	if ((status = cgi_request_read_body(request, in, CALLBACK_BODY_MAX, &reason)) != 0) {
		cgi_refuse(request, response, status, reason, reason);
		return;
	}
	if ((callback.config = service_config(service, why, sizeof(why))) == NULL) {
		cgi_log(request, "config %s: %s", config_path(), why);
		cgi_response_json_error(response, 500, "server configuration error");
		return;
	}
	if (!callback.config->verify_signatures)
		cgi_log(request, "WARNING: verify_signatures = no in %s: anyone can post"
		    " callbacks; never run this way in production", config_path());
	else if (sinch_verify_request(callback.config, request, callback.now, &reason) != 0) {
		cgi_refuse(request, response, 401, "request is not signed by Sinch", reason);
		goto out;
	}
	if ((status = sinch_event_parse(&callback.event, request->body,
	    request->body_length)) != 0) {
		/* Bad input still, but a caller is on the line: not Sinch's error tone. */
		if (status == -2 && (callback.event.type == SINCH_ICE ||
		    callback.event.type == SINCH_PIE)) {
			cgi_log(request, "call %s: bad input: %s: apologised and hung up",
			    callback.event.callid != NULL ? callback.event.callid : "?",
			    callback.event.why);
			callback_say_sorry(&callback);
		} else
			cgi_refuse(request, response, 400, callback.event.why, callback.event.why);
		goto out;
	}
	if ((callback.svaml = svaml_new()) == NULL) {
		cgi_refuse(request, response, 500, "internal error", "out of memory");
		goto out;
	}
	callback_answer(&callback);
out:
	cJSON_Delete(callback.svaml);
	sinch_event_free(&callback.event);
}

int
main(void)
{
	return service_main("callback.cgi", callback_handle);
}
