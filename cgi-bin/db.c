/* db.c: the pinconf database: open, check the schema version, the few queries. */
#include "config.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "db.h"

#define NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* Every statement pinconf runs, by name; nothing else reaches SQLite. */
static const struct {
	const char	*name;
	const char	*sql;
} db_statements[STMT__MAX] = {
	[STMT_SCHEMA_VERSION] = { "schema_version", "PRAGMA user_version" },
	/* In WAL mode a commit then needs no fsync; a power cut may lose the last
	 * moments' call records but never corrupts the file. */
	[STMT_SYNCHRONOUS_NORMAL] = { "synchronous", "PRAGMA synchronous = NORMAL" },
	[STMT_BEGIN] = { "begin", "BEGIN IMMEDIATE" },
	[STMT_COMMIT] = { "commit", "COMMIT" },
	[STMT_ROLLBACK] = { "rollback", "ROLLBACK" },
	[STMT_SETTING] = { "setting",
	    "SELECT value FROM setting WHERE name = ?1" },
	[STMT_FIND_ACTIVE_CONFERENCE] = { "find_active_conference",
	    "SELECT id, name, sinch_id FROM conference"
	    " WHERE pin = ?1 AND starts_on <= ?2 AND (ends_on IS NULL OR ends_on >= ?2)"
	    " LIMIT 1" },
	[STMT_CALL_STARTED] = { "call_started",
	    "INSERT INTO call(callid, origin, caller) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT(callid) DO UPDATE SET origin = excluded.origin, caller = excluded.caller" },
	[STMT_CALL_CALLER] = { "call_caller",
	    "SELECT caller FROM call WHERE callid = ?1" },
	[STMT_CALL_FAILED_ATTEMPT] = { "call_failed_attempt",
	    "INSERT INTO call(callid, pin_attempts) VALUES (?1, 1)"
	    " ON CONFLICT(callid) DO UPDATE SET pin_attempts = pin_attempts + 1"
	    " RETURNING pin_attempts" },
	[STMT_CALL_JOINED] = { "call_joined",
	    "INSERT INTO call(callid, conference_id, conference_name, joined)"
	    " VALUES (?1, ?2, ?3, " NOW ")"
	    " ON CONFLICT(callid) DO UPDATE SET conference_id = excluded.conference_id,"
	    " conference_name = excluded.conference_name, joined = excluded.joined" },
	[STMT_CALL_ENDED] = { "call_ended",
	    "INSERT INTO call(callid, ended, end_reason, end_result, duration)"
	    " VALUES (?1, " NOW ", ?2, ?3, ?4)"
	    " ON CONFLICT(callid) DO UPDATE SET ended = excluded.ended,"
	    " end_reason = excluded.end_reason, end_result = excluded.end_result,"
	    " duration = excluded.duration" },
	[STMT_CALL_PRUNE] = { "call_prune",
	    "DELETE FROM call WHERE callid IN"
	    " (SELECT callid FROM call WHERE started < ?1 ORDER BY started LIMIT 50)" },
	[STMT_TICKET_ISSUED] = { "ticket_issued",
	    "INSERT INTO ticket(identity, address) VALUES (?1, ?2)" },
	[STMT_TICKET_PRUNE] = { "ticket_prune",
	    "DELETE FROM ticket WHERE rowid IN"
	    " (SELECT rowid FROM ticket WHERE created < ?1 ORDER BY created LIMIT 50)" },
	[STMT_GUESS_PRUNE] = { "guess_prune",
	    "DELETE FROM pin_guess WHERE rowid IN"
	    " (SELECT rowid FROM pin_guess WHERE at < ?1 ORDER BY at LIMIT 50)" },
	[STMT_TICKET_ADDRESS] = { "ticket_address",
	    "SELECT address FROM ticket WHERE identity = ?1 ORDER BY created DESC, rowid DESC LIMIT 1" },
	[STMT_GUESS_RECORD] = { "guess_record",
	    "INSERT INTO pin_guess(address) VALUES (?1)" },
	/* The guess that, while inside the window, keeps the address locked. */
	[STMT_GUESS_LOCKED_SINCE] = { "guess_locked_since",
	    "SELECT at FROM pin_guess WHERE address = ?1 AND at >= ?2"
	    " ORDER BY at DESC LIMIT 1 OFFSET ?3" },
	[STMT_DIAL_IN_LIST] = { "dial_in_list",
	    "SELECT label, number FROM dial_in ORDER BY label, number" },
};

/*
 * SQLite says "unable to open database file" or "attempt to write a readonly
 * database" without saying why; on shared hosts it is nearly always the
 * permissions of the file or of its directory, where SQLite keeps -wal and -shm.
 */
static const char *
db_access_problem(const char *path, char *buffer, size_t size)
{
	char copy[PATH_MAX];
	const char *directory;

	if (access(path, F_OK) != 0)
		return "no such file: create it with sqlite3 and schema.sql";
	if (access(path, R_OK | W_OK) != 0) {
		snprintf(buffer, size, "not readable and writable by uid %u", (unsigned)geteuid());
		return buffer;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	directory = dirname(copy);
	if (access(directory, W_OK | X_OK) != 0) {
		snprintf(buffer, size, "directory %.256s is not writable by uid %u, and SQLite"
		    " keeps the -wal and -shm files there", directory, (unsigned)geteuid());
		return buffer;
	}
	return NULL;
}

static int
db_fail(struct db *db, enum db_stmt which, const char *reason)
{
	char buffer[400];
	const char *problem = NULL;
	int code = db->handle != NULL ? sqlite3_errcode(db->handle) & 0xff : SQLITE_CANTOPEN;

	if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY)
		problem = db_access_problem(db->path, buffer, sizeof(buffer));
	snprintf(db->why, sizeof(db->why), "database %.256s: %.200s (%s)%s%.400s", db->path,
	    reason, db_statements[which].name, problem != NULL ? ": " : "",
	    problem != NULL ? problem : "");
	return DB_FAULT;
}

static sqlite3_stmt *
db_prepare(struct db *db, enum db_stmt which)
{
	sqlite3_stmt **stmt = &db->stmt[which];

	if (*stmt != NULL) {
		sqlite3_reset(*stmt);
		sqlite3_clear_bindings(*stmt);
		return *stmt;
	}
	if (sqlite3_prepare_v2(db->handle, db_statements[which].sql, -1, stmt, NULL) != SQLITE_OK) {
		db_fail(db, which, sqlite3_errmsg(db->handle));
		*stmt = NULL;
	}
	return *stmt;
}

/* Step once: SQLITE_ROW, SQLITE_DONE, or DB_FAULT with the reason kept. */
static int
db_step(struct db *db, enum db_stmt which)
{
	int rc = sqlite3_step(db->stmt[which]);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	return db_fail(db, which, sqlite3_errmsg(db->handle));
}

static int
db_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* Run a statement that returns no row, with up to three text parameters. */
static int
db_exec(struct db *db, enum db_stmt which, const char *a, const char *b, const char *c)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, which)) == NULL)
		return DB_FAULT;
	if (sqlite3_bind_parameter_count(stmt) >= 1 && db_bind_text(stmt, 1, a) != SQLITE_OK)
		return db_fail(db, which, "cannot bind");
	if (sqlite3_bind_parameter_count(stmt) >= 2 && db_bind_text(stmt, 2, b) != SQLITE_OK)
		return db_fail(db, which, "cannot bind");
	if (sqlite3_bind_parameter_count(stmt) >= 3 && db_bind_text(stmt, 3, c) != SQLITE_OK)
		return db_fail(db, which, "cannot bind");
	rc = db_step(db, which);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : rc == SQLITE_ROW ? DB_OK : DB_FAULT;
}

/* Copy a text column into a bounded buffer; "" for NULL. */
static void
db_column_copy(sqlite3_stmt *stmt, int column, char *out, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);

	snprintf(out, size, "%s", text != NULL ? (const char *)text : "");
}

/* The same where a cut value would be wrong, not just short: -1 if it does not fit. */
static int
db_column_copy_checked(sqlite3_stmt *stmt, int column, char *out, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	int length = sqlite3_column_bytes(stmt, column);

	if (length < 0 || (size_t)length >= size) {
		*out = '\0';
		return -1;
	}
	memcpy(out, text != NULL ? (const char *)text : "", (size_t)length);
	out[length] = '\0';
	return 0;
}

static int
db_check_version(struct db *db)
{
	int version;

	if (db_prepare(db, STMT_SCHEMA_VERSION) == NULL)
		return DB_FAULT;
	if (db_step(db, STMT_SCHEMA_VERSION) != SQLITE_ROW)
		return DB_FAULT;
	version = sqlite3_column_int(db->stmt[STMT_SCHEMA_VERSION], 0);
	sqlite3_reset(db->stmt[STMT_SCHEMA_VERSION]);
	if (version == DB_SCHEMA_VERSION)
		return DB_OK;
	if (version == 0)
		snprintf(db->why, sizeof(db->why), "database %s: not a pinconf database"
		    " (create it with: sqlite3 %s < schema.sql)", db->path, db->path);
	else if (version > DB_SCHEMA_VERSION)
		snprintf(db->why, sizeof(db->why), "database %s: schema version %d is newer than"
		    " this pinconf (%d): install the pinconf that matches it", db->path, version,
		    DB_SCHEMA_VERSION);
	else
		snprintf(db->why, sizeof(db->why), "database %s: schema version %d, this pinconf"
		    " knows %d: run pinconf-upgrade %s", db->path, version,
		    DB_SCHEMA_VERSION, db->path);
	return DB_WRONG_VERSION;
}

/*
 * SQLite's own busy handler sleeps in steps growing to 100 ms: writers that
 * queued behind an admin's lock wake together, one wins, the rest sleep
 * another 100 ms, and a burst of callbacks outlasts the timeout.  Retry every
 * 1 to 5 ms, jittered, until a deadline counted from the start of this wait.
 */
static int
db_busy(void *context, int count)
{
	struct db *db = context;
	struct timespec now;
	long long waited_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		db->busy_since = now;
	waited_ms = (now.tv_sec - db->busy_since.tv_sec) * 1000LL +
	    (now.tv_nsec - db->busy_since.tv_nsec) / 1000000;
	if (waited_ms >= db->busy_timeout_ms)
		return 0;
	usleep(1000 + (useconds_t)(rand_r(&db->busy_seed) % 4000));
	return 1;
}

int
db_open(struct db *db, const char *path, enum db_mode mode, int busy_timeout_ms)
{
	int flags = mode == DB_READ_ONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc;

	memset(db, 0, sizeof(*db));
	db->path = path;
	/* Never SQLITE_OPEN_CREATE: a missing database is the admin's to make. */
	if (sqlite3_open_v2(path, &db->handle, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		db_fail(db, STMT_SCHEMA_VERSION, db->handle != NULL ?
		    sqlite3_errmsg(db->handle) : "out of memory");
		db_close(db);
		return DB_FAULT;
	}
	db->busy_timeout_ms = busy_timeout_ms;
	clock_gettime(CLOCK_REALTIME, &db->busy_since);
	db->busy_seed = (unsigned int)getpid() ^ (unsigned int)db->busy_since.tv_nsec;
	sqlite3_busy_handler(db->handle, db_busy, db);
	sqlite3_extended_result_codes(db->handle, 1);
	if ((rc = db_check_version(db)) != DB_OK) {
		db_close(db);
		return rc;
	}
	if (mode == DB_READ_WRITE && db_exec(db, STMT_SYNCHRONOUS_NORMAL, NULL, NULL, NULL) != DB_OK) {
		db_close(db);
		return DB_FAULT;
	}
	return DB_OK;
}

void
db_close(struct db *db)
{
	size_t i;

	for (i = 0; i < STMT__MAX; i++) {
		sqlite3_finalize(db->stmt[i]);
		db->stmt[i] = NULL;
	}
	sqlite3_close(db->handle);
	db->handle = NULL;
}

int
db_begin(struct db *db)
{
	return db_exec(db, STMT_BEGIN, NULL, NULL, NULL);
}

int
db_commit(struct db *db)
{
	if (db_exec(db, STMT_COMMIT, NULL, NULL, NULL) == DB_OK)
		return DB_OK;
	db_rollback(db);
	return DB_FAULT;
}

void
db_rollback(struct db *db)
{
	/* Keep the reason for the failure that led here, not the rollback's. */
	char why[sizeof(db->why)];

	memcpy(why, db->why, sizeof(why));
	if (!sqlite3_get_autocommit(db->handle))
		db_exec(db, STMT_ROLLBACK, NULL, NULL, NULL);
	memcpy(db->why, why, sizeof(why));
}

/* Run a one-integer query with up to two text parameters. */
static int
db_query_integer(struct db *db, enum db_stmt which, const char *a, const char *b,
    long long *value)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, which)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, a) != SQLITE_OK ||
	    (b != NULL && db_bind_text(stmt, 2, b) != SQLITE_OK))
		return db_fail(db, which, "cannot bind");
	rc = db_step(db, which);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

/* Run a one-text-column query keyed by one text parameter; DB_NONE if no row. */
static int
db_query_text(struct db *db, enum db_stmt which, const char *key, char *out, size_t size)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, which)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, key) != SQLITE_OK)
		return db_fail(db, which, "cannot bind");
	if ((rc = db_step(db, which)) == SQLITE_ROW)
		db_column_copy(stmt, 0, out, size);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_setting(struct db *db, const char *name, int *value)
{
	long long number = 0;
	int rc;

	if ((rc = db_query_integer(db, STMT_SETTING, name, NULL, &number)) == DB_NONE) {
		snprintf(db->why, sizeof(db->why), "database %s: setting %s is missing",
		    db->path, name);
		return DB_FAULT;
	}
	*value = (int)number;
	return rc;
}

/* A PIN is exactly pin_length digits; anything else matches nothing. */
static int
pin_well_formed(const char *pin, int pin_length)
{
	int i;

	for (i = 0; pin[i] != '\0'; i++)
		if (!isdigit((unsigned char)pin[i]))
			return 0;
	return i == pin_length;
}

int
db_find_conference_for_pin(struct db *db, const char *pin, const char *zone,
    time_t now, struct db_conference *conference)
{
	char today[CLOCK_DATE_SIZE];
	sqlite3_stmt *stmt;
	int pin_length, rc;

	if ((rc = db_setting(db, "pin_length", &pin_length)) != DB_OK)
		return rc;
	if (pin == NULL || !pin_well_formed(pin, pin_length))
		return DB_NONE;
	if (clock_today(zone, now, today) != 0) {
		snprintf(db->why, sizeof(db->why), "cannot tell today's date in %s", zone);
		return DB_FAULT;
	}
	if ((stmt = db_prepare(db, STMT_FIND_ACTIVE_CONFERENCE)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, pin);
	db_bind_text(stmt, 2, today);
	if ((rc = db_step(db, STMT_FIND_ACTIVE_CONFERENCE)) == SQLITE_ROW) {
		conference->id = sqlite3_column_int64(stmt, 0);
		db_column_copy(stmt, 1, conference->name, sizeof(conference->name));
		/* A cut sinch_id would put the caller into someone else's conference. */
		if (db_column_copy_checked(stmt, 2, conference->sinch_id,
		    sizeof(conference->sinch_id)) != 0) {
			sqlite3_reset(stmt);
			snprintf(db->why, sizeof(db->why), "database %s: conference %lld has a"
			    " sinch_id longer than %zu bytes", db->path, conference->id,
			    sizeof(conference->sinch_id) - 1);
			return DB_FAULT;
		}
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_call_started(struct db *db, const char *callid, const char *origin, const char *caller)
{
	return db_exec(db, STMT_CALL_STARTED, callid, origin, caller);
}

int
db_call_caller(struct db *db, const char *callid, char *caller, size_t size)
{
	return db_query_text(db, STMT_CALL_CALLER, callid, caller, size);
}

int
db_call_failed_attempt(struct db *db, const char *callid, int *attempts)
{
	long long count = 0;
	int rc;

	rc = db_query_integer(db, STMT_CALL_FAILED_ATTEMPT, callid, NULL, &count);
	*attempts = (int)count;
	return rc == DB_NONE ? DB_FAULT : rc;
}

int
db_call_joined(struct db *db, const char *callid, const struct db_conference *conference)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_CALL_JOINED)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, callid);
	sqlite3_bind_int64(stmt, 2, conference->id);
	db_bind_text(stmt, 3, conference->name);
	rc = db_step(db, STMT_CALL_JOINED);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_call_ended(struct db *db, const char *callid, const char *reason,
    const char *result, long long duration)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_CALL_ENDED)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, callid);
	db_bind_text(stmt, 2, reason);
	db_bind_text(stmt, 3, result);
	if (duration >= 0)
		sqlite3_bind_int64(stmt, 4, duration);
	rc = db_step(db, STMT_CALL_ENDED);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_prune_calls(struct db *db, const char *cutoff)
{
	return db_exec(db, STMT_CALL_PRUNE, cutoff, NULL, NULL);
}

int
db_prune_tickets_and_guesses(struct db *db, time_t now, int ticket_lifetime)
{
	char cutoff[CLOCK_TIME_SIZE];
	int window;

	/* A ticket maps a browser to its address only while the SDK may use it. */
	clock_format_utc(now - ticket_lifetime, -1, cutoff);
	if (db_exec(db, STMT_TICKET_PRUNE, cutoff, NULL, NULL) != DB_OK)
		return DB_FAULT;
	if (db_setting(db, "guess_window", &window) != DB_OK)
		return DB_FAULT;
	clock_format_utc(now - window, -1, cutoff);
	return db_exec(db, STMT_GUESS_PRUNE, cutoff, NULL, NULL);
}

int
db_ticket_issued(struct db *db, const char *identity, const char *address)
{
	return db_exec(db, STMT_TICKET_ISSUED, identity, address, NULL);
}

int
db_ticket_address(struct db *db, const char *identity, char *address, size_t size)
{
	return db_query_text(db, STMT_TICKET_ADDRESS, identity, address, size);
}

int
db_guess_record(struct db *db, const char *address)
{
	return db_exec(db, STMT_GUESS_RECORD, address, NULL, NULL);
}

int
db_guess_lockout(struct db *db, const char *address, time_t now, int *retry_after)
{
	char since[CLOCK_TIME_SIZE], at[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	time_t locked_since;
	int limit, window, rc;

	*retry_after = 0;
	if (db_setting(db, "guess_limit", &limit) != DB_OK ||
	    db_setting(db, "guess_window", &window) != DB_OK)
		return DB_FAULT;
	clock_format_utc(now - window, -1, since);
	if ((stmt = db_prepare(db, STMT_GUESS_LOCKED_SINCE)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, address);
	db_bind_text(stmt, 2, since);
	sqlite3_bind_int(stmt, 3, limit - 1);
	if ((rc = db_step(db, STMT_GUESS_LOCKED_SINCE)) == SQLITE_ROW) {
		db_column_copy(stmt, 0, at, sizeof(at));
		if (clock_parse_utc(at, &locked_since) != 0)
			locked_since = now;
		*retry_after = (int)(locked_since + window - now);
		if (*retry_after < 1)
			*retry_after = 1;
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_dial_in_each(struct db *db, void (*each)(void *, const char *, const char *),
    void *context)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_DIAL_IN_LIST)) == NULL)
		return DB_FAULT;
	while ((rc = db_step(db, STMT_DIAL_IN_LIST)) == SQLITE_ROW)
		each(context, (const char *)sqlite3_column_text(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1));
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}
