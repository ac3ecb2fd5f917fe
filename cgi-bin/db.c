/* db.c: the pinconf database: open, check the schema version, the few queries. */
#include "config.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

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
	    "SELECT name, value FROM setting" },
	/*
	 * The pin_holder view spelled out as a plain UNION ALL, which streams: the
	 * view with an ORDER BY would build two temporary tables per call.  A PIN
	 * matches one row per holder and date range; db_find_pin_holder picks one.
	 */
	[STMT_FIND_PIN_HOLDER] = { "find_pin_holder",
	    "SELECT conference.id, conference.name, conference.sinch_id, conference.starts_on,"
	    " conference.ends_on, coalesce(conference.max_participants, 0), conference.locked,"
	    " conference.announce_count, 0, NULL,"
	    " CASE WHEN conference.starts_on > ?2 THEN 1 WHEN conference.ends_on < ?2 THEN 2"
	    " ELSE 0 END, conference.wait_for_host, conference.end_with_host, 0"
	    " FROM conference WHERE conference.pin = ?1"
	    " UNION ALL "
	    "SELECT conference.id, conference.name, conference.sinch_id, conference.starts_on,"
	    " conference.ends_on, coalesce(conference.max_participants, 0), conference.locked,"
	    " conference.announce_count, attendee.id, attendee.name,"
	    " CASE WHEN conference.starts_on > ?2 THEN 1 WHEN conference.ends_on < ?2 THEN 2"
	    " ELSE 0 END, conference.wait_for_host, conference.end_with_host, attendee.host"
	    " FROM attendee JOIN conference ON conference.id = attendee.conference_id"
	    " WHERE attendee.pin = ?1" },
	[STMT_COUNT_IN_CONFERENCE] = { "count_in_conference",
	    "SELECT count(*) FROM call WHERE conference_id = ?1 AND joined IS NOT NULL"
	    " AND ended IS NULL AND joined >= ?2" },
	[STMT_CALL_STARTED] = { "call_started",
	    "INSERT INTO call(callid, origin, caller, user_id) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT(callid) DO UPDATE SET origin = excluded.origin, caller = excluded.caller,"
	    " user_id = excluded.user_id" },
	[STMT_CALL_CALLER] = { "call_caller",
	    "SELECT caller FROM call WHERE callid = ?1" },
	[STMT_CALL_FAILED_ATTEMPT] = { "call_failed_attempt",
	    "INSERT INTO call(callid, pin_attempts) VALUES (?1, 1)"
	    " ON CONFLICT(callid) DO UPDATE SET pin_attempts = pin_attempts + 1"
	    " RETURNING pin_attempts" },
	/* A browser's ICE is recorded here whole, in one write; a PIE keeps what its ICE wrote. */
	[STMT_CALL_JOINED] = { "call_joined",
	    "INSERT INTO call(callid, conference_id, conference_name, attendee_id, joined,"
	    " origin, caller, user_id) VALUES (?1, ?2, ?3, ?4, " NOW ", ?5, ?6, ?7)"
	    " ON CONFLICT(callid) DO UPDATE SET conference_id = excluded.conference_id,"
	    " conference_name = excluded.conference_name, attendee_id = excluded.attendee_id,"
	    " joined = excluded.joined, origin = coalesce(excluded.origin, call.origin),"
	    " caller = coalesce(excluded.caller, call.caller),"
	    " user_id = coalesce(excluded.user_id, call.user_id)" },
	[STMT_CALL_ENDED] = { "call_ended",
	    "INSERT INTO call(callid, ended, end_reason, end_result, duration)"
	    " VALUES (?1, " NOW ", ?2, ?3, ?4)"
	    " ON CONFLICT(callid) DO UPDATE SET ended = excluded.ended,"
	    " end_reason = excluded.end_reason, end_result = excluded.end_result,"
	    " duration = excluded.duration" },
	[STMT_CALL_PRUNE] = { "call_prune",
	    "DELETE FROM call WHERE callid IN"
	    " (SELECT callid FROM call WHERE started < ?1 ORDER BY started LIMIT 50)" },
	[STMT_IDENTITY_ISSUE] = { "identity_issue",
	    "INSERT INTO identity(user_id, display_name, conference_id, attendee_id, pin, source,"
	    " issued, expires) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7, ?8)" },
	[STMT_IDENTITY_FIND] = { "identity_find",
	    "SELECT display_name, conference_id, coalesce(attendee_id, 0), pin, source, expires"
	    " FROM identity WHERE user_id = ?1" },
	/* All of them, on every path that adds one: each row is deleted once.  An
	 * identity stays an hour after its issue, for identity_limit to count. */
	[STMT_IDENTITY_PRUNE] = { "identity_prune",
	    "DELETE FROM identity WHERE expires < ?1 AND issued < ?2" },
	[STMT_IDENTITY_COUNT] = { "identity_count",
	    "SELECT count(*), min(issued) FROM identity WHERE source = ?1 AND issued >= ?2" },
	[STMT_GUESS_RECORD] = { "guess_record",
	    "INSERT INTO pin_guess(source) VALUES (?1)" },
	/*
	 * The guess rule, whole, in one statement (see db_guess_check): the
	 * source's guess_limit-th newest guess within guess_window, its
	 * per_source-th newest within the hour, the hour's count against
	 * guess_budget with its oldest, and whether the source was connected with
	 * the holder (?7 NULL: with any).  The views locked_out and guess_budget,
	 * which admins read, state it too; as plain index searches with the
	 * settings bound it costs a CGI a fraction of preparing the views.
	 * t/guess-limits.t checks that the views and the CGIs agree.
	 */
	[STMT_GUESS_CHECK] = { "guess_check",
	    "SELECT (SELECT at FROM pin_guess WHERE source = ?1 AND at >= ?2"
	    "  ORDER BY at DESC LIMIT 1 OFFSET ?3),"
	    " (SELECT at FROM pin_guess WHERE source = ?1 AND at >= ?4"
	    "  ORDER BY at DESC LIMIT 1 OFFSET ?5),"
	    " (SELECT count(*) FROM pin_guess WHERE at >= ?4),"
	    " (SELECT min(at) FROM pin_guess WHERE at >= ?4),"
	    " EXISTS (SELECT 1 FROM known_source WHERE source = ?1 AND last_joined >= ?6"
	    "  AND (?7 IS NULL OR (conference_id = ?7 AND attendee_id = ?8)))" },
	[STMT_GUESS_PRUNE] = { "guess_prune",
	    "DELETE FROM pin_guess WHERE rowid IN"
	    " (SELECT rowid FROM pin_guess WHERE at < ?1 ORDER BY at LIMIT 50)" },
	/* At most once an hour per source and holder: a join that changes nothing writes nothing. */
	[STMT_SOURCE_JOINED] = { "source_joined",
	    "INSERT INTO known_source(source, conference_id, attendee_id, last_joined)"
	    " VALUES (?1, ?4, ?5, ?2)"
	    " ON CONFLICT(source, conference_id, attendee_id) DO UPDATE"
	    " SET last_joined = excluded.last_joined WHERE known_source.last_joined < ?3" },
	[STMT_SOURCE_PRUNE] = { "source_prune",
	    "DELETE FROM known_source WHERE (source, conference_id, attendee_id) IN"
	    " (SELECT source, conference_id, attendee_id FROM known_source"
	    " WHERE last_joined < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days') LIMIT 50)" },
	[STMT_CALL_OF_USER] = { "call_of_user",
	    "SELECT conference_id FROM call WHERE user_id = ?1 AND joined IS NOT NULL"
	    " AND ended IS NULL AND joined >= ?2 ORDER BY joined DESC LIMIT 1" },
	[STMT_PARTICIPANTS] = { "participants",
	    "SELECT coalesce(attendee.name, call.caller, ''), call.origin,"
	    " call.attendee_id IS NOT NULL, coalesce(attendee.host, 0) FROM call"
	    " LEFT JOIN attendee ON attendee.id = call.attendee_id"
	    " WHERE call.conference_id = ?1 AND call.joined IS NOT NULL AND call.ended IS NULL"
	    " AND call.joined >= ?2 ORDER BY call.joined, call.callid" },
	[STMT_DIAL_IN_LIST] = { "dial_in_list",
	    "SELECT label, number FROM dial_in ORDER BY label, number" },
	[STMT_CONFERENCE_BY_ID] = { "conference_by_id",
	    "SELECT id, name, sinch_id FROM conference WHERE id = ?1" },
	[STMT_CONFERENCE_BY_SINCH_ID] = { "conference_by_sinch_id",
	    "SELECT id, name, sinch_id FROM conference WHERE sinch_id = ?1" },
	[STMT_CONFERENCES_NAMED] = { "conferences_named",
	    "SELECT id, name, pin, starts_on, ends_on, 0 FROM conference"
	    " WHERE name = ?1 ORDER BY id LIMIT 20" },
	/* "In now" as the participant_now view counts it. */
	[STMT_CONFERENCES_ACTIVE] = { "conferences_active",
	    "SELECT id, name, pin, starts_on, ends_on,"
	    " (SELECT count(*) FROM call WHERE call.conference_id = conference.id"
	    "  AND call.joined IS NOT NULL AND call.ended IS NULL"
	    "  AND call.joined >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' ||"
	    "  (SELECT value FROM setting WHERE name = 'call_max_hours') || ' hours'))"
	    " FROM conference WHERE starts_on <= ?1 AND (ends_on IS NULL OR ends_on >= ?1)"
	    " ORDER BY name, id" },
	[STMT_CALL_PARTICIPANT] = { "call_participant",
	    "SELECT call.origin, call.caller, call.joined, coalesce(attendee.host, 0), call.muted"
	    " FROM call LEFT JOIN attendee ON attendee.id = call.attendee_id"
	    " WHERE call.callid = ?1" },
	/* A DiCE may beat us here (a number that fails at once): keep what it wrote. */
	[STMT_CALLOUT_STARTED] = { "callout_started",
	    "INSERT INTO call(callid, origin, caller, conference_id, conference_name, joined)"
	    " VALUES (?1, 'pstn', ?2, ?3, ?4, " NOW ")"
	    " ON CONFLICT(callid) DO UPDATE SET origin = excluded.origin,"
	    " caller = excluded.caller, conference_id = excluded.conference_id,"
	    " conference_name = excluded.conference_name,"
	    " joined = coalesce(call.joined, excluded.joined)" },
	/* Hosts and keypad (issue 19). */
	[STMT_HOSTS_IN] = { "hosts_in",
	    "SELECT count(*) FROM call JOIN attendee ON attendee.id = call.attendee_id"
	    " WHERE call.conference_id = ?1 AND attendee.host = 1 AND call.joined IS NOT NULL"
	    " AND call.ended IS NULL AND call.joined >= ?2" },
	[STMT_CALL_WAITING] = { "call_waiting",
	    "INSERT INTO call(callid, waiting_for, attendee_id, waiting_since)"
	    " VALUES (?1, ?2, nullif(?3, 0), ?4)"
	    " ON CONFLICT(callid) DO UPDATE SET waiting_for = excluded.waiting_for,"
	    " attendee_id = excluded.attendee_id,"
	    " waiting_since = coalesce(call.waiting_since, excluded.waiting_since)" },
	[STMT_CALL_WAIT_STATE] = { "call_wait_state",
	    "SELECT waiting_for, coalesce(attendee_id, 0), waiting_since, caller FROM call"
	    " WHERE callid = ?1 AND waiting_for IS NOT NULL AND waiting_since IS NOT NULL"
	    " AND joined IS NULL AND ended IS NULL" },
	/* The columns of find_pin_holder, for a holder known by id. */
	[STMT_HOLDER_BY_ID] = { "holder_by_id",
	    "SELECT conference.id, conference.name, conference.sinch_id, conference.starts_on,"
	    " conference.ends_on, coalesce(conference.max_participants, 0), conference.locked,"
	    " conference.announce_count, coalesce(attendee.id, 0), attendee.name,"
	    " CASE WHEN conference.starts_on > ?3 THEN 1 WHEN conference.ends_on < ?3 THEN 2"
	    " ELSE 0 END, conference.wait_for_host, conference.end_with_host,"
	    " coalesce(attendee.host, 0)"
	    " FROM conference LEFT JOIN attendee ON attendee.id = ?2"
	    " AND attendee.conference_id = conference.id WHERE conference.id = ?1" },
	[STMT_CALL_KEYPAD] = { "call_keypad",
	    "SELECT call.conference_id, conference.sinch_id, call.muted,"
	    " coalesce(attendee.host, 0), conference.locked"
	    " FROM call JOIN conference ON conference.id = call.conference_id"
	    " LEFT JOIN attendee ON attendee.id = call.attendee_id"
	    " WHERE call.callid = ?1 AND call.joined IS NOT NULL AND call.ended IS NULL" },
	[STMT_CALL_SET_MUTED] = { "call_set_muted",
	    "UPDATE call SET muted = ?2 WHERE callid = ?1" },
	[STMT_CONFERENCE_SET_LOCKED] = { "conference_set_locked",
	    "UPDATE conference SET locked = ?2 WHERE id = ?1" },
	[STMT_CALL_HOST_LEFT] = { "call_host_left",
	    "SELECT call.conference_id FROM call"
	    " JOIN conference ON conference.id = call.conference_id"
	    " JOIN attendee ON attendee.id = call.attendee_id"
	    " WHERE call.callid = ?1 AND call.joined IS NOT NULL AND attendee.host = 1"
	    " AND conference.end_with_host = 1" },
	[STMT_CONFERENCE_ACTIVE_BY_SINCH_ID] = { "conference_active_by_sinch_id",
	    "SELECT id, name, sinch_id FROM conference WHERE sinch_id = ?1"
	    " AND starts_on <= ?2 AND (ends_on IS NULL OR ends_on >= ?2)" },
	[STMT_CALLOUT_ANSWERED] = { "callout_answered",
	    "INSERT INTO call(callid, origin, conference_id, conference_name, joined)"
	    " VALUES (?1, 'pstn', ?2, ?3, " NOW ")"
	    " ON CONFLICT(callid) DO UPDATE SET conference_id = excluded.conference_id,"
	    " conference_name = excluded.conference_name,"
	    " joined = coalesce(call.joined, excluded.joined)" },
	[STMT_ATTENDEE_SET_HOST] = { "attendee_set_host",
	    "UPDATE attendee SET host = ?3 WHERE conference_id = ?1 AND id = ?2" },
	[STMT_CONFERENCE_SET_WAIT_FOR_HOST] = { "conference_set_wait_for_host",
	    "UPDATE conference SET wait_for_host = ?2 WHERE id = ?1" },
	[STMT_CONFERENCE_SET_END_WITH_HOST] = { "conference_set_end_with_host",
	    "UPDATE conference SET end_with_host = ?2 WHERE id = ?1" },
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
db_fail_named(struct db *db, const char *name, const char *reason)
{
	char buffer[400];
	const char *problem = NULL;
	int code = db->handle != NULL ? sqlite3_errcode(db->handle) & 0xff : SQLITE_CANTOPEN;

	if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY)
		problem = db_access_problem(db->path, buffer, sizeof(buffer));
	snprintf(db->why, sizeof(db->why), "database %.256s: %.200s (%s)%s%.400s", db->path,
	    reason, name, problem != NULL ? ": " : "",
	    problem != NULL ? problem : "");
	return DB_FAULT;
}

static int
db_fail(struct db *db, enum db_stmt which, const char *reason)
{
	return db_fail_named(db, db_statements[which].name, reason);
}

sqlite3_stmt *
db_prepare_in(struct db *db, sqlite3_stmt **slot, const char *name, const char *sql)
{
	if (*slot != NULL) {
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
		return *slot;
	}
	if (sqlite3_prepare_v2(db->handle, sql, -1, slot, NULL) != SQLITE_OK) {
		db_fail_named(db, name, sqlite3_errmsg(db->handle));
		*slot = NULL;
	}
	return *slot;
}

int
db_fail_in(struct db *db, const char *name)
{
	return db_fail_named(db, name, sqlite3_errmsg(db->handle));
}

int
db_step_in(struct db *db, sqlite3_stmt *stmt, const char *name)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	return db_fail_named(db, name, sqlite3_errmsg(db->handle));
}

sqlite3_stmt *
db_bind_in(struct db *db, sqlite3_stmt **slot, const struct db_statement *statement,
    const char *format, va_list values)
{
	sqlite3_stmt *stmt;
	const char *text;
	int index, rc = SQLITE_OK;

	if ((stmt = db_prepare_in(db, slot, statement->name, statement->sql)) == NULL)
		return NULL;
	for (index = 1; *format != '\0' && rc == SQLITE_OK; format++, index++) {
		if (*format == 'i')
			rc = sqlite3_bind_int64(stmt, index, va_arg(values, long long));
		else if ((text = va_arg(values, const char *)) == NULL)
			rc = sqlite3_bind_null(stmt, index);
		else
			rc = sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
	}
	if (rc != SQLITE_OK) {
		snprintf(db->why, sizeof(db->why), "database %.256s: cannot bind (%s)", db->path,
		    statement->name);
		return NULL;
	}
	return stmt;
}

int
db_done_in(int rc, struct db *db, sqlite3_stmt **slot, int want_change)
{
	if (*slot != NULL)
		sqlite3_reset(*slot);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rc;
	return want_change && sqlite3_changes(db->handle) == 0 ? DB_NONE : DB_OK;
}

int
db_one_in(int rc, sqlite3_stmt **slot)
{
	if (*slot != NULL)
		sqlite3_reset(*slot);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : rc;
}

int
db_integer_in(int rc, sqlite3_stmt **slot, long long *value)
{
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(*slot, 0);
	return db_one_in(rc, slot);
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

void
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

int
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
 * another 100 ms, and a burst of callbacks outlasts the timeout.  Another
 * callback holds the lock for some 30 us, so retry every 10 to 30 us for the
 * first millisecond of a wait (measured: two FastCGI processes served 13%
 * more callbacks than with 50 to 250 us), then every 1 to 5 ms, jittered,
 * until a deadline counted from the start of this wait.
 */
static int
db_busy(void *context, int count)
{
	struct db *db = context;
	struct timespec now;
	long long waited_us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0) {
		db->busy_since = now;
#ifdef PR_SET_TIMERSLACK
		/* Linux rounds short sleeps up by 50 us unless told otherwise. */
		prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
#endif
	}
	waited_us = (now.tv_sec - db->busy_since.tv_sec) * 1000000LL +
	    (now.tv_nsec - db->busy_since.tv_nsec) / 1000;
	if (waited_us >= db->busy_timeout_ms * 1000LL)
		return 0;
	if (waited_us < 1000)
		usleep(10 + (useconds_t)(rand_r(&db->busy_seed) % 20));
	else
		usleep(1000 + (useconds_t)(rand_r(&db->busy_seed) % 4000));
	return 1;
}

/*
 * WAL frames (pages) after which a commit checkpoints: 256 KiB.  Each CGI
 * reads the whole WAL to rebuild the -shm index (measured: 63 frames cost
 * 360,000 instructions, 8% of a callback), so keep it short; a checkpoint
 * every 64 or so writes costs two fdatasync.
 */
#define DB_WAL_CHECKPOINT_FRAMES	64

/*
 * Replaces SQLite's automatic checkpoint.  A PASSIVE checkpoint is not
 * enough for CGIs: the first connection to open the database rebuilds the
 * -shm index from the WAL and counts every frame as not yet copied, so the
 * WAL never starts over, grows without end, and every CGI reads all of it.
 * TRUNCATE empties it; without the busy handler, so that a reader or writer
 * in the way costs a retry at a later commit, never a wait now.
 */
static int
db_wal_hook(void *context, sqlite3 *handle, const char *name, int frames)
{
	struct db *db = context;

	if (frames < db->checkpoint_frames)
		return SQLITE_OK;
	sqlite3_busy_handler(handle, NULL, NULL);
	sqlite3_wal_checkpoint_v2(handle, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_handler(handle, db_busy, context);
	return SQLITE_OK;
}

/*
 * A CGI's connection is nearly always the only one, and SQLite's last
 * connection to close checkpoints the WAL into the database and deletes the
 * -wal and -shm files: four fdatasync and two unlink a request.  Leave both
 * in place; checkpoints come from db_wal_hook, so the WAL stays bounded.
 */
static void
db_keep_wal(struct db *db)
{
	int on = 1;

	sqlite3_db_config(db->handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_file_control(db->handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	db->checkpoint_frames = DB_WAL_CHECKPOINT_FRAMES;
	sqlite3_wal_hook(db->handle, db_wal_hook, db);
}

int
db_open(struct db *db, const char *path, enum db_mode mode, int busy_timeout_ms)
{
	int flags = mode == DB_READ_ONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc;

	memset(db, 0, sizeof(*db));
	db->path = path;
	/*
	 * One thread a process, in both modes: without SQLite's mutexes and
	 * memory statistics a request runs some 10% fewer instructions.  Only
	 * the first call before SQLite initialises takes effect; later ones
	 * return SQLITE_MISUSE, which changes nothing.
	 */
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
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
	db_keep_wal(db);
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
	for (i = 0; i < DB_OWNER_STATEMENTS; i++) {
		sqlite3_finalize(db->owner_stmt[i]);
		db->owner_stmt[i] = NULL;
	}
	for (i = 0; i < DB_CONFERENCE_STATEMENTS; i++) {
		sqlite3_finalize(db->conference_stmt[i]);
		db->conference_stmt[i] = NULL;
	}
	sqlite3_close(db->handle);
	db->handle = NULL;
}

void
db_request_done(struct db *db)
{
	sqlite3_stmt *stmt = NULL;

	if (db->handle == NULL)
		return;
	db_rollback(db);
	/* A statement left on a row keeps its read transaction, and with it an
	 * old snapshot and a WAL no checkpoint can reset, into the next request. */
	while ((stmt = sqlite3_next_stmt(db->handle, stmt)) != NULL)
		sqlite3_reset(stmt);
	db->why[0] = '\0';
	db->settings_loaded = 0;
}

int
db_begin(struct db *db)
{
	db->settings_loaded = 0;
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
static int	db_seconds_until(const unsigned char *, int, time_t);

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

/* What the setting table holds; db_setting reads them all at once. */
static const char *const db_setting_names[DB_SETTINGS] = {
	"pin_length", "guess_limit", "guess_window", "guess_budget", "identity_limit",
	"call_max_hours"
};

/* All settings in one statement, once a request or transaction. */
static int
db_settings_load(struct db *db)
{
	sqlite3_stmt *stmt;
	const char *name;
	int i, rc;

	if ((stmt = db_prepare(db, STMT_SETTING)) == NULL)
		return DB_FAULT;
	memset(db->setting_found, 0, sizeof(db->setting_found));
	while ((rc = db_step(db, STMT_SETTING)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(stmt, 0);
		for (i = 0; name != NULL && i < DB_SETTINGS; i++)
			if (strcmp(name, db_setting_names[i]) == 0) {
				db->setting[i] = sqlite3_column_int(stmt, 1);
				db->setting_found[i] = 1;
			}
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return DB_FAULT;
	db->settings_loaded = 1;
	return DB_OK;
}

int
db_setting(struct db *db, const char *name, int *value)
{
	int i;

	if (!db->settings_loaded && db_settings_load(db) != DB_OK)
		return DB_FAULT;
	for (i = 0; i < DB_SETTINGS; i++)
		if (strcmp(name, db_setting_names[i]) == 0 && db->setting_found[i]) {
			*value = db->setting[i];
			return DB_OK;
		}
	snprintf(db->why, sizeof(db->why), "database %s: setting %s is missing", db->path, name);
	return DB_FAULT;
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

/*
 * Is the holder in the current row a better answer than best?  Active today
 * first, then the soonest to come, then the latest to end; the guards keep
 * a PIN's date ranges apart, so no two rows tie.
 */
static int
db_pin_holder_better(sqlite3_stmt *stmt, const struct db_conference *best, const char *best_ends)
{
	enum db_pin_state state = (enum db_pin_state)sqlite3_column_int(stmt, 10);
	const char *starts = (const char *)sqlite3_column_text(stmt, 3);
	const char *ends = (const char *)sqlite3_column_text(stmt, 4);

	if (best->id == 0 || state != best->state)
		return best->id == 0 || state < best->state;
	if (state == DB_PIN_NOT_STARTED)
		return starts != NULL && strcmp(starts, best->starts_on) < 0;
	/* NULL, no end, sorts as SQLite's ORDER BY ends_on DESC would: last. */
	return ends != NULL && (*best_ends == '\0' || strcmp(ends, best_ends) > 0);
}

static int
db_pin_holder_copy(struct db *db, sqlite3_stmt *stmt, struct db_conference *conference,
    char *ends_on, size_t size)
{
	memset(conference, 0, sizeof(*conference));
	conference->id = sqlite3_column_int64(stmt, 0);
	db_column_copy(stmt, 1, conference->name, sizeof(conference->name));
	/* A cut sinch_id would put the caller into someone else's conference. */
	if (db_column_copy_checked(stmt, 2, conference->sinch_id,
	    sizeof(conference->sinch_id)) != 0) {
		snprintf(db->why, sizeof(db->why), "database %s: conference %lld has a"
		    " sinch_id longer than %zu bytes", db->path, conference->id,
		    sizeof(conference->sinch_id) - 1);
		return DB_FAULT;
	}
	db_column_copy(stmt, 3, conference->starts_on, sizeof(conference->starts_on));
	db_column_copy(stmt, 4, ends_on, size);
	conference->max_participants = sqlite3_column_int(stmt, 5);
	conference->locked = sqlite3_column_int(stmt, 6);
	conference->announce_count = sqlite3_column_int(stmt, 7);
	conference->attendee_id = sqlite3_column_int64(stmt, 8);
	db_column_copy(stmt, 9, conference->attendee_name, sizeof(conference->attendee_name));
	conference->state = (enum db_pin_state)sqlite3_column_int(stmt, 10);
	conference->wait_for_host = sqlite3_column_int(stmt, 11);
	conference->end_with_host = sqlite3_column_int(stmt, 12);
	conference->host = sqlite3_column_int(stmt, 13);
	return DB_OK;
}

int
db_find_pin_holder(struct db *db, const char *pin, const char *zone, time_t now,
    struct db_conference *conference)
{
	char today[CLOCK_DATE_SIZE], ends_on[16] = "";
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
	if ((stmt = db_prepare(db, STMT_FIND_PIN_HOLDER)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, pin) != SQLITE_OK || db_bind_text(stmt, 2, today) != SQLITE_OK)
		return db_fail(db, STMT_FIND_PIN_HOLDER, "cannot bind");
	conference->id = 0;
	while ((rc = db_step(db, STMT_FIND_PIN_HOLDER)) == SQLITE_ROW)
		if (db_pin_holder_better(stmt, conference, ends_on) &&
		    db_pin_holder_copy(db, stmt, conference, ends_on, sizeof(ends_on)) != DB_OK) {
			rc = DB_FAULT;
			break;
		}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return DB_FAULT;
	return conference->id != 0 ? DB_OK : DB_NONE;
}

/*
 * ISO 8601 UTC of now less setting call_max_hours: calls joined before it no
 * longer count as in.  The views read the same setting.
 */
static int
db_in_call_cutoff(struct db *db, time_t now, char cutoff[CLOCK_TIME_SIZE])
{
	int max_hours;

	if (db_setting(db, "call_max_hours", &max_hours) != DB_OK)
		return DB_FAULT;
	clock_format_utc(now - (time_t)max_hours * 3600, -1, cutoff);
	return DB_OK;
}

static int
db_query_id_integer(struct db *db, enum db_stmt which, long long id, const char *text,
    long long *value)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, which)) == NULL)
		return DB_FAULT;
	if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK || db_bind_text(stmt, 2, text) != SQLITE_OK)
		return db_fail(db, which, "cannot bind");
	if ((rc = db_step(db, which)) == SQLITE_ROW)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_count_in_conference(struct db *db, long long conference_id, time_t now, int *count)
{
	char cutoff[CLOCK_TIME_SIZE];
	long long value = 0;
	int rc;

	if (db_in_call_cutoff(db, now, cutoff) != DB_OK)
		return DB_FAULT;
	rc = db_query_id_integer(db, STMT_COUNT_IN_CONFERENCE, conference_id, cutoff, &value);
	*count = (int)value;
	return rc == DB_NONE ? DB_FAULT : rc;
}

int
db_call_started(struct db *db, const char *callid, const char *origin, const char *caller,
    const char *user_id)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_CALL_STARTED)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, callid) != SQLITE_OK || db_bind_text(stmt, 2, origin) != SQLITE_OK ||
	    db_bind_text(stmt, 3, caller) != SQLITE_OK || db_bind_text(stmt, 4, user_id) != SQLITE_OK)
		return db_fail(db, STMT_CALL_STARTED, "cannot bind");
	rc = db_step(db, STMT_CALL_STARTED);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
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
db_call_joined(struct db *db, const char *callid, const struct db_conference *conference,
    const struct db_call_start *start)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_CALL_JOINED)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, callid) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, conference->id) != SQLITE_OK ||
	    db_bind_text(stmt, 3, conference->name) != SQLITE_OK ||
	    (conference->attendee_id != 0 ?
	    sqlite3_bind_int64(stmt, 4, conference->attendee_id) : sqlite3_bind_null(stmt, 4))
	    != SQLITE_OK ||
	    (start != NULL && (db_bind_text(stmt, 5, start->origin) != SQLITE_OK ||
	    db_bind_text(stmt, 6, start->caller) != SQLITE_OK ||
	    db_bind_text(stmt, 7, start->user_id) != SQLITE_OK)))
		return db_fail(db, STMT_CALL_JOINED, "cannot bind");
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
db_prune_limits(struct db *db, time_t now)
{
	char cutoff[CLOCK_TIME_SIZE];
	int window;

	if (db_identity_prune(db, now) != DB_OK)
		return DB_FAULT;
	/* A guess matters to its source's window and to the hour's budget. */
	if (db_setting(db, "guess_window", &window) != DB_OK)
		return DB_FAULT;
	clock_format_utc(now - (window > 3600 ? window : 3600), -1, cutoff);
	if (db_exec(db, STMT_GUESS_PRUNE, cutoff, NULL, NULL) != DB_OK)
		return DB_FAULT;
	return db_exec(db, STMT_SOURCE_PRUNE, NULL, NULL, NULL);
}

int
db_identity_prune(struct db *db, time_t now)
{
	char cutoff[CLOCK_TIME_SIZE], hour_ago[CLOCK_TIME_SIZE];

	clock_format_utc(now, -1, cutoff);
	clock_format_utc(now - 3600, -1, hour_ago);
	return db_exec(db, STMT_IDENTITY_PRUNE, cutoff, hour_ago, NULL);
}

/* Over identity_limit while the hour holds that many issued to source; until the oldest is an hour old. */
int
db_identity_limit(struct db *db, const char *source, time_t now, int *retry_after)
{
	char hour_ago[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	int limit, rc;

	*retry_after = 0;
	if (db_setting(db, "identity_limit", &limit) != DB_OK)
		return DB_FAULT;
	clock_format_utc(now - 3600, -1, hour_ago);
	if ((stmt = db_prepare(db, STMT_IDENTITY_COUNT)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, source) != SQLITE_OK || db_bind_text(stmt, 2, hour_ago) != SQLITE_OK)
		return db_fail(db, STMT_IDENTITY_COUNT, "cannot bind");
	if ((rc = db_step(db, STMT_IDENTITY_COUNT)) == SQLITE_ROW &&
	    sqlite3_column_int(stmt, 0) >= limit)
		*retry_after = db_seconds_until(sqlite3_column_text(stmt, 1), 3600, now);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ?
	    db_fail(db, STMT_IDENTITY_COUNT, "no row") : DB_FAULT;
}

int
db_identity_issue(struct db *db, const struct db_identity *identity, time_t now, int lifetime)
{
	char issued[CLOCK_TIME_SIZE], expires[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	int rc;

	/* Both from one clock reading: SQLite's 'now' may be a second later. */
	clock_format_utc(now, -1, issued);
	clock_format_utc(now + lifetime, -1, expires);
	if ((stmt = db_prepare(db, STMT_IDENTITY_ISSUE)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, identity->user_id) != SQLITE_OK ||
	    db_bind_text(stmt, 2, identity->display_name) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, identity->conference_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, identity->attendee_id) != SQLITE_OK ||
	    db_bind_text(stmt, 5, identity->pin) != SQLITE_OK ||
	    db_bind_text(stmt, 6, identity->source) != SQLITE_OK ||
	    db_bind_text(stmt, 7, issued) != SQLITE_OK ||
	    db_bind_text(stmt, 8, expires) != SQLITE_OK)
		return db_fail(db, STMT_IDENTITY_ISSUE, "cannot bind");
	rc = db_step(db, STMT_IDENTITY_ISSUE);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_identity_find(struct db *db, const char *user_id, struct db_identity *identity)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_IDENTITY_FIND)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, user_id) != SQLITE_OK)
		return db_fail(db, STMT_IDENTITY_FIND, "cannot bind");
	if ((rc = db_step(db, STMT_IDENTITY_FIND)) == SQLITE_ROW) {
		memset(identity, 0, sizeof(*identity));
		snprintf(identity->user_id, sizeof(identity->user_id), "%s", user_id);
		db_column_copy(stmt, 0, identity->display_name, sizeof(identity->display_name));
		identity->conference_id = sqlite3_column_int64(stmt, 1);
		identity->attendee_id = sqlite3_column_int64(stmt, 2);
		db_column_copy(stmt, 3, identity->pin, sizeof(identity->pin));
		db_column_copy(stmt, 4, identity->source, sizeof(identity->source));
		db_column_copy(stmt, 5, identity->expires, sizeof(identity->expires));
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_guess_record(struct db *db, const char *source)
{
	return db_exec(db, STMT_GUESS_RECORD, source, NULL, NULL);
}

/* Seconds from now until the ISO 8601 time text and as many seconds more, at least 1. */
static int
db_seconds_until(const unsigned char *text, int plus, time_t now)
{
	time_t until;

	if (text == NULL || clock_parse_utc((const char *)text, &until) != 0)
		return 1;
	until += plus;
	if (until <= now)
		return 1;
	return until - now > 86400 * 366 ? 86400 * 366 : (int)(until - now);
}

/* The later of two ISO 8601 times plus seconds each, as seconds from now; 0 if neither. */
static int
db_seconds_until_later(const unsigned char *first, int first_plus,
    const unsigned char *second, int second_plus, time_t now)
{
	int a = first != NULL ? db_seconds_until(first, first_plus, now) : 0;
	int b = second != NULL ? db_seconds_until(second, second_plus, now) : 0;

	return a > b ? a : b;
}

/*
 * The guess rule, the one place the CGIs apply it: locked out while the
 * source has guess_limit failures within guess_window, or per_source (half
 * of guess_budget, so that no one source spends it) within the hour; and
 * once the hour holds guess_budget failures, refused unless it was connected
 * with this PIN's holder in the last 30 days.
 */
int
db_guess_check(struct db *db, const char *source, long long conference_id,
    long long attendee_id, time_t now, struct db_guess_check *check)
{
	char window_ago[CLOCK_TIME_SIZE], hour_ago[CLOCK_TIME_SIZE], month_ago[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	int limit, window, budget, rc;

	memset(check, 0, sizeof(*check));
	if (db_setting(db, "guess_limit", &limit) != DB_OK ||
	    db_setting(db, "guess_window", &window) != DB_OK ||
	    db_setting(db, "guess_budget", &budget) != DB_OK)
		return DB_FAULT;
	check->per_source = budget / 2 > 0 ? budget / 2 : 1;
	clock_format_utc(now - window, -1, window_ago);
	clock_format_utc(now - 3600, -1, hour_ago);
	clock_format_utc(now - 30 * 86400, -1, month_ago);
	if ((stmt = db_prepare(db, STMT_GUESS_CHECK)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, source) != SQLITE_OK ||
	    db_bind_text(stmt, 2, window_ago) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 3, limit - 1) != SQLITE_OK ||
	    db_bind_text(stmt, 4, hour_ago) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 5, check->per_source - 1) != SQLITE_OK ||
	    db_bind_text(stmt, 6, month_ago) != SQLITE_OK ||
	    (conference_id < 0 ? sqlite3_bind_null(stmt, 7) :
	    sqlite3_bind_int64(stmt, 7, conference_id)) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 8, attendee_id) != SQLITE_OK)
		return db_fail(db, STMT_GUESS_CHECK, "cannot bind");
	if ((rc = db_step(db, STMT_GUESS_CHECK)) == SQLITE_ROW) {
		check->retry_after = db_seconds_until_later(sqlite3_column_text(stmt, 0), window,
		    sqlite3_column_text(stmt, 1), 3600, now);
		if (check->retry_after > 0)
			check->verdict = sqlite3_column_type(stmt, 1) != SQLITE_NULL ?
			    DB_GUESS_OVER_SHARE : DB_GUESS_LOCKED_OUT;
		else if (sqlite3_column_int(stmt, 2) >= budget && !sqlite3_column_int(stmt, 4)) {
			check->verdict = DB_GUESS_BUDGET_SPENT;
			check->retry_after = db_seconds_until(sqlite3_column_text(stmt, 3), 3600, now);
		}
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ?
	    db_fail(db, STMT_GUESS_CHECK, "no row") : DB_FAULT;
}

int
db_source_joined(struct db *db, const char *source, const struct db_conference *holder,
    time_t now)
{
	char stamp[CLOCK_TIME_SIZE], hour_ago[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	int rc;

	clock_format_utc(now, -1, stamp);
	clock_format_utc(now - 3600, -1, hour_ago);
	if ((stmt = db_prepare(db, STMT_SOURCE_JOINED)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, source) != SQLITE_OK || db_bind_text(stmt, 2, stamp) != SQLITE_OK ||
	    db_bind_text(stmt, 3, hour_ago) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, holder->id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 5, holder->attendee_id) != SQLITE_OK)
		return db_fail(db, STMT_SOURCE_JOINED, "cannot bind");
	rc = db_step(db, STMT_SOURCE_JOINED);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_conference_of_user(struct db *db, const char *user_id, time_t now, long long *conference_id)
{
	char cutoff[CLOCK_TIME_SIZE];

	if (db_in_call_cutoff(db, now, cutoff) != DB_OK)
		return DB_FAULT;
	return db_query_integer(db, STMT_CALL_OF_USER, user_id, cutoff, conference_id);
}

int
db_participants_each(struct db *db, long long conference_id, time_t now,
    void (*each)(void *, const char *, const char *, int, int), void *context)
{
	char cutoff[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	int rc;

	if (db_in_call_cutoff(db, now, cutoff) != DB_OK)
		return DB_FAULT;
	if ((stmt = db_prepare(db, STMT_PARTICIPANTS)) == NULL)
		return DB_FAULT;
	if (sqlite3_bind_int64(stmt, 1, conference_id) != SQLITE_OK ||
	    db_bind_text(stmt, 2, cutoff) != SQLITE_OK)
		return db_fail(db, STMT_PARTICIPANTS, "cannot bind");
	while ((rc = db_step(db, STMT_PARTICIPANTS)) == SQLITE_ROW)
		each(context, (const char *)sqlite3_column_text(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1), sqlite3_column_int(stmt, 2),
		    sqlite3_column_int(stmt, 3));
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
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

/* Run a query that yields at most one conference (id, name, sinch_id). */
static int
db_find_conference(struct db *db, enum db_stmt which, sqlite3_stmt *stmt,
    struct db_conference *conference)
{
	int rc;

	if ((rc = db_step(db, which)) == SQLITE_ROW) {
		conference->id = sqlite3_column_int64(stmt, 0);
		db_column_copy(stmt, 1, conference->name, sizeof(conference->name));
		db_column_copy(stmt, 2, conference->sinch_id, sizeof(conference->sinch_id));
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_find_conference_by_id(struct db *db, long long id, struct db_conference *conference)
{
	sqlite3_stmt *stmt;

	if ((stmt = db_prepare(db, STMT_CONFERENCE_BY_ID)) == NULL)
		return DB_FAULT;
	sqlite3_bind_int64(stmt, 1, id);
	return db_find_conference(db, STMT_CONFERENCE_BY_ID, stmt, conference);
}

int
db_find_conference_by_sinch_id(struct db *db, const char *sinch_id,
    struct db_conference *conference)
{
	sqlite3_stmt *stmt;

	if ((stmt = db_prepare(db, STMT_CONFERENCE_BY_SINCH_ID)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, sinch_id);
	return db_find_conference(db, STMT_CONFERENCE_BY_SINCH_ID, stmt, conference);
}

/* Run a conference listing with one text parameter, one callback call a row. */
static int
db_conference_listing_each(struct db *db, enum db_stmt which, const char *parameter,
    void (*each)(void *, const struct db_conference_listing *), void *context)
{
	struct db_conference_listing row;
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, which)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, parameter);
	while ((rc = db_step(db, which)) == SQLITE_ROW) {
		row.id = sqlite3_column_int64(stmt, 0);
		row.name = (const char *)sqlite3_column_text(stmt, 1);
		row.pin = (const char *)sqlite3_column_text(stmt, 2);
		row.starts_on = (const char *)sqlite3_column_text(stmt, 3);
		row.ends_on = (const char *)sqlite3_column_text(stmt, 4);
		row.participants = sqlite3_column_int64(stmt, 5);
		each(context, &row);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_conferences_named_each(struct db *db, const char *name,
    void (*each)(void *, const struct db_conference_listing *), void *context)
{
	return db_conference_listing_each(db, STMT_CONFERENCES_NAMED, name, each, context);
}

int
db_conferences_active_each(struct db *db, const char *today,
    void (*each)(void *, const struct db_conference_listing *), void *context)
{
	return db_conference_listing_each(db, STMT_CONFERENCES_ACTIVE, today, each, context);
}

int
db_call_participant(struct db *db, const char *callid, struct db_call_participant *participant)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(participant, 0, sizeof(*participant));
	if ((stmt = db_prepare(db, STMT_CALL_PARTICIPANT)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, callid);
	if ((rc = db_step(db, STMT_CALL_PARTICIPANT)) == SQLITE_ROW) {
		db_column_copy(stmt, 0, participant->origin, sizeof(participant->origin));
		db_column_copy(stmt, 1, participant->caller, sizeof(participant->caller));
		db_column_copy(stmt, 2, participant->joined, sizeof(participant->joined));
		participant->host = sqlite3_column_int(stmt, 3);
		participant->muted = sqlite3_column_int(stmt, 4);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_callout_started(struct db *db, const char *callid, const char *number,
    const struct db_conference *conference)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_CALLOUT_STARTED)) == NULL)
		return DB_FAULT;
	db_bind_text(stmt, 1, callid);
	db_bind_text(stmt, 2, number);
	sqlite3_bind_int64(stmt, 3, conference->id);
	db_bind_text(stmt, 4, conference->name);
	rc = db_step(db, STMT_CALLOUT_STARTED);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

/* ---------------------------------------------------------------- hosts and keypad (issue 19) */

/* Run a statement that returns no row, with one integer or text key and integers. */
static int
db_update(struct db *db, enum db_stmt which, const char *text, long long a, long long b,
    long long c)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, which)) == NULL)
		return DB_FAULT;
	if ((text != NULL ? db_bind_text(stmt, 1, text) : sqlite3_bind_int64(stmt, 1, a)) !=
	    SQLITE_OK ||
	    (sqlite3_bind_parameter_count(stmt) >= 2 && sqlite3_bind_int64(stmt, 2,
	    text != NULL ? a : b) != SQLITE_OK) ||
	    (sqlite3_bind_parameter_count(stmt) >= 3 && sqlite3_bind_int64(stmt, 3,
	    text != NULL ? b : c) != SQLITE_OK))
		return db_fail(db, which, "cannot bind");
	rc = db_step(db, which);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return DB_FAULT;
	return sqlite3_changes(db->handle) > 0 ? DB_OK : DB_NONE;
}

int
db_hosts_in(struct db *db, long long conference_id, time_t now, int *count)
{
	char cutoff[CLOCK_TIME_SIZE];
	long long value = 0;
	int rc;

	if (db_in_call_cutoff(db, now, cutoff) != DB_OK)
		return DB_FAULT;
	rc = db_query_id_integer(db, STMT_HOSTS_IN, conference_id, cutoff, &value);
	*count = (int)value;
	return rc == DB_NONE ? DB_FAULT : rc;
}

int
db_call_waiting(struct db *db, const char *callid, const struct db_conference *conference,
    time_t now)
{
	char since[CLOCK_TIME_SIZE];
	sqlite3_stmt *stmt;
	int rc;

	clock_format_utc(now, -1, since);
	if ((stmt = db_prepare(db, STMT_CALL_WAITING)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, callid) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, conference->id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, conference->attendee_id) != SQLITE_OK ||
	    db_bind_text(stmt, 4, since) != SQLITE_OK)
		return db_fail(db, STMT_CALL_WAITING, "cannot bind");
	rc = db_step(db, STMT_CALL_WAITING);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_call_wait_state(struct db *db, const char *callid, struct db_call_wait *wait)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(wait, 0, sizeof(*wait));
	if ((stmt = db_prepare(db, STMT_CALL_WAIT_STATE)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, callid) != SQLITE_OK)
		return db_fail(db, STMT_CALL_WAIT_STATE, "cannot bind");
	if ((rc = db_step(db, STMT_CALL_WAIT_STATE)) == SQLITE_ROW) {
		wait->conference_id = sqlite3_column_int64(stmt, 0);
		wait->attendee_id = sqlite3_column_int64(stmt, 1);
		db_column_copy(stmt, 2, wait->since, sizeof(wait->since));
		db_column_copy(stmt, 3, wait->caller, sizeof(wait->caller));
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_find_holder_by_id(struct db *db, long long conference_id, long long attendee_id,
    const char *zone, time_t now, struct db_conference *conference)
{
	char today[CLOCK_DATE_SIZE], ends_on[16];
	sqlite3_stmt *stmt;
	int rc;

	if (clock_today(zone, now, today) != 0) {
		snprintf(db->why, sizeof(db->why), "cannot tell today's date in %s", zone);
		return DB_FAULT;
	}
	if ((stmt = db_prepare(db, STMT_HOLDER_BY_ID)) == NULL)
		return DB_FAULT;
	if (sqlite3_bind_int64(stmt, 1, conference_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, attendee_id) != SQLITE_OK ||
	    db_bind_text(stmt, 3, today) != SQLITE_OK)
		return db_fail(db, STMT_HOLDER_BY_ID, "cannot bind");
	if ((rc = db_step(db, STMT_HOLDER_BY_ID)) == SQLITE_ROW &&
	    db_pin_holder_copy(db, stmt, conference, ends_on, sizeof(ends_on)) != DB_OK)
		rc = DB_FAULT;
	sqlite3_reset(stmt);
	if (rc == SQLITE_ROW && attendee_id != conference->attendee_id)
		return DB_NONE;		/* the attendee was deleted while the caller waited */
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_call_keypad(struct db *db, const char *callid, struct db_call_keypad *keypad)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(keypad, 0, sizeof(*keypad));
	if ((stmt = db_prepare(db, STMT_CALL_KEYPAD)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, callid) != SQLITE_OK)
		return db_fail(db, STMT_CALL_KEYPAD, "cannot bind");
	if ((rc = db_step(db, STMT_CALL_KEYPAD)) == SQLITE_ROW) {
		keypad->conference_id = sqlite3_column_int64(stmt, 0);
		db_column_copy(stmt, 1, keypad->sinch_id, sizeof(keypad->sinch_id));
		keypad->muted = sqlite3_column_int(stmt, 2);
		keypad->host = sqlite3_column_int(stmt, 3);
		keypad->locked = sqlite3_column_int(stmt, 4);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? DB_OK : rc == SQLITE_DONE ? DB_NONE : DB_FAULT;
}

int
db_call_set_muted(struct db *db, const char *callid, int muted)
{
	return db_update(db, STMT_CALL_SET_MUTED, callid, muted, 0, 0);
}

int
db_conference_set_locked(struct db *db, long long conference_id, int locked)
{
	return db_update(db, STMT_CONFERENCE_SET_LOCKED, NULL, conference_id, locked, 0);
}

int
db_call_host_left(struct db *db, const char *callid, long long *conference_id)
{
	int rc;

	*conference_id = 0;
	rc = db_query_integer(db, STMT_CALL_HOST_LEFT, callid, NULL, conference_id);
	return rc == DB_FAULT ? DB_FAULT : DB_OK;
}

int
db_find_active_conference_by_sinch_id(struct db *db, const char *sinch_id, const char *today,
    struct db_conference *conference)
{
	sqlite3_stmt *stmt;

	if ((stmt = db_prepare(db, STMT_CONFERENCE_ACTIVE_BY_SINCH_ID)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, sinch_id) != SQLITE_OK || db_bind_text(stmt, 2, today) != SQLITE_OK)
		return db_fail(db, STMT_CONFERENCE_ACTIVE_BY_SINCH_ID, "cannot bind");
	return db_find_conference(db, STMT_CONFERENCE_ACTIVE_BY_SINCH_ID, stmt, conference);
}

int
db_callout_answered(struct db *db, const char *callid, const struct db_conference *conference)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = db_prepare(db, STMT_CALLOUT_ANSWERED)) == NULL)
		return DB_FAULT;
	if (db_bind_text(stmt, 1, callid) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, conference->id) != SQLITE_OK ||
	    db_bind_text(stmt, 3, conference->name) != SQLITE_OK)
		return db_fail(db, STMT_CALLOUT_ANSWERED, "cannot bind");
	rc = db_step(db, STMT_CALLOUT_ANSWERED);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? DB_OK : DB_FAULT;
}

int
db_attendee_set_host(struct db *db, long long conference_id, long long attendee_id, int host)
{
	return db_update(db, STMT_ATTENDEE_SET_HOST, NULL, conference_id, attendee_id, host);
}

int
db_conference_set_wait_for_host(struct db *db, long long conference_id, int on)
{
	return db_update(db, STMT_CONFERENCE_SET_WAIT_FOR_HOST, NULL, conference_id, on, 0);
}

int
db_conference_set_end_with_host(struct db *db, long long conference_id, int on)
{
	return db_update(db, STMT_CONFERENCE_SET_END_WITH_HOST, NULL, conference_id, on, 0);
}
