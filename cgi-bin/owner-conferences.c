/* owner-conferences.c: owner.cgi's conference pages: my conferences, new, details, edit, delete, attendees. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
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
#include "ics.h"
#include "mail.h"
#include "owner.h"
#include "sinchapi.h"

#define NAME_CHARACTERS		100
#define DEFAULT_DAYS		5	/* a new conference ends this many days ahead, as in the original */
#define NAME_RULE		"Give a name of 1 to 100 characters, without control characters."
#define DATE_RULE		"Give a date as YYYY-MM-DD."
#define NO_SUCH_CONFERENCE	"There is no such conference."

/* What a button's redirect says happened: ?done=WORD, never the request's own text. */
static const struct {
	const char	*word;
	const char	*sentence;
} conference_done_lines[] = {
	{ "created", "The conference is made. Its PIN is below." },
	{ "saved", "Your changes are saved." },
	{ "saved-pin", "Your changes are saved. The PIN changed: the old one is taken on the new dates." },
	{ "pin", "A new PIN is drawn. The old one no longer works." },
	{ "locked", "The conference is locked: nobody new gets in." },
	{ "unlocked", "The conference is unlocked." },
	{ "hosts", "The host settings are saved." },
	{ "host-on", "The attendee is a host now." },
	{ "host-off", "The attendee is no longer a host." },
	{ "muted", "The participant is muted." },
	{ "unmuted", "The participant is unmuted." },
	{ "removed", "The participant is removed from the conference." },
	{ "ended", "Everyone is out: the conference has ended for now." },
	{ "nobody", "Nobody was in the conference." },
	{ "calling", "Sinch is calling the number: it joins the conference when answered." },
	{ "attendee-added", "The attendee is added, with a personal PIN." },
	{ "attendee-removed", "The attendee is removed." },
	{ "invited", "The invitation is sent." },
	{ "invited-all", "Invitations are sent to every attendee with an e-mail." },
	{ "invited-none", "No attendee has an e-mail: no invitation was sent." },
};

/* ---- Reading the request ---- */

/* A positive id from text: 1 to 2^53, digits only. */
static int
conference_parse_id(const char *text, long long *id)
{
	char *end;

	if (text == NULL || *text < '1' || *text > '9' || strlen(text) > 16)
		return -1;
	errno = 0;
	*id = strtoll(text, &end, 10);
	return errno == 0 && *end == '\0' && *id > 0 ? 0 : -1;
}

/* A named value of this request: the query on GET, the form on POST; malloc'd. */
static char *
conference_input(struct owner *owner, const char *name)
{
	if (strcmp(owner->request->method, "POST") == 0)
		return owner_posted(owner, name);
	return cgi_query_value(owner->request, name);
}

/* text without its leading and trailing spaces and tabs, in place. */
static char *
conference_trim(char *text)
{
	char *start, *end;

	if (text == NULL)
		return NULL;
	start = text + strspn(text, " \t");
	memmove(text, start, strlen(start) + 1);
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return text;
}

static int
conference_date_ok(const char *date)
{
	char next[CLOCK_DATE_SIZE];

	return date != NULL && ics_next_day(date, next) == 0;
}

int
owner_conference_load(struct owner *owner, struct db_owned_conference *conference)
{
	char *text = conference_input(owner, "id");
	long long id;
	int rc;

	rc = conference_parse_id(text, &id);
	free(text);
	if (rc != 0) {
		owner_fail(owner, 404, NO_SUCH_CONFERENCE, "no conference id, or not a number");
		return -1;
	}
	rc = db_owned_conference(owner->db, id, owner->account.id, owner->account.admin, conference);
	if (rc == DB_FAULT) {
		owner_fault(owner);
		return -1;
	}
	if (rc == DB_NONE) {
		/* Another owner's conference is as absent as one that never was. */
		owner_fail(owner, 404, NO_SUCH_CONFERENCE, "conference not found or not this owner's");
		return -1;
	}
	return 0;
}

/* ---- Page pieces ---- */

static const char *
conference_state(const struct owner *owner, const struct db_owned_conference *conference)
{
	char today[CLOCK_DATE_SIZE];

	if (clock_today(owner->config->timezone, owner->now, today) != 0)
		return "active";
	if (strcmp(conference->starts_on, today) > 0)
		return "upcoming";
	if (*conference->ends_on != '\0' && strcmp(conference->ends_on, today) < 0)
		return "ended";
	return "active";
}

void
owner_conference_done(struct owner *owner, const struct db_owned_conference *conference,
    const char *done)
{
	char page[96];

	snprintf(page, sizeof(page), "/conference?id=%lld&done=%s", conference->id, done);
	owner_redirect(owner, page);
}

void
owner_button(struct owner *owner, const char *page, long long id, const char *name,
    const char *value, const char *button, const char *label)
{
	FILE *out = owner->out;
	char number[32];

	fputs("<form class=\"owner-inline\" method=\"post\" action=\"" OWNER_URL, out);
	html_text(out, page);
	fputs("\">\n", out);
	owner_form_hidden(owner, "form_token", owner->form_token);
	snprintf(number, sizeof(number), "%lld", id);
	owner_form_hidden(owner, "id", number);
	if (name != NULL)
		owner_form_hidden(owner, name, value);
	fputs("<button type=\"submit\"", out);
	if (label != NULL) {
		fputs(" aria-label=\"", out);
		html_text(out, label);
		fputs("\"", out);
	}
	fputs(">", out);
	html_text(out, button);
	fputs("</button>\n</form>\n", out);
}

/* An optional or required input of the conference forms; error (or hint) shown under it. */
static void
conference_field(struct owner *owner, const char *name, const char *label, const char *type,
    const char *value, const char *error, int required, const char *hint)
{
	struct owner_field field = { .name = name, .label = label, .type = type, .value = value,
	    .error = error, .hint = hint, .optional = !required };

	owner_form_field(owner, &field);
}

static void
conference_checkbox(struct owner *owner, const char *name, const char *label, int checked)
{
	fprintf(owner->out, "<p class=\"owner-check\"><input id=\"%s\" name=\"%s\" type=\"checkbox\""
	    " value=\"1\"%s> <label for=\"%s\">", name, name, checked ? " checked" : "", name);
	html_text(owner->out, label);
	fputs("</label></p>\n", owner->out);
}

static void
conference_heading(struct owner *owner, const char *level, const char *text)
{
	fprintf(owner->out, "<%s>", level);
	html_text(owner->out, text);
	fprintf(owner->out, "</%s>\n", level);
}

/* A definition list row. */
static void
conference_fact(struct owner *owner, const char *term, const char *value)
{
	fputs("<dt>", owner->out);
	html_text(owner->out, term);
	fputs("</dt><dd>", owner->out);
	html_text(owner->out, value);
	fputs("</dd>\n", owner->out);
}

static void
conference_cell(struct owner *owner, const char *text)
{
	fputs("<td>", owner->out);
	html_text(owner->out, text);
	fputs("</td>", owner->out);
}

/* A link to one of our pages with an id, in a table cell or a paragraph. */
static void
conference_link(struct owner *owner, const char *page, long long id, const char *text,
    const char *open, const char *close)
{
	fprintf(owner->out, "%s<a href=\"" OWNER_URL "%s?id=%lld\">", open, page, id);
	html_text(owner->out, text);
	fprintf(owner->out, "</a>%s", close);
}

/* ---- My conferences ---- */

struct conference_list {
	struct owner	*owner;
	int		 ended;		/* this pass lists the ended ones */
	int		 rows;
};

static void
conference_list_row(void *context, const struct db_owned_conference *conference)
{
	struct conference_list *list = context;
	struct owner *owner = list->owner;
	const char *state = conference_state(owner, conference);
	char count[32];

	if ((strcmp(state, "ended") == 0) != list->ended)
		return;
	if (list->rows++ == 0) {
		fputs("<table class=\"owner-table\">\n<thead><tr><th scope=\"col\">Name</th>"
		    "<th scope=\"col\">PIN</th><th scope=\"col\">Starts on</th>"
		    "<th scope=\"col\">Ends on</th><th scope=\"col\">State</th>"
		    "<th scope=\"col\">In now</th>", owner->out);
		if (owner->account.admin)
			fputs("<th scope=\"col\">Owner</th>", owner->out);
		fputs("</tr></thead>\n<tbody>\n", owner->out);
	}
	fputs("<tr>", owner->out);
	conference_link(owner, "/conference", conference->id, conference->name, "<td>", "</td>");
	conference_cell(owner, conference->pin);
	conference_cell(owner, conference->starts_on);
	conference_cell(owner, *conference->ends_on != '\0' ? conference->ends_on : "no end");
	conference_cell(owner, state);
	snprintf(count, sizeof(count), "%lld", conference->in_now);
	conference_cell(owner, count);
	if (owner->account.admin)
		conference_cell(owner, conference->owner_id != 0 ? conference->owner_email : "admin");
	fputs("</tr>\n", owner->out);
}

static void
home_get(struct owner *owner)
{
	struct conference_list list = { owner, 0, 0 };

	if (owner_page_begin(owner, "My conferences") != 0)
		return;
	fputs("<p><a class=\"owner-action\" href=\"" OWNER_URL "/new\">New conference</a></p>\n",
	    owner->out);
	if (owner->account.admin)
		owner_paragraph(owner, "You are an administrator: every conference is listed,"
		    " with its owner.");
	if (db_owned_conferences_each(owner->db, owner->account.id, owner->account.admin,
	    conference_list_row, &list) != DB_OK) {
		owner_fault(owner);
		return;
	}
	if (list.rows == 0)
		owner_paragraph(owner, "You have no current conferences yet.");
	else
		fputs("</tbody>\n</table>\n", owner->out);
	list.ended = 1;
	list.rows = 0;
	conference_heading(owner, "h2", "Ended conferences");
	if (db_owned_conferences_each(owner->db, owner->account.id, owner->account.admin,
	    conference_list_row, &list) != DB_OK) {
		owner_fault(owner);
		return;
	}
	if (list.rows == 0)
		owner_paragraph(owner, "None.");
	else
		fputs("</tbody>\n</table>\n", owner->out);
	owner_page_end(owner, 200);
}

/* ---- New conference, Edit ---- */

/* The conference form as typed, and what is wrong with it. */
struct conference_form {
	char		*name;
	char		*starts_on;
	char		*ends_on;
	char		*capacity;
	int		 no_end;
	int		 announce;
	const char	*name_error;
	const char	*starts_on_error;
	const char	*ends_on_error;
	const char	*capacity_error;
	struct db_conference_fields fields;	/* what is written, once checked */
};

static void
conference_form_free(struct conference_form *form)
{
	free(form->name);
	free(form->starts_on);
	free(form->ends_on);
	free(form->capacity);
}

static int
conference_posted_flag(struct owner *owner, const char *name)
{
	char *value = owner_posted(owner, name);
	int on = value != NULL && strcmp(value, "1") == 0;

	free(value);
	return on;
}

/* Read and check the posted form; 0 if it can be written. */
static int
conference_form_read(struct owner *owner, struct conference_form *form)
{
	char today[CLOCK_DATE_SIZE] = "";
	long capacity = 0;
	char *end;

	memset(form, 0, sizeof(*form));
	form->name = conference_trim(owner_posted(owner, "name"));
	form->starts_on = conference_trim(owner_posted(owner, "starts_on"));
	form->ends_on = conference_trim(owner_posted(owner, "ends_on"));
	form->capacity = conference_trim(owner_posted(owner, "capacity"));
	form->no_end = conference_posted_flag(owner, "no_end");
	form->announce = conference_posted_flag(owner, "announce");
	if (form->name == NULL || !cgi_name_ok(form->name, NAME_CHARACTERS))
		form->name_error = NAME_RULE;
	if (form->starts_on == NULL || *form->starts_on == '\0') {
		free(form->starts_on);
		clock_today(owner->config->timezone, owner->now, today);
		form->starts_on = strdup(today);
	} else if (!conference_date_ok(form->starts_on))
		form->starts_on_error = DATE_RULE " Leave it empty to start today.";
	if (!form->no_end && (form->ends_on == NULL || !conference_date_ok(form->ends_on)))
		form->ends_on_error = DATE_RULE " Or tick No end date.";
	else if (!form->no_end && form->starts_on != NULL && form->starts_on_error == NULL &&
	    strcmp(form->ends_on, form->starts_on) < 0)
		form->ends_on_error = "The conference cannot end before it starts.";
	if (form->capacity != NULL && *form->capacity != '\0') {
		errno = 0;
		capacity = strtol(form->capacity, &end, 10);
		if (!isdigit((unsigned char)*form->capacity) || *end != '\0' || errno != 0 ||
		    capacity < 2 || capacity > 1000)
			form->capacity_error = "Give a number from 2 to 1000, or leave it empty for no limit.";
	}
	form->fields.name = form->name;
	form->fields.starts_on = form->starts_on;
	form->fields.ends_on = form->no_end ? NULL : form->ends_on;
	form->fields.max_participants = form->capacity_error == NULL ? (int)capacity : 0;
	form->fields.announce_count = form->announce;
	return form->name_error != NULL || form->starts_on_error != NULL ||
	    form->ends_on_error != NULL || form->capacity_error != NULL || form->starts_on == NULL ?
	    -1 : 0;
}

/* The form from a conference, for Edit. */
static void
conference_form_from(struct conference_form *form, const struct db_owned_conference *conference)
{
	char capacity[16] = "";

	memset(form, 0, sizeof(*form));
	if (conference->max_participants > 0)
		snprintf(capacity, sizeof(capacity), "%d", conference->max_participants);
	form->name = strdup(conference->name);
	form->starts_on = strdup(conference->starts_on);
	form->ends_on = strdup(conference->ends_on);
	form->capacity = strdup(capacity);
	form->no_end = *conference->ends_on == '\0';
	form->announce = conference->announce_count;
}

static void
conference_form_render(struct owner *owner, const char *title, const char *page, long long id,
    const struct conference_form *form, const char *button, int status)
{
	char number[32];

	if (owner_page_begin(owner, title) != 0)
		return;
	fputs("<form class=\"owner-form\" method=\"post\" action=\"" OWNER_URL, owner->out);
	html_text(owner->out, page);
	fputs("\">\n", owner->out);
	owner_form_hidden(owner, "form_token", owner->form_token);
	if (id != 0) {
		snprintf(number, sizeof(number), "%lld", id);
		owner_form_hidden(owner, "id", number);
	}
	conference_field(owner, "name", "Name", "text", form->name, form->name_error, 1, NULL);
	conference_field(owner, "starts_on", "Starts on", "date", form->starts_on,
	    form->starts_on_error, 0, "Empty: today.");
	conference_field(owner, "ends_on", "Ends on", "date", form->no_end ? NULL : form->ends_on,
	    form->ends_on_error, 0, NULL);
	conference_checkbox(owner, "no_end", "No end date", form->no_end);
	conference_field(owner, "capacity", "Capacity", "number", form->capacity,
	    form->capacity_error, 0, "How many may be in at once; empty: no limit.");
	conference_checkbox(owner, "announce", "Announce how many are in", form->announce);
	owner_paragraph(owner, "pinconf chooses the PIN.");
	owner_form_end(owner, button);
	if (id != 0)
		conference_link(owner, "/conference", id, "Back to the conference", "<p>", "</p>\n");
	else
		owner_link(owner, "/", "Back to my conferences");
	owner_page_end(owner, status);
}

static void
new_get(struct owner *owner)
{
	struct conference_form form = { 0 };
	char today[CLOCK_DATE_SIZE] = "", ends[CLOCK_DATE_SIZE] = "";
	time_t later = owner->now + DEFAULT_DAYS * 86400L;

	clock_today(owner->config->timezone, owner->now, today);
	clock_today(owner->config->timezone, later, ends);
	form.starts_on = today;
	form.ends_on = ends;
	conference_form_render(owner, "New conference", "/new", 0, &form, "Create", 200);
}

static void
new_post(struct owner *owner)
{
	struct conference_form form;
	struct db_owned_conference made = { 0 };
	int rc;

	if (conference_form_read(owner, &form) != 0) {
		conference_form_render(owner, "New conference", "/new", 0, &form, "Create", 400);
		goto out;
	}
	if (db_begin(owner->db) != DB_OK ||
	    (rc = db_conference_create(owner->db, owner->account.id, &form.fields, &made.id)) ==
	    DB_FAULT || (rc == DB_OK && db_commit(owner->db) != DB_OK)) {
		owner_fault(owner);
		goto out;
	}
	if (rc != DB_OK) {
		db_rollback(owner->db);
		form.starts_on_error = "Every PIN is taken on these dates: choose other dates,"
		    " or ask the administrator for longer PINs.";
		conference_form_render(owner, "New conference", "/new", 0, &form, "Create", 409);
		goto out;
	}
	cgi_log(owner->request, "owner %lld: made conference %lld", owner->account.id, made.id);
	owner_conference_done(owner, &made, "created");
out:
	conference_form_free(&form);
}

static void
edit_get(struct owner *owner)
{
	struct db_owned_conference conference;
	struct conference_form form;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	conference_form_from(&form, &conference);
	conference_form_render(owner, "Edit conference", "/edit", conference.id, &form, "Save", 200);
	conference_form_free(&form);
}

static void
edit_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct conference_form form;
	int rc, new_pin = 0;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	if (conference_form_read(owner, &form) != 0) {
		conference_form_render(owner, "Edit conference", "/edit", conference.id, &form, "Save",
		    400);
		goto out;
	}
	if (db_begin(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	/* The old PIN may be another's on the new dates: then draw one that is free on them. */
	if ((rc = db_conference_update(owner->db, conference.id, &form.fields, 0)) == DB_PIN_TAKEN)
		rc = db_conference_update(owner->db, conference.id, &form.fields, new_pin = 1);
	if (rc == DB_FAULT || (rc == DB_OK && db_commit(owner->db) != DB_OK)) {
		owner_fault(owner);
		goto out;
	}
	if (rc != DB_OK) {
		db_rollback(owner->db);
		form.starts_on_error = "An attendee's PIN, or every free PIN, is taken on these dates:"
		    " choose other dates.";
		conference_form_render(owner, "Edit conference", "/edit", conference.id, &form, "Save",
		    409);
		goto out;
	}
	owner_conference_done(owner, &conference, new_pin ? "saved-pin" : "saved");
out:
	conference_form_free(&form);
}

/* ---- Details ---- */

static void
conference_dial_in(void *context, const char *label, const char *number)
{
	struct owner *owner = context;

	fputs("<li>", owner->out);
	html_text(owner->out, label);
	fputs(": ", owner->out);
	html_text(owner->out, number);
	fputs("</li>\n", owner->out);
}

/* public_url + join.cgi?pin=PIN: the link a browser joins with. */
static char *
conference_join_link(const struct owner *owner, const char *pin)
{
	char *link;

	if (asprintf(&link, "%s/cgi-bin/join.cgi?pin=%s", owner->config->public_url, pin) < 0)
		return NULL;
	return link;
}

static void
conference_facts(struct owner *owner, const struct db_owned_conference *conference)
{
	char capacity[32], *link;

	fputs("<dl class=\"owner-facts\">\n", owner->out);
	conference_fact(owner, "PIN", conference->pin);
	conference_fact(owner, "State", conference_state(owner, conference));
	conference_fact(owner, "Starts on", conference->starts_on);
	conference_fact(owner, "Ends on", *conference->ends_on != '\0' ? conference->ends_on :
	    "no end");
	if (conference->max_participants > 0)
		snprintf(capacity, sizeof(capacity), "%d", conference->max_participants);
	conference_fact(owner, "Capacity", conference->max_participants > 0 ? capacity : "no limit");
	conference_fact(owner, "Announce how many are in", conference->announce_count ? "yes" : "no");
	conference_fact(owner, "Locked", conference->locked ? "yes: nobody new gets in" : "no");
	if (owner->account.admin)
		conference_fact(owner, "Owner", conference->owner_id != 0 ? conference->owner_email :
		    "admin");
	if (*owner->config->public_url != '\0' && (link = conference_join_link(owner,
	    conference->pin)) != NULL) {
		fputs("<dt>Join link</dt><dd><a href=\"", owner->out);
		html_text(owner->out, link);
		fputs("\">", owner->out);
		html_text(owner->out, link);
		fputs("</a></dd>\n", owner->out);
		free(link);
	}
	fputs("<dt>Dial-in numbers</dt><dd><ul>\n", owner->out);
	if (db_dial_in_each(owner->db, conference_dial_in, owner) != DB_OK)
		fputs("<li>(cannot be read now)</li>\n", owner->out);
	fputs("</ul></dd>\n</dl>\n", owner->out);
}

static void
conference_actions(struct owner *owner, const struct db_owned_conference *conference)
{
	fputs("<div class=\"owner-actions\">\n", owner->out);
	owner_button(owner, "/pin", conference->id, NULL, NULL, "New PIN", NULL);
	owner_button(owner, "/lock", conference->id, "locked", conference->locked ? "0" : "1",
	    conference->locked ? "Unlock" : "Lock", NULL);
	conference_link(owner, "/edit", conference->id, "Edit", "<p>", "</p>\n");
	conference_link(owner, "/delete", conference->id, "Delete conference", "<p>", "</p>\n");
	fputs("</div>\n", owner->out);
}

static void
conference_hosts_form(struct owner *owner, const struct db_owned_conference *conference)
{
	char number[32];

	conference_heading(owner, "h2", "Hosts");
	owner_paragraph(owner, "Tick Host for the attendees who host: their personal PIN makes"
	    " them one.");
	owner_form_begin(owner, "/hosts");
	snprintf(number, sizeof(number), "%lld", conference->id);
	owner_form_hidden(owner, "id", number);
	conference_checkbox(owner, "wait_for_host", "Callers wait until a host is in",
	    conference->wait_for_host);
	conference_checkbox(owner, "end_with_host", "The conference ends when the last host leaves",
	    conference->end_with_host);
	owner_form_end(owner, "Save host settings");
}

/* "1 h 02 min", "3 min", "none" for seconds in a call. */
static void
conference_duration(long long seconds, char *out, size_t size)
{
	if (seconds <= 0)
		snprintf(out, size, "none");
	else if (seconds < 3600)
		snprintf(out, size, "%lld min", (seconds + 59) / 60);
	else
		snprintf(out, size, "%lld h %02lld min", seconds / 3600, (seconds % 3600) / 60);
}

struct conference_attendees {
	struct owner				*owner;
	const struct db_owned_conference	*conference;
	int					 rows;
	int					 with_email;
};

static void
conference_attendee_row(void *context, const struct db_attendee_row *attendee)
{
	struct conference_attendees *list = context;
	struct owner *owner = list->owner;
	char value[32], label[900], time_in[48];

	if (list->rows++ == 0)
		fputs("<table class=\"owner-table\">\n<thead><tr><th scope=\"col\">Name</th>"
		    "<th scope=\"col\">E-mail</th><th scope=\"col\">Phone</th>"
		    "<th scope=\"col\">PIN</th><th scope=\"col\">Host</th>"
		    "<th scope=\"col\">Last invited</th><th scope=\"col\">Came</th>"
		    "<th scope=\"col\">Time in</th><th scope=\"col\">Actions</th></tr></thead>\n"
		    "<tbody>\n", owner->out);
	if (*attendee->email != '\0')
		list->with_email++;
	fputs("<tr>", owner->out);
	conference_cell(owner, attendee->name);
	conference_cell(owner, attendee->email);
	conference_cell(owner, attendee->phone);
	conference_cell(owner, attendee->pin);
	snprintf(value, sizeof(value), "%lld", attendee->id);
	fputs("<td>", owner->out);
	/* The button's words begin its name (WCAG 2.5.3, label in name). */
	snprintf(label, sizeof(label), "%s: %s", attendee->host ? "Not host" : "Make host",
	    attendee->name);
	fprintf(owner->out, "%s ", attendee->host ? "yes" : "no");
	owner_button(owner, "/host", list->conference->id, "attendee", value,
	    attendee->host ? "Not host" : "Make host", label);
	fputs("</td>", owner->out);
	conference_cell(owner, *attendee->invited != '\0' ? attendee->invited : "never");
	conference_cell(owner, *attendee->first_joined != '\0' ? attendee->first_joined : "not yet");
	conference_duration(attendee->seconds_in, time_in, sizeof(time_in));
	conference_cell(owner, time_in);
	fputs("<td>", owner->out);
	if (*attendee->email != '\0') {
		snprintf(label, sizeof(label), "Send invitation to %s", attendee->name);
		owner_button(owner, "/invite", list->conference->id, "attendee", value,
		    "Send invitation", label);
	}
	snprintf(label, sizeof(label), "Remove attendee %s", attendee->name);
	owner_button(owner, "/attendee/remove", list->conference->id, "attendee", value, "Remove",
	    label);
	fputs("</td></tr>\n", owner->out);
}

static void
conference_attendees(struct owner *owner, const struct db_owned_conference *conference,
    const struct owner_outcome *outcome)
{
	struct conference_attendees list = { owner, conference, 0, 0 };
	char number[32];

	conference_heading(owner, "h2", "Attendees and attendance");
	if (db_attendees_each(owner->db, conference->id, conference_attendee_row, &list) != DB_OK)
		owner_alert(owner, "The attendees cannot be read now.");
	else if (list.rows == 0)
		owner_paragraph(owner, "No attendees yet. Each one you add gets a personal PIN.");
	else
		fputs("</tbody>\n</table>\n", owner->out);
	if (list.with_email > 0)
		owner_button(owner, "/invite", conference->id, "attendee", "all",
		    "Send invitation to all with an e-mail", NULL);
	conference_heading(owner, "h3", "Add an attendee");
	owner_form_begin(owner, "/attendee/add");
	snprintf(number, sizeof(number), "%lld", conference->id);
	owner_form_hidden(owner, "id", number);
	conference_field(owner, "attendee_name", "Name", "text", outcome->attendee_name,
	    outcome->attendee_name_error, 1, NULL);
	conference_field(owner, "attendee_email", "E-mail", "email", outcome->attendee_email,
	    outcome->attendee_email_error, 0, "Optional: where the invitation goes.");
	conference_field(owner, "attendee_phone", "Phone", "tel", outcome->attendee_phone,
	    outcome->attendee_phone_error, 0, "Optional, E.164: +46701234567.");
	owner_form_end(owner, "Add attendee");
}

void
owner_conference_show(struct owner *owner, const struct db_owned_conference *conference,
    const struct owner_outcome *outcome, int status)
{
	if (owner_page_begin(owner, conference->name) != 0)
		return;
	if (outcome->notice != NULL)
		owner_notice(owner, outcome->notice);
	if (outcome->alert != NULL)
		owner_alert(owner, outcome->alert);
	conference_facts(owner, conference);
	conference_actions(owner, conference);
	owner_live_section(owner, conference);
	owner_call_section(owner, conference, outcome);
	conference_attendees(owner, conference, outcome);
	conference_hosts_form(owner, conference);
	owner_link(owner, "/", "Back to my conferences");
	owner_page_end(owner, status);
}

static void
details_get(struct owner *owner)
{
	struct db_owned_conference conference;
	struct owner_outcome outcome = { 0 };
	char *done = cgi_query_value(owner->request, "done");
	size_t i;

	if (owner_conference_load(owner, &conference) != 0)
		goto out;
	for (i = 0; done != NULL && i < sizeof(conference_done_lines) /
	    sizeof(conference_done_lines[0]); i++)
		if (strcmp(done, conference_done_lines[i].word) == 0)
			outcome.notice = conference_done_lines[i].sentence;
	owner_conference_show(owner, &conference, &outcome, 200);
out:
	free(done);
}

/* ---- Buttons: New PIN, Lock, Hosts ---- */

static void
pin_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct owner_outcome outcome = { 0 };
	int rc;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	if (db_begin(owner->db) != DB_OK ||
	    (rc = db_conference_new_pin(owner->db, conference.id)) == DB_FAULT ||
	    (rc == DB_OK && db_commit(owner->db) != DB_OK)) {
		owner_fault(owner);
		return;
	}
	if (rc != DB_OK) {
		db_rollback(owner->db);
		outcome.alert = "No other PIN is free on these dates: the PIN stays as it is.";
		owner_conference_show(owner, &conference, &outcome, 409);
		return;
	}
	cgi_log(owner->request, "owner %lld: new PIN for conference %lld", owner->account.id,
	    conference.id);
	owner_conference_done(owner, &conference, "pin");
}

static void
lock_post(struct owner *owner)
{
	struct db_owned_conference conference;
	int locked = conference_posted_flag(owner, "locked");

	if (owner_conference_load(owner, &conference) != 0)
		return;
	if (db_conference_set_locked(owner->db, conference.id, locked) != DB_OK) {
		owner_fault(owner);
		return;
	}
	owner_conference_done(owner, &conference, locked ? "locked" : "unlocked");
}

static void
hosts_post(struct owner *owner)
{
	struct db_owned_conference conference;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	if (db_begin(owner->db) != DB_OK ||
	    db_conference_set_wait_for_host(owner->db, conference.id,
	    conference_posted_flag(owner, "wait_for_host")) == DB_FAULT ||
	    db_conference_set_end_with_host(owner->db, conference.id,
	    conference_posted_flag(owner, "end_with_host")) == DB_FAULT ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		return;
	}
	owner_conference_done(owner, &conference, "hosts");
}

/* The attendee the form names, if it is one of conference's; else a 404 is answered. */
static int
conference_attendee_load(struct owner *owner, const struct db_owned_conference *conference,
    struct db_attendee_row *attendee)
{
	char *text = owner_posted(owner, "attendee");
	long long id;
	int rc;

	rc = conference_parse_id(text, &id);
	free(text);
	if (rc == 0 && (rc = db_attendee_of(owner->db, conference->id, id, attendee)) == DB_FAULT) {
		owner_fault(owner);
		return -1;
	}
	if (rc != DB_OK) {
		owner_fail(owner, 404, "There is no such attendee.", "attendee not of this conference");
		return -1;
	}
	return 0;
}

static void
host_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct db_attendee_row attendee;

	if (owner_conference_load(owner, &conference) != 0 ||
	    conference_attendee_load(owner, &conference, &attendee) != 0)
		return;
	if (db_attendee_set_host(owner->db, conference.id, attendee.id, !attendee.host) == DB_FAULT) {
		owner_fault(owner);
		return;
	}
	owner_conference_done(owner, &conference, attendee.host ? "host-off" : "host-on");
}

/* ---- Delete ---- */

static void
delete_get(struct owner *owner)
{
	struct db_owned_conference conference;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	if (owner_page_begin(owner, "Delete conference") != 0)
		return;
	fputs("<p>Delete <strong>", owner->out);
	html_text(owner->out, conference.name);
	fputs("</strong> (PIN ", owner->out);
	html_text(owner->out, conference.pin);
	fputs(")? Everyone in it now is removed, its attendees and their PINs are deleted;"
	    " the record of its calls stays.</p>\n", owner->out);
	owner_button(owner, "/delete", conference.id, NULL, NULL, "Delete conference", NULL);
	conference_link(owner, "/conference", conference.id, "Keep it", "<p>", "</p>\n");
	owner_page_end(owner, 200);
}

static void
delete_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct owner_outcome outcome = { 0 };
	struct sinchapi api;
	char alert[700];
	int rc;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	/* Ends the live conference first: nobody stays on a call nobody owns. */
	if (owner_sinch_open(owner, &api) != 0)
		rc = SINCHAPI_FAILED;
	else {
		rc = sinchapi_end_conference(&api, conference.sinch_id);
		sinchapi_cleanup(&api);
	}
	if (rc == SINCHAPI_FAILED && conference.in_now > 0) {
		cgi_log(owner->request, "conference %lld: not deleted: %s", conference.id, api.why);
		snprintf(alert, sizeof(alert), "The conference was not deleted: the people in it could"
		    " not be removed first (%s).", api.why);
		outcome.alert = alert;
		owner_conference_show(owner, &conference, &outcome, 502);
		return;
	}
	if (db_begin(owner->db) != DB_OK ||
	    db_conference_delete(owner->db, conference.id) == DB_FAULT ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		return;
	}
	cgi_log(owner->request, "owner %lld: deleted conference %lld", owner->account.id,
	    conference.id);
	if (owner_page_begin(owner, "Conference deleted") != 0)
		return;
	fputs("<p class=\"notice\" role=\"status\"><strong>", owner->out);
	html_text(owner->out, conference.name);
	fputs("</strong> is deleted.</p>\n", owner->out);
	owner_link(owner, "/", "Back to my conferences");
	owner_page_end(owner, 200);
}

/* ---- Attendees ---- */

static int
conference_e164(const char *number)
{
	size_t digits = strlen(number) - (*number == '+');

	return number[0] == '+' && number[1] >= '1' && number[1] <= '9' &&
	    digits >= 7 && digits <= 15 && strspn(number + 1, "0123456789") == digits;
}

static void
attendee_add_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct owner_outcome outcome = { 0 };
	char *name = NULL, *email = NULL, *phone = NULL;
	long long id;
	int rc;

	if (owner_conference_load(owner, &conference) != 0)
		return;
	name = conference_trim(owner_posted(owner, "attendee_name"));
	email = conference_trim(owner_posted(owner, "attendee_email"));
	phone = conference_trim(owner_posted(owner, "attendee_phone"));
	outcome.attendee_name = name;
	outcome.attendee_email = email;
	outcome.attendee_phone = phone;
	if (name == NULL || !cgi_name_ok(name, NAME_CHARACTERS))
		outcome.attendee_name_error = NAME_RULE;
	if (email != NULL && *email != '\0' && (strlen(email) > 254 || strchr(email, '@') == NULL ||
	    *email == '@' || email[strlen(email) - 1] == '@' || !cgi_text_ok(email, 254) ||
	    strpbrk(email, " \t<>\"(),;:\\[]") != NULL))
		outcome.attendee_email_error = "Give an e-mail address such as anna@example.com,"
		    " or leave it empty.";
	if (phone != NULL && *phone != '\0' && !conference_e164(phone))
		outcome.attendee_phone_error = "Give the number in E.164: + then 7 to 15 digits,"
		    " such as +46701234567, or leave it empty.";
	if (outcome.attendee_name_error != NULL || outcome.attendee_email_error != NULL ||
	    outcome.attendee_phone_error != NULL) {
		owner_conference_show(owner, &conference, &outcome, 400);
		goto out;
	}
	if (db_begin(owner->db) != DB_OK ||
	    (rc = db_attendee_add(owner->db, conference.id, name, *email != '\0' ? email : NULL,
	    *phone != '\0' ? phone : NULL, &id)) == DB_FAULT ||
	    (rc == DB_OK && db_commit(owner->db) != DB_OK)) {
		owner_fault(owner);
		goto out;
	}
	if (rc != DB_OK) {
		db_rollback(owner->db);
		outcome.alert = "No PIN is free on this conference's dates: the attendee was not added.";
		owner_conference_show(owner, &conference, &outcome, 409);
		goto out;
	}
	owner_conference_done(owner, &conference, "attendee-added");
out:
	free(name);
	free(email);
	free(phone);
}

static void
attendee_remove_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct db_attendee_row attendee;

	if (owner_conference_load(owner, &conference) != 0 ||
	    conference_attendee_load(owner, &conference, &attendee) != 0)
		return;
	if (db_attendee_remove(owner->db, conference.id, attendee.id) == DB_FAULT) {
		owner_fault(owner);
		return;
	}
	owner_conference_done(owner, &conference, "attendee-removed");
}

/* ---- Invitations ---- */

/* The dial-in numbers as text lines "  Label: +46...". */
static void
invite_dial_in(void *context, const char *label, const char *number)
{
	FILE *out = context;

	fprintf(out, "  %s: %s\n", label, number);
}

/* The mail's text and the calendar's description: the same words. */
static char *
invite_text(struct owner *owner, const struct db_owned_conference *conference,
    const struct db_attendee_row *attendee, const char *link)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	if ((out = open_memstream(&text, &size)) == NULL)
		return NULL;
	fprintf(out, "Hello %s,\n\nyou are invited to the conference \"%s\".\n\n", attendee->name,
	    conference->name);
	if (*conference->ends_on != '\0' && strcmp(conference->ends_on, conference->starts_on) != 0)
		fprintf(out, "Dates: %s to %s\n", conference->starts_on, conference->ends_on);
	else if (*conference->ends_on != '\0')
		fprintf(out, "Date: %s\n", conference->starts_on);
	else
		fprintf(out, "From: %s, with no end date\n", conference->starts_on);
	fprintf(out, "Your personal PIN: %s\n", attendee->pin);
	if (link != NULL)
		fprintf(out, "Join in your browser: %s\n", link);
	fputs("Dial in and enter your PIN:\n", out);
	if (db_dial_in_each(owner->db, invite_dial_in, out) != DB_OK) {
		fclose(out);
		free(text);
		return NULL;
	}
	fputs("\nThe attached calendar entry holds the same.\n", out);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Mail one attendee their invitation with its .ics; 0 once sendmail took it. */
static int
invite_one(struct owner *owner, const struct db_owned_conference *conference,
    const struct db_attendee_row *attendee)
{
	char uid[160], subject[900], *link = NULL, *text = NULL, *calendar = NULL, *message = NULL;
	const char *host = owner->config->public_url, *reason;
	struct mail_attachment attachment = { "invitation.ics",
	    "text/calendar; charset=utf-8; method=PUBLISH", NULL, 0 };
	struct mail mail = { owner->config->mail_from, attendee->email, subject, NULL,
	    &attachment, 1 };
	struct ics_event event = { 0 };
	char why[512];
	size_t length;
	int rc = -1;

	host = strstr(host, "://") != NULL ? strstr(host, "://") + 3 : host;
	/* Stable: a second invitation updates the entry the first one made. */
	snprintf(uid, sizeof(uid), "attendee-%lld@%s", attendee->id, *host != '\0' ? host : "pinconf");
	snprintf(subject, sizeof(subject), "Invitation: %s", conference->name);
	if (*owner->config->public_url != '\0' &&
	    (link = conference_join_link(owner, attendee->pin)) == NULL)
		goto out;
	if ((text = invite_text(owner, conference, attendee, link)) == NULL)
		goto out;
	event.uid = uid;
	event.stamp = owner->now;
	event.starts_on = conference->starts_on;
	event.ends_on = *conference->ends_on != '\0' ? conference->ends_on : NULL;
	event.summary = conference->name;
	event.description = text;
	event.url = link;
	if ((calendar = ics_build(&event)) == NULL)
		goto out;
	attachment.data = calendar;
	attachment.length = strlen(calendar);
	mail.text = text;
	if (mail_build(&mail, owner->now, &message, &length, &reason) != 0) {
		cgi_log(owner->request, "mail to %s: %s", attendee->email, reason);
		goto out;
	}
	if (mail_send(owner->config->sendmail, message, length, why, sizeof(why)) != 0) {
		cgi_log(owner->request, "mail to %s: %s", attendee->email, why);
		goto out;
	}
	rc = 0;
out:
	free(link);
	free(text);
	free(calendar);
	free(message);
	return rc;
}

struct invite_all {
	struct owner				*owner;
	const struct db_owned_conference	*conference;
	struct db_attendee_row			*list;
	size_t					 count;
};

static void
invite_collect(void *context, const struct db_attendee_row *attendee)
{
	struct invite_all *all = context;
	struct db_attendee_row *grown;

	if (*attendee->email == '\0' ||
	    (grown = realloc(all->list, (all->count + 1) * sizeof(*grown))) == NULL)
		return;
	all->list = grown;
	all->list[all->count++] = *attendee;
}

/*
 * Send the invitations, then note them: no lock is held while sendmail runs,
 * and only an invitation sendmail took is noted as sent.
 */
static void
invite_post(struct owner *owner)
{
	struct db_owned_conference conference;
	struct owner_outcome outcome = { 0 };
	struct invite_all all = { owner, NULL, NULL, 0 };
	struct db_attendee_row one;
	char *which = owner_posted(owner, "attendee"), alert[200];
	size_t i, sent = 0;

	all.conference = &conference;
	if (owner_conference_load(owner, &conference) != 0)
		goto out;
	if (*owner->config->mail_from == '\0') {
		owner_fail(owner, 503, "This server cannot send mail: ask its administrator to set"
		    " mail_from.", "mail_from is not set in the config");
		goto out;
	}
	if (which != NULL && strcmp(which, "all") == 0) {
		if (db_attendees_each(owner->db, conference.id, invite_collect, &all) != DB_OK) {
			owner_fault(owner);
			goto out;
		}
	} else {
		if (conference_attendee_load(owner, &conference, &one) != 0)
			goto out;
		if (*one.email == '\0') {
			outcome.alert = "This attendee has no e-mail: add them again with one.";
			owner_conference_show(owner, &conference, &outcome, 400);
			goto out;
		}
		invite_collect(&all, &one);
	}
	for (i = 0; i < all.count; i++) {
		if (invite_one(owner, &conference, &all.list[i]) != 0)
			continue;
		if (db_attendee_invited(owner->db, all.list[i].id, owner->now_text) == DB_FAULT) {
			owner_fault(owner);
			goto out;
		}
		sent++;
	}
	if (sent < all.count) {
		snprintf(alert, sizeof(alert), "%zu of %zu invitations could not be sent: the mail"
		    " system failed. Try again later.", all.count - sent, all.count);
		outcome.alert = alert;
		owner_conference_show(owner, &conference, &outcome, 503);
		goto out;
	}
	cgi_log(owner->request, "owner %lld: %zu invitation%s for conference %lld",
	    owner->account.id, sent, sent == 1 ? "" : "s", conference.id);
	owner_conference_done(owner, &conference, all.count == 0 ? "invited-none" :
	    which != NULL && strcmp(which, "all") == 0 ? "invited-all" : "invited");
out:
	free(all.list);
	free(which);
}

const struct owner_page owner_conference_pages[] = {
	{ "/", home_get, NULL, 1, 0 },
	{ "/new", new_get, new_post, 1, 0 },
	{ "/conference", details_get, NULL, 1, 0 },
	{ "/edit", edit_get, edit_post, 1, 0 },
	{ "/pin", NULL, pin_post, 1, 0 },
	{ "/lock", NULL, lock_post, 1, 0 },
	{ "/hosts", NULL, hosts_post, 1, 0 },
	{ "/host", NULL, host_post, 1, 0 },
	{ "/delete", delete_get, delete_post, 1, 0 },
	{ "/attendee/add", NULL, attendee_add_post, 1, 0 },
	{ "/attendee/remove", NULL, attendee_remove_post, 1, 0 },
	{ "/invite", NULL, invite_post, 1, 0 },
	{ NULL, NULL, NULL, 0, 0 },
};
