/* pinconf.c: the admin command: see and steer live conferences through Sinch's Calling API. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "crypto.h"
#include "db.h"
#include "db-owner.h"
#include "mail.h"
#include "secret.h"
#include "sinchapi.h"

enum pinconf_exit { PINCONF_DONE = 0, PINCONF_FAILED = 1, PINCONF_USAGE = 2 };

#define PINCONF_CANDIDATES_MAX	20	/* conferences of one name listed when it is ambiguous */

/* One run of the command; everything it opened is closed in pinconf_close(). */
struct pinconf {
	struct config		 config;
	int			 config_loaded;
	struct db		 db;
	int			 db_open;
	struct sinchapi		 api;
	int			 api_ready;
	int			 json;		/* --json: one JSON document on stdout */
	cJSON			*document;	/* what the command reports, in either form */
	struct db_conference	 conference;	/* CONF, resolved */
	char			 why[1536];	/* the one line that says why it failed */
};

struct pinconf_command {
	const char	*name;
	int		 arguments;
	const char	*usage;
	enum db_mode	 mode;
	int		(*run)(struct pinconf *, char **arguments);
};

/* A column of the human-readable tables: its heading and the JSON member it shows. */
struct pinconf_column {
	const char	*heading;
	const char	*member;
};

/*
 * What pinconf prints comes from Sinch and from the database, where a name
 * may hold a terminal's escape (U+009B, the 8-bit CSI) or a bidirectional
 * override: every such character, and every byte that is not UTF-8, is
 * written as a \uXXXX escape, which is valid inside the JSON that --json
 * prints and plain to read in a table.  Newlines and tabs are layout.
 */
static void
pinconf_safe(const char *text, char *out, size_t size)
{
	size_t used = 0, length;
	long code;

	for (; *text != '\0' && used + 13 < size; text += length) {
		if (*text == '\n' || *text == '\t' ||
		    !cgi_character_unsafe(text, &length, &code)) {
			length = *text == '\n' || *text == '\t' ? 1 : length;
			memcpy(out + used, text, length);
			used += length;
		} else if (code < 0)
			used += (size_t)snprintf(out + used, size - used, "\\ufffd");
		else if (code > 0xffff)
			used += (size_t)snprintf(out + used, size - used, "\\u%04lx\\u%04lx",
			    0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff));
		else
			used += (size_t)snprintf(out + used, size - used, "\\u%04lx", code);
	}
	out[used] = '\0';
}

/* printf to out, through pinconf_safe: the one way pinconf writes to a terminal. */
static void __attribute__((format(printf, 2, 3)))
pinconf_print(FILE *out, const char *format, ...)
{
	char *text = NULL, *safe;
	va_list ap;
	int length;

	va_start(ap, format);
	length = vasprintf(&text, format, ap);
	va_end(ap);
	if (length < 0)
		return;
	if ((safe = malloc((size_t)length * 12 + 16)) != NULL) {
		pinconf_safe(text, safe, (size_t)length * 12 + 16);
		fputs(safe, out);
	}
	free(safe);
	free(text);
}

static int pinconf_fail(struct pinconf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
pinconf_fail(struct pinconf *pinconf, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(pinconf->why, sizeof(pinconf->why), format, ap);
	va_end(ap);
	return PINCONF_FAILED;
}

static int
pinconf_out_of_memory(struct pinconf *pinconf)
{
	return pinconf_fail(pinconf, "out of memory");
}

/* The text of one cell: strings as they are, numbers whole, booleans yes/no, null "-". */
static const char *
pinconf_cell(const cJSON *item, char *buffer, size_t size)
{
	if (cJSON_IsString(item))
		return *item->valuestring != '\0' ? item->valuestring : "-";
	if (cJSON_IsNumber(item)) {
		snprintf(buffer, size, "%.0f", item->valuedouble);
		return buffer;
	}
	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item) ? "yes" : "no";
	return "-";
}

/* Print rows (a JSON array of objects) as aligned columns under their headings. */
static void
pinconf_print_table(const cJSON *rows, const struct pinconf_column *columns, size_t count)
{
	int widths[16] = { 0 };
	char buffer[32], safe[4096];
	const cJSON *row;
	size_t i;
	int length;

	for (i = 0; i < count && i < 16; i++)
		widths[i] = (int)strlen(columns[i].heading);
	cJSON_ArrayForEach(row, rows)
		for (i = 0; i < count && i < 16; i++) {
			pinconf_safe(pinconf_cell(cJSON_GetObjectItemCaseSensitive(row,
			    columns[i].member), buffer, sizeof(buffer)), safe, sizeof(safe));
			length = (int)strlen(safe);
			if (length > widths[i])
				widths[i] = length;
		}
	for (i = 0; i < count && i < 16; i++)
		pinconf_print(stdout, "%-*s%s", i + 1 < count ? widths[i] : 0, columns[i].heading,
		    i + 1 < count ? "  " : "\n");
	cJSON_ArrayForEach(row, rows)
		for (i = 0; i < count && i < 16; i++) {
			pinconf_safe(pinconf_cell(cJSON_GetObjectItemCaseSensitive(row,
			    columns[i].member), buffer, sizeof(buffer)), safe, sizeof(safe));
			pinconf_print(stdout, "%-*s%s", i + 1 < count ? widths[i] : 0, safe,
			    i + 1 < count ? "  " : "\n");
		}
}

static cJSON *
pinconf_conference_json(const struct db_conference *conference)
{
	cJSON *json = cJSON_CreateObject();

	if (json == NULL || cJSON_AddNumberToObject(json, "id", (double)conference->id) == NULL ||
	    cJSON_AddStringToObject(json, "name", conference->name) == NULL ||
	    cJSON_AddStringToObject(json, "sinch_id", conference->sinch_id) == NULL) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

/* The report's start: {"conference": {...}} for CONF. */
static int
pinconf_document_for_conference(struct pinconf *pinconf)
{
	cJSON *conference;

	if ((pinconf->document = cJSON_CreateObject()) == NULL ||
	    (conference = pinconf_conference_json(&pinconf->conference)) == NULL)
		return -1;
	cJSON_AddItemToObject(pinconf->document, "conference", conference);
	return 0;
}

/* Conferences with CONF as their exact name, for resolving and for naming the candidates. */
struct pinconf_named {
	size_t		 count;
	long long	 ids[PINCONF_CANDIDATES_MAX];
	char		 dates[PINCONF_CANDIDATES_MAX][32];
};

static void
pinconf_collect_named(void *context, const struct db_conference_listing *row)
{
	struct pinconf_named *named = context;

	if (named->count == PINCONF_CANDIDATES_MAX)
		return;
	named->ids[named->count] = row->id;
	snprintf(named->dates[named->count], sizeof(named->dates[0]), "%s to %s",
	    row->starts_on != NULL ? row->starts_on : "?", row->ends_on != NULL ? row->ends_on : "ever");
	named->count++;
}

static int
pinconf_ambiguous_name(struct pinconf *pinconf, const char *name, const struct pinconf_named *named)
{
	char list[1024] = "";
	size_t i, used = 0;

	for (i = 0; i < named->count && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%lld (%s)",
		    i > 0 ? ", " : "", named->ids[i], named->dates[i]);
	return pinconf_fail(pinconf, "%zu conferences are called '%.200s': ids %s;"
	    " give the id instead", named->count, name, list);
}

/* A conference id as text: digits, no leading zero (0042 is a PIN, never id 42). */
static int
pinconf_parse_id(const char *text, long long *id)
{
	char *end;

	if (!isdigit((unsigned char)*text) || *text == '0' || strlen(text) > 18)
		return -1;
	errno = 0;
	*id = strtoll(text, &end, 10);
	return *end == '\0' && errno == 0 ? 0 : -1;
}

/* Add a found conference to the matches, once per conference. */
static void
pinconf_match(struct db_conference *matches, size_t *count, const struct db_conference *found,
    const char **kinds, const char *kind)
{
	size_t i;

	for (i = 0; i < *count; i++)
		if (matches[i].id == found->id)
			return;
	kinds[*count] = kind;
	matches[(*count)++] = *found;
}

/*
 * CONF is an id, an exact name, the PIN of a conference active today, or a
 * Sinch conference id.  When it means two conferences, say so: these
 * commands remove people, and a guess could remove the wrong ones.
 */
static int
pinconf_resolve(struct pinconf *pinconf, const char *text)
{
	struct db_conference found, matches[4];
	struct pinconf_named named = { 0 };
	const char *kinds[4];
	size_t count = 0;
	long long id;
	int rc;

	/* "id:N" is an id and nothing else: callback.cgi names conferences so. */
	if (strncmp(text, "id:", 3) == 0) {
		if (pinconf_parse_id(text + 3, &id) != 0 ||
		    (rc = db_find_conference_by_id(&pinconf->db, id, &found)) == DB_NONE)
			return pinconf_fail(pinconf, "no conference '%.200s'", text);
		if (rc != DB_OK)
			return pinconf_fail(pinconf, "%s", pinconf->db.why);
		pinconf->conference = found;
		return PINCONF_DONE;
	}
	if (pinconf_parse_id(text, &id) == 0 &&
	    (rc = db_find_conference_by_id(&pinconf->db, id, &found)) != DB_NONE) {
		if (rc != DB_OK)
			return pinconf_fail(pinconf, "%s", pinconf->db.why);
		pinconf_match(matches, &count, &found, kinds, "id");
	}
	if (db_conferences_named_each(&pinconf->db, text, pinconf_collect_named, &named) != DB_OK)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (named.count > 1)
		return pinconf_ambiguous_name(pinconf, text, &named);
	if (named.count == 1 && db_find_conference_by_id(&pinconf->db, named.ids[0], &found) == DB_OK)
		pinconf_match(matches, &count, &found, kinds, "name");
	if ((rc = db_find_pin_holder(&pinconf->db, text, pinconf->config.timezone,
	    time(NULL), &found)) == DB_OK && found.state == DB_PIN_ACTIVE)
		pinconf_match(matches, &count, &found, kinds, "PIN");
	else if (rc != DB_NONE)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if ((rc = db_find_conference_by_sinch_id(&pinconf->db, text, &found)) == DB_OK)
		pinconf_match(matches, &count, &found, kinds, "Sinch id");
	else if (rc != DB_NONE)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (count == 0)
		return pinconf_fail(pinconf, "no conference '%.200s': give an id, an exact name,"
		    " the PIN of a conference active today or a Sinch conference id (pinconf list)",
		    text);
	if (count > 1)
		return pinconf_fail(pinconf, "'%.200s' is the %s of conference %lld (%.200s) and the"
		    " %s of conference %lld (%.200s): give the id instead", text, kinds[0],
		    matches[0].id, matches[0].name, kinds[1], matches[1].id, matches[1].name);
	pinconf->conference = matches[0];
	return PINCONF_DONE;
}

/* Sinch's failure as the one line; 40400 has its own words, given by the command. */
static int
pinconf_api_failed(struct pinconf *pinconf)
{
	return pinconf_fail(pinconf, "%s", pinconf->api.why);
}

static int
pinconf_nobody_in(struct pinconf *pinconf)
{
	return pinconf_fail(pinconf, "nobody is in conference %lld (%.200s) right now",
	    pinconf->conference.id, pinconf->conference.name);
}

/* ---------------------------------------------------------------- list */

static void
pinconf_list_row(void *context, const struct db_conference_listing *row)
{
	cJSON *rows = context, *item;

	if ((item = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddItemToArray(rows, item);
	cJSON_AddNumberToObject(item, "id", (double)row->id);
	cJSON_AddStringToObject(item, "name", row->name != NULL ? row->name : "");
	if (row->pin != NULL)
		cJSON_AddStringToObject(item, "pin", row->pin);
	else
		cJSON_AddNullToObject(item, "pin");
	cJSON_AddStringToObject(item, "starts_on", row->starts_on != NULL ? row->starts_on : "");
	if (row->ends_on != NULL)
		cJSON_AddStringToObject(item, "ends_on", row->ends_on);
	else
		cJSON_AddNullToObject(item, "ends_on");
	cJSON_AddNumberToObject(item, "participants", (double)row->participants);
}

static int
pinconf_list(struct pinconf *pinconf, char **arguments)
{
	static const struct pinconf_column columns[] = {
		{ "ID", "id" }, { "NAME", "name" }, { "PIN", "pin" }, { "FROM", "starts_on" },
		{ "UNTIL", "ends_on" }, { "IN NOW", "participants" },
	};
	char today[CLOCK_DATE_SIZE];
	cJSON *rows;

	(void)arguments;
	if (clock_today(pinconf->config.timezone, time(NULL), today) != 0)
		return pinconf_fail(pinconf, "cannot tell today's date in %s", pinconf->config.timezone);
	if ((pinconf->document = cJSON_CreateObject()) == NULL ||
	    (rows = cJSON_AddArrayToObject(pinconf->document, "conferences")) == NULL)
		return pinconf_out_of_memory(pinconf);
	if (db_conferences_active_each(&pinconf->db, today, pinconf_list_row, rows) != DB_OK)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (pinconf->json)
		return PINCONF_DONE;
	if (cJSON_GetArraySize(rows) == 0)
		pinconf_print(stdout, "no conference is active today (%s)\n", today);
	else
		pinconf_print_table(rows, columns, sizeof(columns) / sizeof(columns[0]));
	return PINCONF_DONE;
}

/* ---------------------------------------------------------------- who */

static const char *
pinconf_via(const char *origin)
{
	if (strcmp(origin, "pstn") == 0)
		return "phone";
	if (strcmp(origin, "mxp") == 0)
		return "browser";
	return NULL;
}

/* One participant: Sinch's view joined with our call table by call id. */
static int
pinconf_who_row(struct pinconf *pinconf, cJSON *rows, const struct sinchapi_participant *participant)
{
	struct db_call_participant call;
	const char *via;
	cJSON *item;
	int rc;

	if ((rc = db_call_participant(&pinconf->db, participant->callid, &call)) == DB_FAULT)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if ((item = cJSON_CreateObject()) == NULL)
		return pinconf_out_of_memory(pinconf);
	cJSON_AddItemToArray(rows, item);
	via = pinconf_via(call.origin);
	/* Our caller is the browser user's display name; Sinch's cli may be an id. */
	if (cJSON_AddStringToObject(item, "callid", participant->callid) == NULL ||
	    cJSON_AddStringToObject(item, "name", *call.caller != '\0' ? call.caller :
	    participant->cli) == NULL ||
	    (via != NULL ? cJSON_AddStringToObject(item, "via", via) :
	    cJSON_AddNullToObject(item, "via")) == NULL ||
	    (*call.joined != '\0' ? cJSON_AddStringToObject(item, "joined", call.joined) :
	    cJSON_AddNullToObject(item, "joined")) == NULL ||
	    (participant->duration >= 0 ? cJSON_AddNumberToObject(item, "seconds",
	    (double)participant->duration) : cJSON_AddNullToObject(item, "seconds")) == NULL ||
	    cJSON_AddBoolToObject(item, "host", call.host) == NULL ||
	    cJSON_AddBoolToObject(item, "muted", participant->muted) == NULL ||
	    cJSON_AddBoolToObject(item, "onhold", participant->onhold) == NULL)
		return pinconf_out_of_memory(pinconf);
	return PINCONF_DONE;
}

static int
pinconf_who(struct pinconf *pinconf, char **arguments)
{
	static const struct pinconf_column columns[] = {
		{ "CALL ID", "callid" }, { "NAME", "name" }, { "VIA", "via" },
		{ "JOINED", "joined" }, { "SECONDS", "seconds" }, { "HOST", "host" },
		{ "MUTED", "muted" },
		{ "ON HOLD", "onhold" },
	};
	struct sinchapi_participants participants = { 0 };
	cJSON *rows;
	size_t i;
	int rc;

	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	if (pinconf_document_for_conference(pinconf) != 0 ||
	    (rows = cJSON_AddArrayToObject(pinconf->document, "participants")) == NULL)
		return pinconf_out_of_memory(pinconf);
	rc = sinchapi_conference_participants(&pinconf->api, pinconf->conference.sinch_id,
	    &participants);
	if (rc == SINCHAPI_FAILED)
		return pinconf_api_failed(pinconf);
	for (i = 0; rc == SINCHAPI_OK && i < participants.count; i++)
		if (pinconf_who_row(pinconf, rows, &participants.list[i]) != PINCONF_DONE) {
			sinchapi_participants_free(&participants);
			return PINCONF_FAILED;
		}
	sinchapi_participants_free(&participants);
	if (pinconf->json)
		return PINCONF_DONE;
	/* Sinch answers 40400 for a conference nobody is in: that is an answer, not a failure. */
	if (cJSON_GetArraySize(rows) == 0) {
		pinconf_print(stdout, "nobody is in conference %lld (%s) right now\n", pinconf->conference.id,
		    pinconf->conference.name);
		return PINCONF_DONE;
	}
	pinconf_print(stdout, "conference %lld (%s): %d in now\n", pinconf->conference.id,
	    pinconf->conference.name, cJSON_GetArraySize(rows));
	pinconf_print_table(rows, columns, sizeof(columns) / sizeof(columns[0]));
	return PINCONF_DONE;
}

/* ---------------------------------------------------------------- mute, unmute, kick, end */

/* Report a done change to one participant, or to the whole conference (callid NULL). */
static int
pinconf_report(struct pinconf *pinconf, const char *done, const char *callid, const char *text)
{
	if (pinconf_document_for_conference(pinconf) != 0 ||
	    cJSON_AddStringToObject(pinconf->document, "done", done) == NULL ||
	    (callid != NULL && cJSON_AddStringToObject(pinconf->document, "callid", callid) == NULL))
		return pinconf_out_of_memory(pinconf);
	if (!pinconf->json)
		pinconf_print(stdout, "%s%s%s conference %lld (%s)\n", text, callid != NULL ? " " : "",
		    callid != NULL ? callid : "", pinconf->conference.id, pinconf->conference.name);
	return PINCONF_DONE;
}

static int
pinconf_participant_result(struct pinconf *pinconf, int rc, const char *callid)
{
	if (rc == SINCHAPI_NOT_FOUND)
		return pinconf_fail(pinconf, "call %.128s is not in conference %lld (%.200s)"
		    " right now (pinconf who shows who is)", callid, pinconf->conference.id,
		    pinconf->conference.name);
	return rc == SINCHAPI_OK ? PINCONF_DONE : pinconf_api_failed(pinconf);
}

static int
pinconf_set_muted(struct pinconf *pinconf, char **arguments, const char *command,
    const char *text)
{
	int rc;

	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	rc = sinchapi_participant_command(&pinconf->api, pinconf->conference.sinch_id,
	    arguments[1], command);
	if ((rc = pinconf_participant_result(pinconf, rc, arguments[1])) != PINCONF_DONE)
		return rc;
	/* Kept in the call table, so the roster, the keypad and the owner pages agree. */
	if (db_call_set_muted(&pinconf->db, arguments[1], strcmp(command, "mute") == 0) == DB_FAULT)
		return pinconf_fail(pinconf, "%s %s, but it is not recorded: %s", text, arguments[1],
		    pinconf->db.why);
	return pinconf_report(pinconf, command, arguments[1], text);
}

static int
pinconf_mute(struct pinconf *pinconf, char **arguments)
{
	return pinconf_set_muted(pinconf, arguments, "mute", "muted");
}

static int
pinconf_unmute(struct pinconf *pinconf, char **arguments)
{
	return pinconf_set_muted(pinconf, arguments, "unmute", "unmuted");
}

static int
pinconf_kick(struct pinconf *pinconf, char **arguments)
{
	int rc;

	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	rc = sinchapi_kick_participant(&pinconf->api, pinconf->conference.sinch_id, arguments[1]);
	if ((rc = pinconf_participant_result(pinconf, rc, arguments[1])) != PINCONF_DONE)
		return rc;
	return pinconf_report(pinconf, "kick", arguments[1], "removed");
}

static int
pinconf_end(struct pinconf *pinconf, char **arguments)
{
	int rc;

	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	rc = sinchapi_end_conference(&pinconf->api, pinconf->conference.sinch_id);
	if (rc == SINCHAPI_NOT_FOUND)
		return pinconf_nobody_in(pinconf);
	if (rc != SINCHAPI_OK)
		return pinconf_api_failed(pinconf);
	return pinconf_report(pinconf, "end", NULL, "removed everyone from");
}

/* ---------------------------------------------------------------- mute-all */

/* Mute every participant Sinch lists who is not a host (a keypad command of the hosts). */
static int
pinconf_mute_all(struct pinconf *pinconf, char **arguments)
{
	struct sinchapi_participants participants = { 0 };
	struct db_call_participant call;
	const char *callid;
	size_t i;
	int rc, muted = 0, failed = PINCONF_DONE;

	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	rc = sinchapi_conference_participants(&pinconf->api, pinconf->conference.sinch_id,
	    &participants);
	if (rc == SINCHAPI_NOT_FOUND)
		return pinconf_nobody_in(pinconf);
	if (rc != SINCHAPI_OK)
		return pinconf_api_failed(pinconf);
	for (i = 0; i < participants.count && failed == PINCONF_DONE; i++) {
		callid = participants.list[i].callid;
		if (db_call_participant(&pinconf->db, callid, &call) == DB_FAULT) {
			failed = pinconf_fail(pinconf, "%s", pinconf->db.why);
			break;
		}
		if (call.host || participants.list[i].muted)
			continue;
		rc = sinchapi_participant_command(&pinconf->api, pinconf->conference.sinch_id,
		    callid, "mute");
		/* One who left meanwhile is no failure. */
		if (rc == SINCHAPI_NOT_FOUND)
			continue;
		if (rc != SINCHAPI_OK)
			failed = pinconf_api_failed(pinconf);
		else if (db_call_set_muted(&pinconf->db, callid, 1) == DB_FAULT)
			failed = pinconf_fail(pinconf, "%s", pinconf->db.why);
		else
			muted++;
	}
	sinchapi_participants_free(&participants);
	if (failed != PINCONF_DONE)
		return failed;
	if (pinconf_document_for_conference(pinconf) != 0 ||
	    cJSON_AddStringToObject(pinconf->document, "done", "mute-all") == NULL ||
	    cJSON_AddNumberToObject(pinconf->document, "muted", muted) == NULL)
		return pinconf_out_of_memory(pinconf);
	if (!pinconf->json)
		printf("muted %d participant%s (all but the hosts) in conference %lld (%s)\n", muted,
		    muted == 1 ? "" : "s", pinconf->conference.id, pinconf->conference.name);
	return PINCONF_DONE;
}

/* ---------------------------------------------------------------- host, wait-for-host, end-with-host */

static int
pinconf_parse_switch(struct pinconf *pinconf, const char *text, int *on)
{
	if (strcmp(text, "on") == 0 || strcmp(text, "off") == 0) {
		*on = strcmp(text, "on") == 0;
		return PINCONF_DONE;
	}
	return pinconf_fail(pinconf, "'%.20s' is neither on nor off", text);
}

/* Report a changed setting of the conference (what) or of one of its attendees. */
static int
pinconf_report_switch(struct pinconf *pinconf, const char *what, long long attendee_id, int on)
{
	if (pinconf_document_for_conference(pinconf) != 0 ||
	    cJSON_AddBoolToObject(pinconf->document, what, on) == NULL ||
	    (attendee_id != 0 && cJSON_AddNumberToObject(pinconf->document, "attendee",
	    (double)attendee_id) == NULL))
		return pinconf_out_of_memory(pinconf);
	if (pinconf->json)
		return PINCONF_DONE;
	if (attendee_id != 0)
		printf("attendee %lld of conference %lld (%s) is %s\n", attendee_id,
		    pinconf->conference.id, pinconf->conference.name, on ? "a host" : "no host");
	else
		printf("conference %lld (%s): %s %s\n", pinconf->conference.id,
		    pinconf->conference.name, what, on ? "on" : "off");
	return PINCONF_DONE;
}

static int
pinconf_host(struct pinconf *pinconf, char **arguments)
{
	long long attendee_id;
	int on = 0, rc;

	if ((rc = pinconf_parse_switch(pinconf, arguments[2], &on)) != PINCONF_DONE)
		return rc;
	if (pinconf_parse_id(arguments[1], &attendee_id) != 0)
		return pinconf_fail(pinconf, "'%.40s' is not an attendee id (sqlite3: SELECT id, name"
		    " FROM attendee)", arguments[1]);
	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	if ((rc = db_attendee_set_host(&pinconf->db, pinconf->conference.id, attendee_id, on)) ==
	    DB_FAULT)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (rc == DB_NONE)
		return pinconf_fail(pinconf, "conference %lld (%.200s) has no attendee %lld",
		    pinconf->conference.id, pinconf->conference.name, attendee_id);
	return pinconf_report_switch(pinconf, "host", attendee_id, on);
}

static int
pinconf_conference_switch(struct pinconf *pinconf, char **arguments, const char *what,
    int (*set)(struct db *, long long, int))
{
	int on = 0, rc;

	if ((rc = pinconf_parse_switch(pinconf, arguments[1], &on)) != PINCONF_DONE)
		return rc;
	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	if (set(&pinconf->db, pinconf->conference.id, on) == DB_FAULT)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	return pinconf_report_switch(pinconf, what, 0, on);
}

static int
pinconf_wait_for_host(struct pinconf *pinconf, char **arguments)
{
	return pinconf_conference_switch(pinconf, arguments, "wait_for_host",
	    db_conference_set_wait_for_host);
}

static int
pinconf_end_with_host(struct pinconf *pinconf, char **arguments)
{
	return pinconf_conference_switch(pinconf, arguments, "end_with_host",
	    db_conference_set_end_with_host);
}

/* ---------------------------------------------------------------- call */

/* E.164 with the plus, as Sinch requires: + then 7 to 15 digits, the first not 0. */
static int
pinconf_e164(const char *number)
{
	size_t digits = strlen(number) - (*number == '+');

	return number[0] == '+' && number[1] >= '1' && number[1] <= '9' &&
	    digits >= 7 && digits <= 15 && strspn(number + 1, "0123456789") == digits;
}

static int
pinconf_call(struct pinconf *pinconf, char **arguments)
{
	const char *number = arguments[1];
	char callid[SINCHAPI_ID_MAX + 1];
	int rc;

	if (!pinconf_e164(number))
		return pinconf_fail(pinconf, "'%.40s' is not an E.164 number: + then 7 to 15 digits,"
		    " e.g. +46701234567", number);
	if (*pinconf->config.callout_cli == '\0')
		return pinconf_fail(pinconf, "callout_cli is not set in %s: set it to the E.164"
		    " number the called phone should show", config_path());
	if ((rc = pinconf_resolve(pinconf, arguments[0])) != PINCONF_DONE)
		return rc;
	rc = sinchapi_conference_callout(&pinconf->api, pinconf->conference.sinch_id,
	    pinconf->config.callout_cli, number, pinconf->config.say_welcome,
	    pinconf->config.locale, callid, sizeof(callid));
	if (rc == SINCHAPI_NOT_FOUND)
		return pinconf_fail(pinconf, "Sinch at %s cannot call %s into conference %lld (%.200s):"
		    " %s", pinconf->api.host, number, pinconf->conference.id,
		    pinconf->conference.name, *pinconf->api.error.message != '\0' ?
		    pinconf->api.error.message : "not found");
	if (rc != SINCHAPI_OK)
		return pinconf_api_failed(pinconf);
	/* Recorded under Sinch's call id, so this leg's ACE and DiCE find it. */
	if (db_callout_started(&pinconf->db, callid, number, &pinconf->conference) != DB_OK)
		return pinconf_fail(pinconf, "Sinch is calling %s (call %s), but it is not recorded:"
		    " %s", number, callid, pinconf->db.why);
	if (pinconf_document_for_conference(pinconf) != 0 ||
	    cJSON_AddStringToObject(pinconf->document, "callid", callid) == NULL ||
	    cJSON_AddStringToObject(pinconf->document, "number", number) == NULL)
		return pinconf_out_of_memory(pinconf);
	if (!pinconf->json)
		pinconf_print(stdout, "calling %s into conference %lld (%s): call %s\n", number,
		    pinconf->conference.id, pinconf->conference.name, callid);
	return PINCONF_DONE;
}

/* ---------------------------------------------------------------- owner */

/* An admin-made account waits for its owner this long to set a password. */
#define PINCONF_OWNER_LINK_SECONDS	(7 * 86400L)

static void
pinconf_owner_row(void *context, const struct db_owner *owner)
{
	cJSON *rows = context, *item;

	if ((item = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddItemToArray(rows, item);
	cJSON_AddNumberToObject(item, "id", (double)owner->id);
	cJSON_AddStringToObject(item, "email", owner->email);
	cJSON_AddBoolToObject(item, "confirmed", owner->confirmed);
	cJSON_AddBoolToObject(item, "admin", owner->admin);
	if (*owner->last_login != '\0')
		cJSON_AddStringToObject(item, "last_login", owner->last_login);
	else
		cJSON_AddNullToObject(item, "last_login");
}

static int
pinconf_owner_list(struct pinconf *pinconf)
{
	static const struct pinconf_column columns[] = {
		{ "ID", "id" }, { "EMAIL", "email" }, { "CONFIRMED", "confirmed" },
		{ "ADMIN", "admin" }, { "LAST LOGIN", "last_login" },
	};
	cJSON *rows;

	if ((pinconf->document = cJSON_CreateObject()) == NULL ||
	    (rows = cJSON_AddArrayToObject(pinconf->document, "owners")) == NULL)
		return pinconf_out_of_memory(pinconf);
	if (db_owner_each(&pinconf->db, pinconf_owner_row, rows) != DB_OK)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (pinconf->json)
		return PINCONF_DONE;
	if (cJSON_GetArraySize(rows) == 0)
		printf("no owner accounts\n");
	else
		pinconf_print_table(rows, columns, sizeof(columns) / sizeof(columns[0]));
	return PINCONF_DONE;
}

/*
 * A new owner, unconfirmed and without a password, mailed a link to set one
 * (owner.cgi's reset page, which confirms the address).  The mail goes first,
 * so that a failed one leaves no account behind.
 */
static int
pinconf_owner_add(struct pinconf *pinconf, const char *email)
{
	char token[SECRET_TOKEN_SIZE], hash[SECRET_HASH_SIZE], expires[CLOCK_TIME_SIZE];
	char now[CLOCK_TIME_SIZE], *text = NULL, *message = NULL, why[512];
	struct mail mail = { pinconf->config.mail_from, email, "Your pinconf account", NULL,
	    NULL, 0 };
	struct db_owner existing;
	const char *reason;
	size_t length;
	long long id;
	int rc = PINCONF_FAILED, found;

	if (*pinconf->config.mail_from == '\0' || *pinconf->config.public_url == '\0')
		return pinconf_fail(pinconf, "mail_from and public_url must be set in %s to mail"
		    " the link", config_path());
	if (strchr(email, '@') == NULL || strpbrk(email, " \t\r\n<>\"") != NULL)
		return pinconf_fail(pinconf, "%s is not an e-mail address", email);
	if ((found = db_owner_find_by_email(&pinconf->db, email, &existing)) == DB_FAULT)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (found == DB_OK)
		return pinconf_fail(pinconf, "%s already has an account", email);
	if (secret_token_new(token) != 0 || asprintf(&text, "An account on pinconf was made for"
	    " you. Set its password with this link (it works for 7 days):\n\n%s/cgi-bin/owner.cgi"
	    "/reset?token=%s\n", pinconf->config.public_url, token) < 0) {
		text = NULL;
		rc = pinconf_out_of_memory(pinconf);
		goto out;
	}
	mail.text = text;
	if (mail_build(&mail, time(NULL), &message, &length, &reason) != 0) {
		rc = pinconf_fail(pinconf, "mail to %s: %s", email, reason);
		goto out;
	}
	if (mail_send(pinconf->config.sendmail, message, length, why, sizeof(why)) != 0) {
		rc = pinconf_fail(pinconf, "mail to %s: %s; no account made", email, why);
		goto out;
	}
	secret_token_hash(token, hash);
	clock_format_utc(time(NULL) + PINCONF_OWNER_LINK_SECONDS, -1, expires);
	clock_format_utc(time(NULL), -1, now);
	if (db_begin(&pinconf->db) != DB_OK ||
	    (found = db_owner_insert(&pinconf->db, email, NULL, 0, &id)) != DB_OK ||
	    db_token_add(&pinconf->db, hash, id, DB_TOKEN_RESET, expires, now) != DB_OK ||
	    db_commit(&pinconf->db) != DB_OK) {
		db_rollback(&pinconf->db);
		rc = pinconf_fail(pinconf, "%s", found == DB_NONE ? "the address was taken meanwhile"
		    : pinconf->db.why);
		goto out;
	}
	if ((pinconf->document = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(pinconf->document, "id", (double)id) == NULL ||
	    cJSON_AddStringToObject(pinconf->document, "email", email) == NULL) {
		rc = pinconf_out_of_memory(pinconf);
		goto out;
	}
	if (!pinconf->json)
		printf("owner %lld (%s) added; a link to set the password was mailed\n", id, email);
	rc = PINCONF_DONE;
out:
	crypto_wipe(token, sizeof(token));
	if (text != NULL)
		crypto_wipe(text, strlen(text));
	if (message != NULL)
		crypto_wipe(message, length);
	free(text);
	free(message);
	return rc;
}

static int
pinconf_owner(struct pinconf *pinconf, char **arguments)
{
	const char *what = arguments[0], *email = arguments[1];
	int rc;

	if (strcmp(what, "list") == 0 && email == NULL)
		return pinconf_owner_list(pinconf);
	if (email == NULL)
		return pinconf_fail(pinconf, "owner %s needs an e-mail address", what);
	if (strcmp(what, "add") == 0)
		return pinconf_owner_add(pinconf, email);
	if (strcmp(what, "admin") == 0)
		rc = db_owner_set_admin(&pinconf->db, email, 1);
	else if (strcmp(what, "remove") == 0)
		rc = db_owner_delete(&pinconf->db, email);
	else
		return pinconf_fail(pinconf, "owner: add, admin, list or remove, not %.40s", what);
	if (rc == DB_FAULT)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	if (rc == DB_NONE)
		return pinconf_fail(pinconf, "no owner has the address %s", email);
	if ((pinconf->document = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(pinconf->document, "email", email) == NULL)
		return pinconf_out_of_memory(pinconf);
	if (!pinconf->json)
		printf("owner %s %s\n", email, strcmp(what, "admin") == 0 ? "is now an admin" :
		    "removed, with its sessions; its conferences stay, as the admin's");
	return PINCONF_DONE;
}

/* ---------------------------------------------------------------- main */

static const struct pinconf_command pinconf_commands[] = {
	{ "list", 0, "list", DB_READ_ONLY, pinconf_list },
	{ "who", 1, "who CONF", DB_READ_ONLY, pinconf_who },
	{ "mute", 2, "mute CONF CALLID", DB_READ_WRITE, pinconf_mute },
	{ "unmute", 2, "unmute CONF CALLID", DB_READ_WRITE, pinconf_unmute },
	{ "mute-all", 1, "mute-all CONF", DB_READ_WRITE, pinconf_mute_all },
	{ "kick", 2, "kick CONF CALLID", DB_READ_ONLY, pinconf_kick },
	{ "end", 1, "end CONF", DB_READ_ONLY, pinconf_end },
	/* It records the leg it placed. */
	{ "call", 2, "call CONF NUMBER", DB_READ_WRITE, pinconf_call },
	{ "host", 3, "host CONF ATTENDEE on|off", DB_READ_WRITE, pinconf_host },
	{ "wait-for-host", 2, "wait-for-host CONF on|off", DB_READ_WRITE, pinconf_wait_for_host },
	{ "end-with-host", 2, "end-with-host CONF on|off", DB_READ_WRITE, pinconf_end_with_host },
	/* -2: one or two arguments. */
	{ "owner", -2, "owner add EMAIL | admin EMAIL | list | remove EMAIL", DB_READ_WRITE,
	    pinconf_owner },
};
#define PINCONF_COMMANDS (sizeof(pinconf_commands) / sizeof(pinconf_commands[0]))

static void
pinconf_usage(FILE *out)
{
	size_t i;

	for (i = 0; i < PINCONF_COMMANDS; i++)
		fprintf(out, "%s pinconf [--json] %s\n", i == 0 ? "usage:" : "      ",
		    pinconf_commands[i].usage);
	fprintf(out, "       pinconf -h\n");
}

static const struct pinconf_command *
pinconf_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < PINCONF_COMMANDS; i++)
		if (strcmp(pinconf_commands[i].name, name) == 0)
			return &pinconf_commands[i];
	return NULL;
}

static int
pinconf_open(struct pinconf *pinconf, enum db_mode mode)
{
	char why[512];

	if (config_load(&pinconf->config, config_path(), why, sizeof(why)) != 0)
		return pinconf_fail(pinconf, "config %s: %s", config_path(), why);
	pinconf->config_loaded = 1;
	if (db_open(&pinconf->db, pinconf->config.database, mode,
	    pinconf->config.busy_timeout) != DB_OK)
		return pinconf_fail(pinconf, "%s", pinconf->db.why);
	pinconf->db_open = 1;
	if (sinchapi_init(&pinconf->api, &pinconf->config) != 0)
		return pinconf_fail(pinconf, "%s", pinconf->api.why);
	pinconf->api_ready = 1;
	return PINCONF_DONE;
}

static void
pinconf_close(struct pinconf *pinconf)
{
	if (pinconf->api_ready)
		sinchapi_cleanup(&pinconf->api);
	if (pinconf->db_open)
		db_close(&pinconf->db);
	if (pinconf->config_loaded)
		config_free(&pinconf->config);
	cJSON_Delete(pinconf->document);
}

/* Print the report, or the one line that says why; with --json, one document either way. */
static void
pinconf_finish(struct pinconf *pinconf, int rc)
{
	cJSON *error;
	char *text;

	if (rc != PINCONF_DONE) {
		pinconf_print(stderr, "pinconf: %s\n", pinconf->why);
		if (!pinconf->json)
			return;
		cJSON_Delete(pinconf->document);
		if ((pinconf->document = error = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(error, "error", pinconf->why) == NULL)
			return;
	}
	if (!pinconf->json || pinconf->document == NULL)
		return;
	if ((text = cJSON_Print(pinconf->document)) != NULL)
		pinconf_print(stdout, "%s\n", text);
	free(text);
}

/* Take --json and -h from anywhere before "--"; the rest, in order, are the words. */
static int
pinconf_options(struct pinconf *pinconf, int argc, char **argv, char **words, int *count,
    int *help)
{
	int i, options = 1;

	*count = 0;
	for (i = 1; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0)
			options = 0;
		else if (options && strcmp(argv[i], "--json") == 0)
			pinconf->json = 1;
		else if (options && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0))
			*help = 1;
		else if (options && argv[i][0] == '-' && argv[i][1] != '\0') {
			pinconf_print(stderr, "pinconf: unknown option %.40s\n", argv[i]);
			return -1;
		} else
			words[(*count)++] = argv[i];
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct pinconf pinconf;
	const struct pinconf_command *command;
	char **words;
	int count, help = 0, rc;

	memset(&pinconf, 0, sizeof(pinconf));
	if ((words = calloc((size_t)argc + 1, sizeof(*words))) == NULL) {
		pinconf_print(stderr, "pinconf: out of memory\n");
		return PINCONF_FAILED;
	}
	if (pinconf_options(&pinconf, argc, argv, words, &count, &help) != 0) {
		pinconf_usage(stderr);
		free(words);
		return PINCONF_USAGE;
	}
	if (help) {
		pinconf_usage(stdout);
		free(words);
		return PINCONF_DONE;
	}
	command = count > 0 ? pinconf_find_command(words[0]) : NULL;
	if (command == NULL || (command->arguments >= 0 ? count - 1 != command->arguments :
	    count - 1 < 1 || count - 1 > -command->arguments)) {
		if (count > 0 && command == NULL)
			pinconf_print(stderr, "pinconf: unknown command %.40s\n", words[0]);
		else if (count > 0)
			pinconf_print(stderr, "pinconf: %s takes %d argument%s\n", command->name,
			    abs(command->arguments), abs(command->arguments) == 1 ? "" : "s");
		pinconf_usage(stderr);
		free(words);
		return PINCONF_USAGE;
	}
	if ((rc = pinconf_open(&pinconf, command->mode)) == PINCONF_DONE)
		rc = command->run(&pinconf, words + 1);
	pinconf_finish(&pinconf, rc);
	pinconf_close(&pinconf);
	free(words);
	return rc;
}
