/* db-conference.c: the conference pages' queries: an owner's conferences, attendees, calls, callouts. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db-conference.h"

enum db_conference_stmt {
	CONF_LIST,
	CONF_OWNED,
	CONF_CREATE,
	CONF_UPDATE,
	CONF_NEW_PIN,
	CONF_DELETE,
	ATTENDEE_LIST,
	ATTENDEE_OF,
	ATTENDEE_ADD,
	ATTENDEE_REMOVE,
	ATTENDEE_INVITED,
	LIVE_CALL,
	LIVE_CALLS,
	LIVE_SET_MUTED,
	CALLOUT_COUNT,
	CALLOUT_PRUNE,
	CALLOUT_RECORD,
	CONF_STMT__MAX
};

#define CONF_COLUMNS "conference.id, coalesce(conference.owner_id, 0), coalesce(owner.email, ''),"	\
	" conference.name, coalesce(conference.pin, ''), conference.starts_on,"			\
	" coalesce(conference.ends_on, ''), conference.sinch_id,"					\
	" coalesce(conference.max_participants, 0), conference.locked, conference.announce_count,"	\
	" conference.wait_for_host, conference.end_with_host,"					\
	" (SELECT count(*) FROM participant_now WHERE participant_now.conference_id = conference.id)"	\
	" FROM conference LEFT JOIN owner ON owner.id = conference.owner_id"
/* The row rule: an owner's own, or any for an admin (?3 = 1). */
#define CONF_OWNED_BY "(?3 = 1 OR conference.owner_id = ?2)"

#define ATTENDEE_COLUMNS "attendee.id, attendee.name, coalesce(attendee.email, ''),"	\
	" coalesce(attendee.phone, ''), coalesce(attendee.pin, ''),"			\
	" coalesce(attendee.invited, ''), attendee.host,"				\
	" coalesce(attendance.first_joined, ''), attendance.seconds_in, attendance.calls"	\
	" FROM attendee JOIN attendance ON attendance.attendee_id = attendee.id"

#define CALL_COLUMNS "call.callid, coalesce(call.conference_id, 0), coalesce(call.origin, ''),"	\
	" coalesce(call.caller, ''), coalesce(attendee.name, ''), coalesce(call.joined, ''),"	\
	" call.muted, coalesce(attendee.host, 0)"						\
	" FROM call LEFT JOIN attendee ON attendee.id = call.attendee_id"

static const struct db_statement db_conference_statements[CONF_STMT__MAX] = {
	[CONF_LIST] = { "owned_conferences",
	    "SELECT " CONF_COLUMNS " WHERE (?1 = 1 OR conference.owner_id = ?2)"
	    " ORDER BY conference.starts_on DESC, conference.name, conference.id" },
	[CONF_OWNED] = { "owned_conference",
	    "SELECT " CONF_COLUMNS " WHERE conference.id = ?1 AND " CONF_OWNED_BY },
	[CONF_CREATE] = { "conference_create",
	    "INSERT INTO conference(name, starts_on, ends_on, max_participants, announce_count,"
	    " owner_id) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6) RETURNING id" },
	/* A NULL pin makes the schema draw a free one for the new dates. */
	[CONF_UPDATE] = { "conference_update",
	    "UPDATE conference SET name = ?2, starts_on = ?3, ends_on = ?4,"
	    " max_participants = nullif(?5, 0), announce_count = ?6,"
	    " pin = CASE WHEN ?7 = 1 THEN NULL ELSE pin END WHERE id = ?1" },
	[CONF_NEW_PIN] = { "conference_new_pin",
	    "UPDATE conference SET pin = NULL WHERE id = ?1" },
	[CONF_DELETE] = { "conference_delete",
	    "DELETE FROM conference WHERE id = ?1" },
	[ATTENDEE_LIST] = { "attendees",
	    "SELECT " ATTENDEE_COLUMNS " WHERE attendee.conference_id = ?1"
	    " ORDER BY attendee.name, attendee.id" },
	[ATTENDEE_OF] = { "attendee_of",
	    "SELECT " ATTENDEE_COLUMNS " WHERE attendee.conference_id = ?1 AND attendee.id = ?2" },
	[ATTENDEE_ADD] = { "attendee_add",
	    "INSERT INTO attendee(conference_id, name, email, phone) VALUES (?1, ?2, ?3, ?4)"
	    " RETURNING id" },
	[ATTENDEE_REMOVE] = { "attendee_remove",
	    "DELETE FROM attendee WHERE conference_id = ?1 AND id = ?2" },
	[ATTENDEE_INVITED] = { "attendee_invited",
	    "UPDATE attendee SET invited = ?2 WHERE id = ?1" },
	[LIVE_CALL] = { "live_call",
	    "SELECT " CALL_COLUMNS " WHERE call.callid = ?1" },
	[LIVE_CALLS] = { "live_calls",
	    "SELECT " CALL_COLUMNS " JOIN participant_now ON participant_now.callid = call.callid"
	    " WHERE participant_now.conference_id = ?1 ORDER BY call.joined" },
	[LIVE_SET_MUTED] = { "live_call_set_muted",
	    "UPDATE call SET muted = ?3 WHERE callid = ?2 AND conference_id = ?1" },
	[CALLOUT_COUNT] = { "owner_callouts",
	    "SELECT count(*) FROM owner_callout WHERE owner_id = ?1 AND at >= ?2" },
	[CALLOUT_PRUNE] = { "owner_callout_prune",
	    "DELETE FROM owner_callout WHERE rowid IN (SELECT rowid FROM owner_callout"
	    " WHERE at < ?1 LIMIT 50)" },
	[CALLOUT_RECORD] = { "owner_callout_record",
	    "INSERT INTO owner_callout(owner_id, at) VALUES (?1, ?2)" },
};

_Static_assert(CONF_STMT__MAX <= DB_CONFERENCE_STATEMENTS,
    "raise DB_CONFERENCE_STATEMENTS in db.h");

/*
 * Run which with its parameters (see db_bind_in): SQLITE_ROW (the statement
 * stays on its row), SQLITE_DONE, DB_PIN_TAKEN (a PIN trigger refused), or DB_FAULT.
 */
static int
db_conference_run(struct db *db, enum db_conference_stmt which, const char *format, ...)
{
	sqlite3_stmt *stmt;
	const char *message;
	va_list values;
	int rc;

	va_start(values, format);
	stmt = db_bind_in(db, &db->conference_stmt[which], &db_conference_statements[which],
	    format, values);
	va_end(values);
	if (stmt == NULL)
		return DB_FAULT;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	/* The schema's PIN triggers say so in words (db/schema.sql); the statement is undone. */
	message = sqlite3_errmsg(db->handle);
	if (strstr(message, "is already used by") != NULL || strstr(message, "no free PIN left") != NULL) {
		sqlite3_reset(stmt);
		return DB_PIN_TAKEN;
	}
	return db_fail_in(db, db_conference_statements[which].name);
}

/* Reset which; DB_OK, DB_NONE (no row changed, when asked), DB_PIN_TAKEN or a fault. */
static int
db_conference_done(int rc, struct db *db, enum db_conference_stmt which, int want_change)
{
	return db_done_in(rc, db, &db->conference_stmt[which], want_change);
}

static void
db_owned_read(sqlite3_stmt *stmt, struct db_owned_conference *conference)
{
	memset(conference, 0, sizeof(*conference));
	conference->id = sqlite3_column_int64(stmt, 0);
	conference->owner_id = sqlite3_column_int64(stmt, 1);
	db_column_copy(stmt, 2, conference->owner_email, sizeof(conference->owner_email));
	db_column_copy(stmt, 3, conference->name, sizeof(conference->name));
	db_column_copy(stmt, 4, conference->pin, sizeof(conference->pin));
	db_column_copy(stmt, 5, conference->starts_on, sizeof(conference->starts_on));
	db_column_copy(stmt, 6, conference->ends_on, sizeof(conference->ends_on));
	db_column_copy(stmt, 7, conference->sinch_id, sizeof(conference->sinch_id));
	conference->max_participants = sqlite3_column_int(stmt, 8);
	conference->locked = sqlite3_column_int(stmt, 9);
	conference->announce_count = sqlite3_column_int(stmt, 10);
	conference->wait_for_host = sqlite3_column_int(stmt, 11);
	conference->end_with_host = sqlite3_column_int(stmt, 12);
	conference->in_now = sqlite3_column_int64(stmt, 13);
}

static void
db_attendee_read(sqlite3_stmt *stmt, struct db_attendee_row *attendee)
{
	memset(attendee, 0, sizeof(*attendee));
	attendee->id = sqlite3_column_int64(stmt, 0);
	db_column_copy(stmt, 1, attendee->name, sizeof(attendee->name));
	db_column_copy(stmt, 2, attendee->email, sizeof(attendee->email));
	db_column_copy(stmt, 3, attendee->phone, sizeof(attendee->phone));
	db_column_copy(stmt, 4, attendee->pin, sizeof(attendee->pin));
	db_column_copy(stmt, 5, attendee->invited, sizeof(attendee->invited));
	attendee->host = sqlite3_column_int(stmt, 6);
	db_column_copy(stmt, 7, attendee->first_joined, sizeof(attendee->first_joined));
	attendee->seconds_in = sqlite3_column_int64(stmt, 8);
	attendee->calls = sqlite3_column_int64(stmt, 9);
}

static void
db_live_read(sqlite3_stmt *stmt, struct db_live_call *call)
{
	memset(call, 0, sizeof(*call));
	db_column_copy(stmt, 0, call->callid, sizeof(call->callid));
	call->conference_id = sqlite3_column_int64(stmt, 1);
	db_column_copy(stmt, 2, call->origin, sizeof(call->origin));
	db_column_copy(stmt, 3, call->caller, sizeof(call->caller));
	db_column_copy(stmt, 4, call->attendee_name, sizeof(call->attendee_name));
	db_column_copy(stmt, 5, call->joined, sizeof(call->joined));
	call->muted = sqlite3_column_int(stmt, 6);
	call->host = sqlite3_column_int(stmt, 7);
}

/* The next row of which, after the first. */
static int
db_conference_next(struct db *db, enum db_conference_stmt which)
{
	return db_step_in(db, db->conference_stmt[which], db_conference_statements[which].name);
}

/* After one row of which was read (or none came): DB_OK, DB_NONE, or a fault. */
static int
db_conference_one(int rc, struct db *db, enum db_conference_stmt which)
{
	return db_one_in(rc, &db->conference_stmt[which]);
}

/* The first column of which's row as an integer: an INSERT ... RETURNING id or a count. */
static int
db_conference_integer(int rc, struct db *db, enum db_conference_stmt which, long long *value)
{
	return db_integer_in(rc, &db->conference_stmt[which], value);
}

int
db_owned_conferences_each(struct db *db, long long owner_id, int all,
    void (*each)(void *, const struct db_owned_conference *), void *context)
{
	struct db_owned_conference row;
	int rc;

	for (rc = db_conference_run(db, CONF_LIST, "ii", (long long)(all != 0), owner_id);
	    rc == SQLITE_ROW; rc = db_conference_next(db, CONF_LIST)) {
		db_owned_read(db->conference_stmt[CONF_LIST], &row);
		each(context, &row);
	}
	return db_conference_done(rc, db, CONF_LIST, 0);
}

int
db_owned_conference(struct db *db, long long id, long long owner_id, int all,
    struct db_owned_conference *conference)
{
	int rc = db_conference_run(db, CONF_OWNED, "iii", id, owner_id, (long long)(all != 0));

	if (rc == SQLITE_ROW)
		db_owned_read(db->conference_stmt[CONF_OWNED], conference);
	return db_conference_one(rc, db, CONF_OWNED);
}

int
db_conference_create(struct db *db, long long owner_id, const struct db_conference_fields *fields,
    long long *id)
{
	return db_conference_integer(db_conference_run(db, CONF_CREATE, "tttiii", fields->name,
	    fields->starts_on, fields->ends_on, (long long)fields->max_participants,
	    (long long)fields->announce_count, owner_id), db, CONF_CREATE, id);
}

int
db_conference_update(struct db *db, long long id, const struct db_conference_fields *fields,
    int new_pin)
{
	return db_conference_done(db_conference_run(db, CONF_UPDATE, "itttiii", id, fields->name,
	    fields->starts_on, fields->ends_on, (long long)fields->max_participants,
	    (long long)fields->announce_count, (long long)(new_pin != 0)), db, CONF_UPDATE, 1);
}

int
db_conference_new_pin(struct db *db, long long id)
{
	return db_conference_done(db_conference_run(db, CONF_NEW_PIN, "i", id), db, CONF_NEW_PIN, 1);
}

int
db_conference_delete(struct db *db, long long id)
{
	return db_conference_done(db_conference_run(db, CONF_DELETE, "i", id), db, CONF_DELETE, 1);
}

int
db_attendees_each(struct db *db, long long conference_id,
    void (*each)(void *, const struct db_attendee_row *), void *context)
{
	struct db_attendee_row row;
	int rc;

	for (rc = db_conference_run(db, ATTENDEE_LIST, "i", conference_id); rc == SQLITE_ROW;
	    rc = db_conference_next(db, ATTENDEE_LIST)) {
		db_attendee_read(db->conference_stmt[ATTENDEE_LIST], &row);
		each(context, &row);
	}
	return db_conference_done(rc, db, ATTENDEE_LIST, 0);
}

int
db_attendee_of(struct db *db, long long conference_id, long long attendee_id,
    struct db_attendee_row *attendee)
{
	int rc = db_conference_run(db, ATTENDEE_OF, "ii", conference_id, attendee_id);

	if (rc == SQLITE_ROW)
		db_attendee_read(db->conference_stmt[ATTENDEE_OF], attendee);
	return db_conference_one(rc, db, ATTENDEE_OF);
}

int
db_attendee_add(struct db *db, long long conference_id, const char *name, const char *email,
    const char *phone, long long *id)
{
	return db_conference_integer(db_conference_run(db, ATTENDEE_ADD, "ittt", conference_id,
	    name, email, phone), db, ATTENDEE_ADD, id);
}

int
db_attendee_remove(struct db *db, long long conference_id, long long attendee_id)
{
	return db_conference_done(db_conference_run(db, ATTENDEE_REMOVE, "ii", conference_id,
	    attendee_id), db, ATTENDEE_REMOVE, 1);
}

int
db_attendee_invited(struct db *db, long long attendee_id, const char *now)
{
	return db_conference_done(db_conference_run(db, ATTENDEE_INVITED, "it", attendee_id, now),
	    db, ATTENDEE_INVITED, 0);
}

int
db_live_call(struct db *db, const char *callid, struct db_live_call *call)
{
	int rc = db_conference_run(db, LIVE_CALL, "t", callid);

	if (rc == SQLITE_ROW)
		db_live_read(db->conference_stmt[LIVE_CALL], call);
	return db_conference_one(rc, db, LIVE_CALL);
}

int
db_live_calls_each(struct db *db, long long conference_id,
    void (*each)(void *, const struct db_live_call *), void *context)
{
	struct db_live_call row;
	int rc;

	for (rc = db_conference_run(db, LIVE_CALLS, "i", conference_id); rc == SQLITE_ROW;
	    rc = db_conference_next(db, LIVE_CALLS)) {
		db_live_read(db->conference_stmt[LIVE_CALLS], &row);
		each(context, &row);
	}
	return db_conference_done(rc, db, LIVE_CALLS, 0);
}

int
db_live_call_set_muted(struct db *db, long long conference_id, const char *callid, int muted)
{
	return db_conference_done(db_conference_run(db, LIVE_SET_MUTED, "iti", conference_id,
	    callid, (long long)(muted != 0)), db, LIVE_SET_MUTED, 1);
}

int
db_owner_callouts(struct db *db, long long owner_id, const char *since, int *count)
{
	long long value = 0;
	int rc = db_conference_integer(db_conference_run(db, CALLOUT_COUNT, "it", owner_id, since),
	    db, CALLOUT_COUNT, &value);

	*count = (int)value;
	return rc == DB_FAULT ? DB_FAULT : DB_OK;
}

int
db_owner_callout_record(struct db *db, long long owner_id, const char *now, const char *old)
{
	int rc = db_conference_done(db_conference_run(db, CALLOUT_PRUNE, "t", old), db,
	    CALLOUT_PRUNE, 0);

	if (rc != DB_OK)
		return rc;
	return db_conference_done(db_conference_run(db, CALLOUT_RECORD, "it", owner_id, now), db,
	    CALLOUT_RECORD, 0);
}
