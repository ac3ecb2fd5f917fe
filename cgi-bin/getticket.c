/* getticket.c: signs a Sinch user ticket for a browser that knows an active conference's PIN. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "configfile.h"
#include "db.h"
#include "service.h"
#include "sinch.h"

#define IDENTITY_MAX	64	/* the longest name the page lets a person type */

struct getticket {
	struct cgi_request	*request;
	struct cgi_response	*response;
	struct service		*service;
	const struct config	*config;
	struct db		*db;
	char			*identity;
	char			*pin;
	const char		*address;
	struct timeval		 now;
};

static void
getticket_answer_ticket(struct getticket *getticket)
{
	cJSON *object = NULL;
	char *ticket, *body = NULL;

	ticket = sinch_user_ticket(getticket->config, getticket->identity, getticket->now.tv_sec,
	    (int)(getticket->now.tv_usec / 1000), getticket->config->ticket_expires);
	if (ticket != NULL && (object = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(object, "userTicket", ticket) != NULL)
		body = cJSON_PrintUnformatted(object);
	cJSON_Delete(object);
	free(ticket);
	if (body == NULL) {
		cgi_refuse(getticket->request, getticket->response, 500, "internal error",
		    "cannot build the ticket");
		return;
	}
	cgi_response_set_body(getticket->response, 200, "application/json", body);
}

static void
getticket_answer_locked_out(struct getticket *getticket, int retry_after)
{
	char why[128];

	snprintf(why, sizeof(why), "address %s is locked out for %d s after too many wrong PINs",
	    getticket->address, retry_after);
	cgi_refuse(getticket->request, getticket->response, 429,
	    "too many wrong PINs from this address; try again later", why);
	if (asprintf(&getticket->response->extra_header, "Retry-After: %d", retry_after) < 0)
		getticket->response->extra_header = NULL;
}

static void
getticket_fault(struct getticket *getticket)
{
	db_rollback(getticket->db);
	cgi_refuse(getticket->request, getticket->response, 503,
	    "the conference service is unavailable; try again later", getticket->db->why);
}

/* Look the PIN up and sign, or count a wrong guess: one write transaction. */
static void
getticket_lookup(struct getticket *getticket)
{
	struct db_conference conference;
	int retry_after, rc;

	if (service_database(getticket->service, DB_READ_WRITE, &getticket->db) != DB_OK) {
		cgi_refuse(getticket->request, getticket->response, 503,
		    "the conference service is unavailable; try again later", getticket->db->why);
		return;
	}
	if (db_begin(getticket->db) != DB_OK ||
	    db_guess_lockout(getticket->db, getticket->address, getticket->now.tv_sec,
	    &retry_after) != DB_OK) {
		getticket_fault(getticket);
		return;
	}
	if (retry_after > 0) {
		db_rollback(getticket->db);
		getticket_answer_locked_out(getticket, retry_after);
		return;
	}
	rc = db_find_conference_for_pin(getticket->db, getticket->pin, getticket->config->timezone,
	    getticket->now.tv_sec, &conference);
	if (rc == DB_FAULT ||
	    (rc == DB_NONE && db_guess_record(getticket->db, getticket->address) != DB_OK) ||
	    (rc == DB_OK && db_ticket_issued(getticket->db, getticket->identity,
	    getticket->address) != DB_OK) ||
	    db_commit(getticket->db) != DB_OK) {
		getticket_fault(getticket);
		return;
	}
	if (rc == DB_NONE)
		cgi_refuse(getticket->request, getticket->response, 404,
		    "no active conference has this PIN", "unknown or expired PIN");
	else
		getticket_answer_ticket(getticket);
}

static void
getticket_handle(struct service *service, struct cgi_request *request, FILE *in,
    struct cgi_response *response)
{
	struct getticket getticket = { .service = service, .request = request, .response = response };
	char why[256];

	(void)in;
	gettimeofday(&getticket.now, NULL);
	cgi_response_add_header(response, "Cache-Control: no-store");
	if (strcmp(request->method, "GET") != 0) {
		cgi_refuse(request, response, 405, "only GET is allowed", "method not allowed");
		cgi_response_add_header(response, "Allow: GET");
		return;
	}
	getticket.identity = cgi_query_value(request, "id");
	getticket.pin = cgi_query_value(request, "pin");
	getticket.address = request->remote_address != NULL ? request->remote_address : "unknown";
	if (getticket.identity == NULL || !cgi_text_ok(getticket.identity, IDENTITY_MAX)) {
		cgi_refuse(request, response, 400,
		    "id must be 1 to 64 characters of printable text", "bad or missing id");
		goto out;
	}
	if (getticket.pin == NULL || *getticket.pin == '\0') {
		cgi_refuse(request, response, 400, "pin is required", "missing pin");
		goto out;
	}
	if ((getticket.config = service_config(service, why, sizeof(why))) == NULL) {
		cgi_log(request, "config %s: %s", config_path(), why);
		cgi_response_json_error(response, 500, "server configuration error");
		goto out;
	}
	getticket_lookup(&getticket);
out:
	free(getticket.identity);
	free(getticket.pin);
}

int
main(void)
{
	return service_main("getticket.cgi", getticket_handle);
}
