/* roster.c: tells a browser participant who is in its conference now, phone numbers masked. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "db.h"
#include "service.h"
#include "sinch.h"

#define ROSTER_BODY_MAX	1024

struct roster {
	struct cgi_request	*request;
	struct cgi_response	*response;
	cJSON			*participants;
	int			 failed;
};

/*
 * Others see a phone participant as "+46 … 123": the country code's first
 * digits and the last three, never the whole number.
 */
static void
roster_mask_number(const char *number, char *out, size_t size)
{
	const char *digits = *number == '+' ? number + 1 : number;
	size_t length = strlen(digits);

	/* A number of four digits or fewer would show whole. */
	if (length < 5 || strspn(digits, "0123456789") != length)
		snprintf(out, size, "Phone");
	else if (length < 7)
		snprintf(out, size, "\u2026 %s", digits + length - 3);
	else
		snprintf(out, size, "+%.2s \u2026 %s", digits, digits + length - 3);
}

static void
roster_add(void *context, const char *name, const char *origin, int attendee, int host)
{
	struct roster *roster = context;
	char masked[32];
	int phone = origin != NULL && strcmp(origin, "pstn") == 0;
	cJSON *item;

	if (phone && !attendee) {
		roster_mask_number(name != NULL ? name : "", masked, sizeof(masked));
		name = masked;
	}
	if ((item = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(item, "name", name != NULL ? name : "") == NULL ||
	    cJSON_AddStringToObject(item, "via", phone ? "phone" : "browser") == NULL ||
	    (host && cJSON_AddBoolToObject(item, "host", 1) == NULL)) {
		cJSON_Delete(item);
		roster->failed = 1;
		return;
	}
	cJSON_AddItemToArray(roster->participants, item);
}

/*
 * An id getticket issued, not in a call yet, for a conference that waits for
 * its host: only whether a host is in, {"participants":[],"hostIn":false},
 * which its page polls before it calls (issue 19).  Any other: 403.
 */
static void
roster_waiting(struct roster *roster, struct db *db, const struct config *config,
    const char *user_id, time_t now)
{
	struct db_identity identity;
	struct db_conference holder;
	time_t expires;
	int hosts = 0, rc;

	if ((rc = db_identity_find(db, user_id, &identity)) == DB_OK &&
	    clock_parse_utc(identity.expires, &expires) == 0 && expires > now &&
	    (rc = db_find_holder_by_id(db, identity.conference_id, identity.attendee_id,
	    config->timezone, now, &holder)) == DB_OK && holder.wait_for_host &&
	    holder.state == DB_PIN_ACTIVE && (rc = db_hosts_in(db, holder.id, now, &hosts)) == DB_OK) {
		cgi_response_set_body(roster->response, 200, "application/json",
		    strdup(hosts > 0 ? "{\"participants\":[],\"hostIn\":true}" :
		    "{\"participants\":[],\"hostIn\":false}"));
		return;
	}
	if (rc == DB_FAULT) {
		cgi_refuse(roster->request, roster->response, 503,
		    "The conference service is unavailable. Please try again later.", db->why);
		return;
	}
	cgi_refuse(roster->request, roster->response, 403,
	    "only participants in a call may see who is in it", "user id is in no call now");
}

/* The list for user_id's conference; 403 unless that id is in a call now (or waits). */
static void
roster_answer(struct roster *roster, struct service *service, const struct config *config,
    const char *user_id)
{
	struct db *db;
	cJSON *object = NULL;
	long long conference_id;
	time_t now = time(NULL);
	int rc;

	if (service_database(service, DB_READ_ONLY, &db) != DB_OK) {
		cgi_refuse(roster->request, roster->response, 503,
		    "The conference service is unavailable. Please try again later.", db->why);
		return;
	}
	if ((rc = db_conference_of_user(db, user_id, now, &conference_id)) == DB_NONE) {
		roster_waiting(roster, db, config, user_id, now);
		return;
	}
	if (rc != DB_OK || (object = cJSON_CreateObject()) == NULL ||
	    (roster->participants = cJSON_AddArrayToObject(object, "participants")) == NULL ||
	    db_participants_each(db, conference_id, now, roster_add, roster) != DB_OK ||
	    roster->failed) {
		cJSON_Delete(object);
		cgi_refuse(roster->request, roster->response, 503,
		    "The conference service is unavailable. Please try again later.",
		    db->why[0] != '\0' ? db->why : "out of memory");
		return;
	}
	cgi_response_set_body(roster->response, 200, "application/json",
	    cJSON_PrintUnformatted(object));
	cJSON_Delete(object);
}

static void
roster_handle(struct service *service, struct cgi_request *request, FILE *in,
    struct cgi_response *response)
{
	struct roster roster = { .request = request, .response = response };
	const struct config *config;
	char why[256], *user_id = NULL;
	const char *reason;
	int status;

	cgi_response_add_header(response, "Cache-Control: no-store");
	cgi_response_add_header(response, "X-Content-Type-Options: nosniff");
	if (strcmp(request->method, "POST") != 0) {
		cgi_refuse(request, response, 405, "only POST is allowed", "method not allowed");
		cgi_response_add_header(response, "Allow: POST");
		return;
	}
	if (cgi_cross_site(request, &reason)) {
		cgi_refuse(request, response, 403, "requests from other sites are refused", reason);
		return;
	}
	if (!cgi_content_type_is(request, "application/x-www-form-urlencoded")) {
		cgi_refuse(request, response, 415,
		    "Content-Type must be application/x-www-form-urlencoded",
		    "content type is not a form");
		return;
	}
	if ((status = cgi_request_read_body(request, in, ROSTER_BODY_MAX, &reason)) != 0) {
		cgi_refuse(request, response, status, reason, reason);
		return;
	}
	user_id = cgi_form_value(request->body, "userId");
	if (user_id == NULL || !sinch_user_id_ok(user_id)) {
		cgi_refuse(request, response, 403, "only participants in a call may see who is in it",
		    "missing or malformed userId");
		goto out;
	}
	if ((config = service_config(service, why, sizeof(why))) == NULL) {
		cgi_log(request, "config %s: %s", config_path(), why);
		cgi_response_json_error(response, 500, "server configuration error");
		goto out;
	}
	roster_answer(&roster, service, config, user_id);
out:
	free(user_id);
}

int
main(void)
{
	return service_main("roster.cgi", roster_handle);
}
