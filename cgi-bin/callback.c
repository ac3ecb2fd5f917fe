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
	/* A browser's ICE: how its call started, written once, with the join if it joins. */
	struct db_call_start	*start;
	int			 joined;
	/* Once committed and answered: pinconf's REST request, detached (issue 19). */
	const char		*then_command;		/* end, mute, unmute, mute-all */
	long long		 then_conference;
};

static int
callback_open_database(struct callback *callback)
{
	return service_database(callback->service, DB_READ_WRITE, &callback->db);
}

static int
callback_say(struct callback *callback, const char *text)
{
	return svaml_say(callback->svaml, text, callback->config->locale) == 0 ? DB_OK : DB_FAULT;
}

/* Say text, then hang up: every refusal a caller hears ends this way. */
static int
callback_refuse(struct callback *callback, const char *text)
{
	if (callback_say(callback, text) != DB_OK ||
	    svaml_action(callback->svaml, "hangup") != 0)
		return DB_FAULT;
	return DB_OK;
}

/*
 * What a phone caller's wrong PINs count against: the number, or "withheld"
 * for every caller without one, together one source: an attacker who
 * withholds the number can then shut out other withheld callers, but no
 * longer spend the whole guess_budget (see pinconf-db(5), GUESS LIMITS).
 */
static void
callback_phone_source(const char *caller, char *source, size_t size)
{
	const char *digits = caller != NULL && *caller == '+' ? caller + 1 : caller;
	size_t length = digits != NULL ? strlen(digits) : 0;

	if (length < 3 || length > 15 || strspn(digits, "0123456789") != length)
		snprintf(source, size, "withheld");
	else
		snprintf(source, size, "tel:+%s", digits);
}

/*
 * May source try the PIN of holder (NULL: a PIN nobody holds today; before
 * the PIN is entered, any_holder says to ask about any it was connected
 * with)?  db_guess_check is the rule; this logs its refusal: *limited says.
 */
static int
callback_limited(struct callback *callback, const char *source,
    const struct db_conference *holder, int any_holder, int *limited)
{
	static const char *const why[] = {
		[DB_GUESS_LOCKED_OUT] = "is locked out after too many wrong PINs",
		[DB_GUESS_OVER_SHARE] = "is locked out after its share of the hour's guess budget",
		[DB_GUESS_BUDGET_SPENT] = "guess budget spent, and it was never connected with this PIN",
	};
	struct db_guess_check check;

	*limited = 0;
	if (db_guess_check(callback->db, source, any_holder ? DB_ANY_HOLDER :
	    holder != NULL ? holder->id : 0, holder != NULL ? holder->attendee_id : 0,
	    callback->now, &check) != DB_OK)
		return DB_FAULT;
	if (check.verdict == DB_GUESS_ALLOWED)
		return DB_OK;
	cgi_log(callback->request, "call %s: %s %s: refused for %d s", callback->event.callid,
	    source, why[check.verdict], check.retry_after);
	*limited = 1;
	return DB_OK;
}

/* Why a PIN that is not active today did not let the caller in. */
static int
callback_say_why_not(struct callback *callback, int rc, const struct db_conference *holder)
{
	char spoken[64];

	if (rc != DB_OK)
		return callback_say(callback, callback->config->say_invalid);
	if (holder->state == DB_PIN_ENDED)
		return callback_say(callback, callback->config->say_ended);
	clock_spoken_date(holder->starts_on, callback->config->timezone, callback->now, spoken,
	    sizeof(spoken));
	return svaml_say_filled(callback->svaml, callback->config->say_not_started, "{date}",
	    spoken, callback->config->locale) == 0 ? DB_OK : DB_FAULT;
}

static int
callback_announce_count(struct callback *callback, int others)
{
	char count[16];

	if (others == 0)
		return callback_say(callback, callback->config->say_count_none);
	if (others == 1)
		return callback_say(callback, callback->config->say_count_one);
	snprintf(count, sizeof(count), "%d", others);
	return svaml_say_filled(callback->svaml, callback->config->say_count_many, "{count}",
	    count, callback->config->locale) == 0 ? DB_OK : DB_FAULT;
}

/*
 * Start "pinconf COMMAND id:CONFERENCE [CALLID]" once the answer is out:
 * callback.cgi has no REST client, and Sinch must never wait for one.
 */
static void
callback_run_pinconf(struct callback *callback)
{
	char conference[32], why[256];
	char *argv[5] = { "pinconf", (char *)callback->then_command, conference, NULL, NULL };

	if (callback->then_command == NULL)
		return;
	snprintf(conference, sizeof(conference), "id:%lld", callback->then_conference);
	if (strcmp(callback->then_command, "end") != 0 &&
	    strcmp(callback->then_command, "mute-all") != 0)
		argv[3] = (char *)callback->event.callid;
	if (service_after_answer(callback->service, callback->config->pinconf_command, argv,
	    why, sizeof(why)) != 0)
		cgi_log(callback->request, "call %s: pinconf %s %s: %s", callback->event.callid,
		    callback->then_command, conference, why);
}

static void
callback_then(struct callback *callback, const char *command, long long conference_id)
{
	callback->then_command = command;
	callback->then_conference = conference_id;
}

/*
 * No host is in a conference that waits for one: a phone caller is held
 * through runMenu rounds (answer_waiting takes each timeout PIE); a browser's
 * call is refused, as its page should have waited (pinconf.js).  Neither
 * counts against capacity or guesses.
 */
static int
callback_wait(struct callback *callback, const struct db_conference *holder)
{
	if (callback->event.from_browser) {
		cgi_log(callback->request, "call %s: conference %lld waits for its host, who is"
		    " not in: browser call refused", callback->event.callid, holder->id);
		return callback_refuse(callback, callback->config->say_host_not_in);
	}
	if (db_call_waiting(callback->db, callback->event.callid, holder, callback->now) != DB_OK)
		return DB_FAULT;
	return svaml_wait_menu(callback->svaml, callback->config) == 0 ? DB_OK : DB_FAULT;
}

/* Is the holder held back: a conference that waits for a host, none in, not a host? */
static int
callback_must_wait(struct callback *callback, const struct db_conference *holder, int *wait)
{
	int hosts;

	*wait = 0;
	if (!holder->wait_for_host || holder->host)
		return DB_OK;
	if (db_hosts_in(callback->db, holder->id, callback->now, &hosts) != DB_OK)
		return DB_FAULT;
	*wait = hosts == 0;
	return DB_OK;
}

/* Phone legs may send keypad commands: ask Sinch for their digits, and say so. */
static int
callback_keypad_on(struct callback *callback)
{
	const struct config *config = callback->config;

	if (!config->keypad || callback->event.from_browser)
		return DB_OK;
	if (callback_say(callback, config->say_keypad_hint) != DB_OK ||
	    svaml_conference_keypad(callback->svaml, config->keypad_timeout) != 0)
		return DB_FAULT;
	return DB_OK;
}

/*
 * A right PIN: let the caller in unless the conference is locked or full.
 * cli is what the others see; an attendee is shown and greeted by name.
 */
static int
callback_admit(struct callback *callback, const struct db_conference *holder,
    const char *cli, const char *source)
{
	const struct config *config = callback->config;
	int others, wait;

	if (holder->locked)
		return callback_refuse(callback, config->say_locked);
	if (callback_must_wait(callback, holder, &wait) != DB_OK)
		return DB_FAULT;
	if (wait)
		return callback_wait(callback, holder);
	if (db_count_in_conference(callback->db, holder->id, callback->now, &others) != DB_OK)
		return DB_FAULT;
	if (holder->max_participants > 0 && others >= holder->max_participants)
		return callback_refuse(callback, config->say_full);
	if (db_call_joined(callback->db, callback->event.callid, holder, callback->start) != DB_OK)
		return DB_FAULT;
	callback->joined = 1;
	if (strcmp(source, "withheld") != 0 &&
	    db_source_joined(callback->db, source, holder, callback->now) != DB_OK)
		return DB_FAULT;
	if (holder->attendee_id != 0) {
		cli = holder->attendee_name;
		if (svaml_say_filled(callback->svaml, config->say_welcome_name, "{name}", cli,
		    config->locale) != 0)
			return DB_FAULT;
	} else if (callback_say(callback, config->say_welcome) != DB_OK)
		return DB_FAULT;
	if (holder->announce_count && callback_announce_count(callback, others) != DB_OK)
		return DB_FAULT;
	if (svaml_connect_conference(callback->svaml, holder->sinch_id, cli, config->moh) != 0)
		return DB_FAULT;
	return callback_keypad_on(callback);
}

/* Refuse a browser's call and log why: it never says which check failed. */
static int
callback_refuse_browser(struct callback *callback, const char *text, const char *why)
{
	cgi_log(callback->request, "call %s: browser user %s: %s: refused", callback->event.callid,
	    callback->event.caller != NULL ? callback->event.caller : "(none)", why);
	return callback_refuse(callback, text);
}

/*
 * A browser's callConference(pin).  Only a user id getticket issued, not yet
 * expired, may call, and only the PIN it was issued for: anything else is
 * refused, failing closed.  Another PIN counts as a wrong guess against the
 * source that fetched the id, so the callback is no way around getticket.
 * identity is NULL for an id we do not know.
 */
static int
browser_ice_checks(struct callback *callback, const struct db_identity *identity)
{
	struct sinch_event *event = &callback->event;
	const struct config *config = callback->config;
	struct db_conference holder;
	time_t expires;
	int limited, rc;

	if (event->caller == NULL || !sinch_user_id_ok(event->caller))
		return callback_refuse_browser(callback, config->say_invalid, "not a user id we issue");
	if (identity == NULL)
		return callback_refuse_browser(callback, config->say_invalid,
		    "never issued by getticket, or expired and pruned");
	if (clock_parse_utc(identity->expires, &expires) != 0 || expires <= callback->now)
		return callback_refuse_browser(callback, config->say_invalid, "user id expired");
	rc = event->to_endpoint != NULL && strcmp(event->to_endpoint, identity->pin) == 0 ?
	    db_find_pin_holder(callback->db, identity->pin, config->timezone, callback->now,
	    &holder) : DB_NONE;
	if (rc == DB_FAULT)
		return DB_FAULT;
	if (callback_limited(callback, identity->source, rc == DB_OK &&
	    holder.state == DB_PIN_ACTIVE ? &holder : NULL, 0, &limited) != DB_OK)
		return DB_FAULT;
	if (limited)
		return callback_refuse(callback, config->say_too_many);
	if (event->to_endpoint == NULL || strcmp(event->to_endpoint, identity->pin) != 0) {
		if (db_guess_record(callback->db, identity->source) != DB_OK)
			return DB_FAULT;
		return callback_refuse_browser(callback, config->say_invalid,
		    "called another PIN than it was issued for (a wrong guess)");
	}
	/* The PIN may have moved to another holder since the id was issued. */
	if (rc == DB_NONE || holder.id != identity->conference_id ||
	    holder.attendee_id != identity->attendee_id)
		return callback_refuse_browser(callback, config->say_invalid,
		    "its PIN no longer belongs to its conference");
	if (holder.state != DB_PIN_ACTIVE) {
		cgi_log(callback->request, "call %s: conference %lld is not on today: refused",
		    event->callid, holder.id);
		return callback_say_why_not(callback, DB_OK, &holder) != DB_OK ||
		    svaml_action(callback->svaml, "hangup") != 0 ? DB_FAULT : DB_OK;
	}
	return callback_admit(callback, &holder, identity->display_name, identity->source);
}

/* The call is recorded whatever the checks decide, under its display name if it has one. */
static int
answer_browser_ice(struct callback *callback)
{
	struct sinch_event *event = &callback->event;
	struct db_identity identity;
	struct db_call_start start = { .origin = "mxp", .user_id = event->caller };
	int rc;

	if (event->to_type == NULL || strcasecmp(event->to_type, "conference") != 0) {
		/* Our key must never place calls to numbers or users on the owner's bill. */
		cgi_log(callback->request, "call %s: browser asked for a %s destination: refused",
		    event->callid, event->to_type != NULL ? event->to_type : "missing");
		return svaml_action(callback->svaml, "hangup") == 0 ? DB_OK : DB_FAULT;
	}
	rc = event->caller != NULL ? db_identity_find(callback->db, event->caller, &identity) :
	    DB_NONE;
	if (rc == DB_FAULT)
		return DB_FAULT;
	if (rc == DB_OK)
		start.caller = identity.display_name;
	callback->start = &start;
	rc = browser_ice_checks(callback, rc == DB_OK ? &identity : NULL);
	callback->start = NULL;
	if (rc != DB_OK || callback->joined)
		return rc;
	return db_call_started(callback->db, event->callid, start.origin, start.caller,
	    start.user_id);
}

static int
answer_phone_ice(struct callback *callback)
{
	char source[SINCH_FIELD_MAX + 8];
	int limited, pin_length;

	if (db_call_started(callback->db, callback->event.callid, "pstn",
	    callback->event.caller, NULL) != DB_OK)
		return DB_FAULT;
	callback_phone_source(callback->event.caller, source, sizeof(source));
	if (callback_limited(callback, source, NULL, 1, &limited) != DB_OK)
		return DB_FAULT;
	if (limited)
		return callback_refuse(callback, callback->config->say_too_many);
	if (db_setting(callback->db, "pin_length", &pin_length) != DB_OK)
		return DB_FAULT;
	return svaml_run_menu(callback->svaml, callback->config, pin_length) == 0 ?
	    DB_OK : DB_FAULT;
}

/* A wrong PIN, a timeout or invalid input: say why, then ask again or give up. */
static int
answer_wrong_pin(struct callback *callback, int rc, const struct db_conference *holder)
{
	int attempts, pin_length;

	if (db_call_failed_attempt(callback->db, callback->event.callid, &attempts) != DB_OK)
		return DB_FAULT;
	if (callback_say_why_not(callback, rc, holder) != DB_OK)
		return DB_FAULT;
	if (attempts >= callback->config->pin_attempts)
		return svaml_action(callback->svaml, "hangup") == 0 ? DB_OK : DB_FAULT;
	if (db_setting(callback->db, "pin_length", &pin_length) != DB_OK)
		return DB_FAULT;
	return svaml_run_menu(callback->svaml, callback->config, pin_length) == 0 ?
	    DB_OK : DB_FAULT;
}

static int
answer_pie(struct callback *callback)
{
	struct db_conference holder;
	char caller[SINCH_FIELD_MAX + 1] = "", source[SINCH_FIELD_MAX + 8];
	int limited, rc;

	/* PIE carries no caller id: the ICE of this call stored it. */
	if (db_call_caller(callback->db, callback->event.callid, caller, sizeof(caller)) == DB_FAULT)
		return DB_FAULT;
	callback_phone_source(caller, source, sizeof(source));
	/* The holder first: while the budget is spent, it decides who may still enter it. */
	rc = strcmp(callback->event.menu_type, "sequence") == 0 ?
	    db_find_pin_holder(callback->db, callback->event.menu_value,
	    callback->config->timezone, callback->now, &holder) : DB_NONE;
	if (rc == DB_FAULT)
		return DB_FAULT;
	if (callback_limited(callback, source, rc == DB_OK && holder.state == DB_PIN_ACTIVE ?
	    &holder : NULL, 0, &limited) != DB_OK)
		return DB_FAULT;
	if (limited)
		return callback_refuse(callback, callback->config->say_too_many);
	if (strcmp(callback->event.menu_type, "sequence") != 0)
		return answer_wrong_pin(callback, DB_NONE, NULL);
	if (rc == DB_OK && holder.state == DB_PIN_ACTIVE)
		return callback_admit(callback, &holder, caller, source);
	if (db_guess_record(callback->db, source) != DB_OK)
		return DB_FAULT;
	return answer_wrong_pin(callback, rc, &holder);
}

/*
 * A timeout (or a key) ends a round of waiting for the host: let the caller
 * in if a host has come (callback_admit checks again, and holds them for
 * another round if not), or give up after host_wait_minutes.
 */
static int
answer_waiting(struct callback *callback, const struct db_call_wait *wait)
{
	struct db_conference holder;
	char source[SINCH_FIELD_MAX + 8];
	time_t since;
	int must_wait, rc;

	if ((rc = db_find_holder_by_id(callback->db, wait->conference_id, wait->attendee_id,
	    callback->config->timezone, callback->now, &holder)) == DB_FAULT)
		return DB_FAULT;
	if (rc == DB_NONE || holder.state != DB_PIN_ACTIVE) {
		cgi_log(callback->request, "call %s: conference %lld is gone or over while the"
		    " caller waited for its host: hung up", callback->event.callid,
		    wait->conference_id);
		return callback_refuse(callback, rc == DB_NONE ? callback->config->say_invalid :
		    callback->config->say_ended);
	}
	if (clock_parse_utc(wait->since, &since) != 0)
		since = callback->now;
	if (callback->now - since >= (time_t)callback->config->host_wait_minutes * 60) {
		if (callback_must_wait(callback, &holder, &must_wait) != DB_OK)
			return DB_FAULT;
		if (must_wait) {
			cgi_log(callback->request, "call %s: waited %lld s for the host of conference"
			    " %lld: gave up", callback->event.callid, (long long)(callback->now - since),
			    holder.id);
			return callback_refuse(callback, callback->config->say_host_gave_up);
		}
	}
	callback_phone_source(wait->caller, source, sizeof(source));
	return callback_admit(callback, &holder, wait->caller, source);
}

/* A PIE of the PIN menu, or of a round of waiting for the host. */
static int
answer_menu_pie(struct callback *callback)
{
	struct db_call_wait wait;
	int rc;

	if ((rc = db_call_wait_state(callback->db, callback->event.callid, &wait)) == DB_FAULT)
		return DB_FAULT;
	/* A waiting caller's keys and timeouts are no PIN guesses. */
	if (rc == DB_OK)
		return answer_waiting(callback, &wait);
	return answer_pie(callback);
}

/* Log what the keypad did not do, only when debug is on. */
static void
callback_keypad_ignored(struct callback *callback, const char *why)
{
	if (callback->config->debug)
		cgi_log(callback->request, "call %s: keypad '%s': %s: ignored", callback->event.callid,
		    callback->event.menu_value != NULL ? callback->event.menu_value : "", why);
}

/* Digits a participant pressed in the conference: *6 mute, and the hosts' *7 and *8. */
static int
answer_keypad(struct callback *callback)
{
	const struct config *config = callback->config;
	const char *digits = callback->event.menu_value;
	struct db_call_keypad keypad;
	int rc;

	if ((rc = db_call_keypad(callback->db, callback->event.callid, &keypad)) == DB_FAULT)
		return DB_FAULT;
	/* Only from a participant, about the conference they are in. */
	if (rc == DB_NONE || strcmp(keypad.sinch_id, callback->event.menu_id) != 0) {
		callback_keypad_ignored(callback, "not from a participant of that conference");
		return DB_OK;
	}
	if (strcmp(callback->event.menu_type, "sequence") != 0 || digits == NULL) {
		callback_keypad_ignored(callback, "no digits");
		return DB_OK;
	}
	if (strcmp(digits, config->keypad_mute) == 0) {
		if (db_call_set_muted(callback->db, callback->event.callid, !keypad.muted) == DB_FAULT)
			return DB_FAULT;
		callback_then(callback, keypad.muted ? "unmute" : "mute", keypad.conference_id);
		cgi_log(callback->request, "call %s: keypad: %s itself in conference %lld",
		    callback->event.callid, keypad.muted ? "unmuted" : "muted", keypad.conference_id);
		return DB_OK;
	}
	if (strcmp(digits, config->keypad_lock) != 0 && strcmp(digits, config->keypad_mute_all) != 0) {
		callback_keypad_ignored(callback, "not a keypad command");
		return DB_OK;
	}
	if (!keypad.host) {
		cgi_log(callback->request, "call %s: keypad '%s' is for hosts only: refused",
		    callback->event.callid, digits);
		return DB_OK;
	}
	if (strcmp(digits, config->keypad_lock) == 0) {
		if (db_conference_set_locked(callback->db, keypad.conference_id, !keypad.locked) ==
		    DB_FAULT)
			return DB_FAULT;
		cgi_log(callback->request, "call %s: keypad: the host %s conference %lld",
		    callback->event.callid, keypad.locked ? "unlocked" : "locked", keypad.conference_id);
		return DB_OK;
	}
	callback_then(callback, "mute-all", keypad.conference_id);
	cgi_log(callback->request, "call %s: keypad: the host mutes everyone but the hosts of"
	    " conference %lld", callback->event.callid, keypad.conference_id);
	return DB_OK;
}

/*
 * The ACE of a leg pinconf call placed (its custom names the conference):
 * Sinch adds it to the conference only if we answer connectConf.  Any other
 * ACE continues.
 */
static int
answer_ace(struct callback *callback)
{
	const char *custom = callback->event.custom;
	char today[CLOCK_DATE_SIZE];
	struct db_conference conference;
	int rc;

	if (custom == NULL || strncmp(custom, "conference=", 11) != 0)
		return svaml_action(callback->svaml, "continue") == 0 ? DB_OK : DB_FAULT;
	if (clock_today(callback->config->timezone, callback->now, today) != 0)
		return DB_FAULT;
	if ((rc = db_find_active_conference_by_sinch_id(callback->db, custom + 11, today,
	    &conference)) == DB_FAULT)
		return DB_FAULT;
	if (rc == DB_NONE) {
		cgi_log(callback->request, "call %s: callout for '%.64s', no conference of ours"
		    " active today: hung up", callback->event.callid, custom + 11);
		return callback_refuse(callback, callback->config->say_ended);
	}
	if (db_callout_answered(callback->db, callback->event.callid, &conference) != DB_OK ||
	    svaml_connect_conference(callback->svaml, conference.sinch_id, NULL,
	    callback->config->moh) != 0)
		return DB_FAULT;
	return callback_keypad_on(callback);
}

static int
answer_dice(struct callback *callback)
{
	char cutoff[CLOCK_TIME_SIZE];
	long long conference_id;
	int hosts;

	if (db_call_ended(callback->db, callback->event.callid, callback->event.reason,
	    callback->event.result, callback->event.duration) != DB_OK)
		return DB_FAULT;
	/* The last host left a conference that ends with its host. */
	if (db_call_host_left(callback->db, callback->event.callid, &conference_id) != DB_OK)
		return DB_FAULT;
	if (conference_id != 0) {
		if (db_hosts_in(callback->db, conference_id, callback->now, &hosts) != DB_OK)
			return DB_FAULT;
		if (hosts == 0) {
			cgi_log(callback->request, "call %s: the last host left conference %lld:"
			    " ending it", callback->event.callid, conference_id);
			callback_then(callback, "end", conference_id);
		}
	}
	/* Pruning rides along in small batches, so no cron job is needed. */
	if (db_prune_limits(callback->db, callback->now) != DB_OK)
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

/*
 * A keypad PIE: the participant is in the conference and stays there
 * whatever we do, so it is answered 200 at once, even on a fault, with
 * continue (UNCONFIRMED whether Sinch reads it: sinch-api.md section 6).
 */
static void
callback_answer_keypad(struct callback *callback)
{
	if (!callback->config->keypad)
		callback_keypad_ignored(callback, "keypad = no");
	else if (callback_transaction(callback, answer_keypad) != DB_OK)
		cgi_log(callback->request, "call %s: keypad: %s", callback->event.callid,
		    callback_fault_reason(callback));
	else
		callback_run_pinconf(callback);
	cgi_response_set_body(callback->response, 200, "application/json",
	    strdup("{\"action\":{\"name\":\"continue\"}}"));
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
		else if (event->menu_id != NULL && strcmp(event->menu_id, "main") != 0) {
			callback_answer_keypad(callback);
			return;
		} else
			rc = callback_transaction(callback, answer_menu_pie);
		break;
	case SINCH_ACE:
		rc = event->custom != NULL ? callback_transaction(callback, answer_ace) :
		    svaml_action(callback->svaml, "continue") == 0 ? DB_OK : DB_FAULT;
		break;
	case SINCH_DICE:
		if (callback_transaction(callback, answer_dice) != DB_OK) {
			cgi_refuse(callback->request, callback->response, 503,
			    "cannot record the end of the call", callback_fault_reason(callback));
			return;
		}
		callback_run_pinconf(callback);
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
