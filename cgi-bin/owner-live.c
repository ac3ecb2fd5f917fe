/* owner-live.c: owner.cgi's live part of a conference: who is in now, mute, remove, end, call a number in. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "db.h"
#include "db-conference.h"
#include "html.h"
#include "owner.h"
#include "sinchapi.h"

#define CALLOUT_WINDOW	3600	/* seconds over which callout_limit counts */
#define NUMBER_RULE	"Give the number in E.164: + (or nothing) then 7 to 15 digits, such as" \
			" +46701234567."

int
owner_sinch_open(struct owner *owner, struct sinchapi *api)
{
	if (sinchapi_init(api, owner->config) != 0)
		return -1;
	sinchapi_set_timeout(api, owner->config->api_timeout);
	return 0;
}

/* A phone number shown to a page: its country code's first digits and its last two. */
static void
live_mask_number(const char *number, char *out, size_t size)
{
	size_t length = strlen(number), i, j = 0;

	if (length < 6) {
		snprintf(out, size, "a phone");
		return;
	}
	for (i = 0; i < length && j + 4 < size; i++) {
		if (i < 3 || i >= length - 2)
			out[j++] = number[i];
		else {
			/* U+2022 BULLET */
			out[j++] = (char)0xe2;
			out[j++] = (char)0x80;
			out[j++] = (char)0xa2;
		}
	}
	out[j] = '\0';
}

/* The name the page shows for a call: an attendee's, a typed one, or a masked number. */
static void
live_name(const struct db_live_call *call, const char *cli, char *out, size_t size)
{
	if (*call->attendee_name != '\0')
		snprintf(out, size, "%s", call->attendee_name);
	else if (strcmp(call->origin, "mxp") == 0 && *call->caller != '\0')
		snprintf(out, size, "%s", call->caller);
	else
		live_mask_number(*call->caller != '\0' ? call->caller : cli, out, size);
}

static const char *
live_via(const struct db_live_call *call)
{
	return strcmp(call->origin, "mxp") == 0 ? "browser" : strcmp(call->origin, "pstn") == 0 ?
	    "phone" : "unknown";
}

static void
live_cell(struct owner *owner, const char *text)
{
	fputs("<td>", owner->out);
	html_text(owner->out, text);
	fputs("</td>", owner->out);
}

static void
live_table_begin(struct owner *owner, int buttons)
{
	fputs("<table class=\"owner-table\">\n<thead><tr><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Via</th><th scope=\"col\">Time in</th><th scope=\"col\">Muted</th>",
	    owner->out);
	if (buttons)
		fputs("<th scope=\"col\">Actions</th>", owner->out);
	fputs("</tr></thead>\n<tbody>\n", owner->out);
}

static void
live_minutes(long long seconds, char *out, size_t size)
{
	if (seconds < 0)
		snprintf(out, size, "unknown");
	else
		snprintf(out, size, "%lld:%02lld", seconds / 60, seconds % 60);
}

/* One participant Sinch lists, named from the call table, with its buttons. */
static void
live_row(struct owner *owner, const struct db_owned_conference *conference,
    const struct sinchapi_participant *participant)
{
	struct db_live_call call;
	char name[900], time_in[32], label[1000];

	if (db_live_call(owner->db, participant->callid, &call) != DB_OK)
		memset(&call, 0, sizeof(call));
	live_name(&call, participant->cli, name, sizeof(name));
	live_minutes(participant->duration, time_in, sizeof(time_in));
	fputs("<tr>", owner->out);
	live_cell(owner, name);
	live_cell(owner, live_via(&call));
	live_cell(owner, time_in);
	live_cell(owner, participant->muted ? "muted" : "no");
	fputs("<td>", owner->out);
	snprintf(label, sizeof(label), "%s %s", participant->muted ? "Unmute" : "Mute", name);
	owner_button(owner, participant->muted ? "/unmute" : "/mute", conference->id, "callid",
	    participant->callid, participant->muted ? "Unmute" : "Mute", label);
	snprintf(label, sizeof(label), "Remove %s", name);
	owner_button(owner, "/remove", conference->id, "callid", participant->callid, "Remove",
	    label);
	fputs("</td></tr>\n", owner->out);
}

struct live_fallback {
	struct owner	*owner;
	int		 rows;
};

/* One call the database says is in: no buttons, Sinch could not be asked. */
static void
live_fallback_row(void *context, const struct db_live_call *call)
{
	struct live_fallback *fallback = context;
	struct owner *owner = fallback->owner;
	char name[900], time_in[32];
	time_t joined;

	if (fallback->rows++ == 0)
		live_table_begin(owner, 0);
	live_name(call, "", name, sizeof(name));
	if (clock_parse_utc(call->joined, &joined) != 0)
		joined = 0;
	live_minutes(joined > 0 ? (long long)(owner->now - joined) : -1, time_in, sizeof(time_in));
	fputs("<tr>", owner->out);
	live_cell(owner, name);
	live_cell(owner, live_via(call));
	live_cell(owner, time_in);
	live_cell(owner, call->muted ? "muted" : "no");
	fputs("</tr>\n", owner->out);
}

void
owner_live_section(struct owner *owner, const struct db_owned_conference *conference)
{
	struct sinchapi_participants participants = { 0 };
	struct live_fallback fallback = { owner, 0 };
	struct sinchapi api;
	char sentence[700];
	size_t i;
	int rc;

	fputs("<section aria-labelledby=\"live\">\n<h2 id=\"live\">Who is in now</h2>\n", owner->out);
	if (owner_sinch_open(owner, &api) != 0)
		rc = SINCHAPI_FAILED;
	else {
		rc = sinchapi_conference_participants(&api, conference->sinch_id, &participants);
		sinchapi_cleanup(&api);
	}
	if (rc == SINCHAPI_NOT_FOUND || (rc == SINCHAPI_OK && participants.count == 0))
		owner_paragraph(owner, "Nobody is in the conference right now.");
	else if (rc == SINCHAPI_OK) {
		live_table_begin(owner, 1);
		for (i = 0; i < participants.count; i++)
			live_row(owner, conference, &participants.list[i]);
		fputs("</tbody>\n</table>\n", owner->out);
		fprintf(owner->out, "<p><a href=\"" OWNER_URL "/end?id=%lld\">End conference</a></p>\n",
		    conference->id);
	} else {
		/* Sinch's own words, as pinconf who says them. */
		cgi_log(owner->request, "conference %lld: live list: %s", conference->id, api.why);
		snprintf(sentence, sizeof(sentence), "The live list is missing: %s. Below is who"
		    " pinconf's records say is in.", api.why);
		owner_alert(owner, sentence);
		if (db_live_calls_each(owner->db, conference->id, live_fallback_row, &fallback) != DB_OK)
			owner_paragraph(owner, "The records cannot be read now either.");
		else if (fallback.rows == 0)
			owner_paragraph(owner, "The records show nobody in.");
		else
			fputs("</tbody>\n</table>\n", owner->out);
	}
	sinchapi_participants_free(&participants);
	fputs("</section>\n", owner->out);
}

void
owner_call_section(struct owner *owner, const struct db_owned_conference *conference,
    const struct owner_outcome *outcome)
{
	FILE *out = owner->out;
	struct owner_field number_field = { .name = "number", .label = "Number to call",
	    .type = "tel", .autocomplete = "off", .value = outcome->number,
	    .error = outcome->number_error, .hint = "E.164, such as +46701234567." };
	char number[32];

	fputs("<section aria-labelledby=\"call\">\n<h2 id=\"call\">Call a phone number into the"
	    " conference</h2>\n", out);
	owner_form_begin(owner, "/call");
	snprintf(number, sizeof(number), "%lld", conference->id);
	owner_form_hidden(owner, "id", number);
	owner_form_field(owner, &number_field);
	owner_form_end(owner, "Call");
	fputs("</section>\n", out);
}

/* ---- Buttons on participants ---- */

/* The details page again, saying why the button did nothing. */
static void
live_refused(struct owner *owner, const struct db_owned_conference *conference, int status,
    const char *alert)
{
	struct owner_outcome outcome = { 0 };

	outcome.alert = alert;
	owner_conference_show(owner, conference, &outcome, status);
}

static void
live_sinch_failed(struct owner *owner, const struct db_owned_conference *conference,
    const struct sinchapi *api, const char *what)
{
	char alert[800];

	cgi_log(owner->request, "conference %lld: %s: %s", conference->id, what, api->why);
	snprintf(alert, sizeof(alert), "Could not %s: %s.", what, api->why);
	live_refused(owner, conference, 502, alert);
}

/* Mute, unmute or remove the posted call; command NULL removes. */
static void
live_participant(struct owner *owner, const char *command, const char *done)
{
	struct db_owned_conference conference;
	struct sinchapi api;
	char *callid = NULL;
	int rc;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	callid = owner_posted(owner, "callid");
	if (callid == NULL || *callid == '\0' || strlen(callid) > SINCHAPI_ID_MAX) {
		owner_fail(owner, 400, "The form names no participant.", "no usable callid");
		goto out;
	}
	if (owner_sinch_open(owner, &api) != 0) {
		live_sinch_failed(owner, &conference, &api, done);
		goto out;
	}
	/* Sinch's path names the conference: a call in another one is not found. */
	rc = command != NULL ? sinchapi_participant_command(&api, conference.sinch_id, callid,
	    command) : sinchapi_kick_participant(&api, conference.sinch_id, callid);
	sinchapi_cleanup(&api);
	if (rc == SINCHAPI_NOT_FOUND) {
		live_refused(owner, &conference, 404, "That participant is not in the conference"
		    " right now.");
		goto out;
	}
	if (rc != SINCHAPI_OK) {
		live_sinch_failed(owner, &conference, &api, command != NULL ? command : "remove");
		goto out;
	}
	/* Kept in the call table, so the shell, pinconf who and this page agree. */
	if (command != NULL && db_live_call_set_muted(owner->db, conference.id, callid,
	    strcmp(command, "mute") == 0) == DB_FAULT) {
		owner_fault(owner);
		goto out;
	}
	cgi_log(owner->request, "owner %lld: %s call %s in conference %lld", owner->account.id,
	    done, callid, conference.id);
	owner_conference_done(owner, &conference, done);
out:
	free(callid);
}

static void
mute_post(struct owner *owner)
{
	live_participant(owner, "mute", "muted");
}

static void
unmute_post(struct owner *owner)
{
	live_participant(owner, "unmute", "unmuted");
}

static void
remove_post(struct owner *owner)
{
	live_participant(owner, NULL, "removed");
}

/* ---- End conference ---- */

static void
end_get(struct owner *owner)
{
	struct db_owned_conference conference;
	char page[64];

	if (owner_conference_load(owner, &conference) != 0 ||
	    owner_page_begin(owner, "End conference") != 0)
		return;
	fputs("<p>Remove everyone from <strong>", owner->out);
	html_text(owner->out, conference.name);
	fputs("</strong> now? They can call in again with the PIN, unless you lock the"
	    " conference.</p>\n", owner->out);
	owner_button(owner, "/end", conference.id, NULL, NULL, "End conference", NULL);
	snprintf(page, sizeof(page), "/conference?id=%lld", conference.id);
	owner_link(owner, page, "Keep it going");
	owner_page_end(owner, 200);
}

static void
end_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct sinchapi api;
	int rc;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	if (owner_sinch_open(owner, &api) != 0) {
		live_sinch_failed(owner, &conference, &api, "end the conference");
		return;
	}
	rc = sinchapi_end_conference(&api, conference.sinch_id);
	sinchapi_cleanup(&api);
	if (rc == SINCHAPI_FAILED) {
		live_sinch_failed(owner, &conference, &api, "end the conference");
		return;
	}
	cgi_log(owner->request, "owner %lld: ended conference %lld", owner->account.id,
	    conference.id);
	owner_conference_done(owner, &conference, rc == SINCHAPI_NOT_FOUND ? "nobody" : "ended");
}

/* ---- Call a number in ---- */

/* E.164 with or without its +, spaces allowed between digits: +DIGITS into out, or -1. */
static int
live_e164(const char *text, char *out, size_t size)
{
	size_t j = 0;

	if (text == NULL || size < 17)
		return -1;
	out[j++] = '+';
	if (*text == '+')
		text++;
	for (; *text != '\0'; text++) {
		if (*text == ' ')
			continue;
		if (*text < '0' || *text > '9' || j >= 16)
			return -1;
		out[j++] = *text;
	}
	out[j] = '\0';
	return j >= 8 && out[1] != '0' ? 0 : -1;
}

static void
call_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct owner_outcome outcome = { 0 };
	struct db_conference holder;
	struct sinchapi api;
	char today[CLOCK_DATE_SIZE] = "", number[24], since[CLOCK_TIME_SIZE];
	char callid[SINCHAPI_ID_MAX + 1], alert[200];
	char *typed = NULL;
	int rc, count = 0;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	typed = owner_posted(owner, "number");
	outcome.number = typed;
	/* Checked before Sinch is asked, so a typo costs nothing. */
	if (live_e164(typed, number, sizeof(number)) != 0) {
		outcome.number_error = NUMBER_RULE;
		owner_conference_show(owner, &conference, &outcome, 400);
		goto out;
	}
	clock_today(owner->config->timezone, owner->now, today);
	if (conference.locked || strcmp(conference.starts_on, today) > 0 ||
	    (*conference.ends_on != '\0' && strcmp(conference.ends_on, today) < 0)) {
		outcome.alert = conference.locked ? "The conference is locked: unlock it to call"
		    " someone in." : "The conference is not on today: nobody can be called in.";
		owner_conference_show(owner, &conference, &outcome, 409);
		goto out;
	}
	if (*owner->config->callout_cli == '\0' || owner->config->callout_limit == 0) {
		owner_fail(owner, 503, "This server does not place calls: ask its administrator to"
		    " set callout_cli.", "callout_cli is not set, or callout_limit is 0");
		goto out;
	}
	/* Counted before Sinch is asked: a stolen session cannot run up the bill. */
	owner_time(owner, -CALLOUT_WINDOW, since);
	if (db_begin(owner->db) != DB_OK ||
	    db_owner_callouts(owner->db, owner->account.id, since, &count) != DB_OK ||
	    (count < owner->config->callout_limit && db_owner_callout_record(owner->db,
	    owner->account.id, owner->now_text, since) != DB_OK) ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	if (count >= owner->config->callout_limit) {
		cgi_log_refusal(owner->request, 429, "callout_limit reached");
		snprintf(alert, sizeof(alert), "You have called %d numbers in the last hour, the most"
		    " this server allows: try again later.", count);
		outcome.alert = alert;
		owner_conference_show(owner, &conference, &outcome, 429);
		cgi_response_add_header(owner->response, "Retry-After: 3600");
		goto out;
	}
	if (owner_sinch_open(owner, &api) != 0) {
		live_sinch_failed(owner, &conference, &api, "call the number");
		goto out;
	}
	rc = sinchapi_conference_callout(&api, conference.sinch_id, owner->config->callout_cli,
	    number, owner->config->say_welcome, owner->config->locale, callid, sizeof(callid));
	sinchapi_cleanup(&api);
	if (rc != SINCHAPI_OK) {
		live_sinch_failed(owner, &conference, &api, "call the number");
		goto out;
	}
	/* Recorded under Sinch's call id, so this leg's ACE and DiCE find it, as pinconf call does. */
	if (db_find_conference_by_id(owner->db, conference.id, &holder) != DB_OK ||
	    db_callout_started(owner->db, callid, number, &holder) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	cgi_log(owner->request, "owner %lld: calling a number into conference %lld: call %s",
	    owner->account.id, conference.id, callid);
	owner_conference_done(owner, &conference, "calling");
out:
	free(typed);
}

const struct owner_page owner_live_pages[] = {
	{ "/mute", NULL, mute_post, 1, 0 },
	{ "/unmute", NULL, unmute_post, 1, 0 },
	{ "/remove", NULL, remove_post, 1, 0 },
	{ "/end", end_get, end_post, 1, 0 },
	{ "/call", NULL, call_post, 1, 0 },
	{ NULL, NULL, NULL, 0, 0 },
};
