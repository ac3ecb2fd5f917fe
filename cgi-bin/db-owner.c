/* db-owner.c: the owner accounts' queries: owners, sessions, mailed tokens, failed log ins. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db-owner.h"

enum db_owner_stmt {
	OWNER_BY_EMAIL,
	OWNER_BY_ID,
	OWNER_INSERT,
	OWNER_CONFIRM,
	OWNER_SET_PASSWORD,
	OWNER_LOGGED_IN,
	OWNER_SET_ADMIN,
	OWNER_DELETE,
	OWNER_LIST,
	SESSION_PRUNE,
	SESSION_INSERT,
	SESSION_OWNER,
	SESSION_TOUCH,
	SESSION_END,
	SESSIONS_END,
	TOKEN_PRUNE,
	TOKEN_INSERT,
	TOKEN_FIND,
	TOKEN_USE,
	TOKEN_COUNT,
	FAILURE_PRUNE,
	FAILURE_RECORD,
	FAILURE_LIMITED,
	OWNER_STMT__MAX
};

#define OWNER_COLUMNS "id, email, coalesce(password, ''), confirmed, admin, created," \
	" coalesce(last_login, '')"

static const struct db_statement db_owner_statements[OWNER_STMT__MAX] = {
	[OWNER_BY_EMAIL] = { "owner_by_email",
	    "SELECT " OWNER_COLUMNS " FROM owner WHERE email = ?1" },
	[OWNER_BY_ID] = { "owner_by_id",
	    "SELECT " OWNER_COLUMNS " FROM owner WHERE id = ?1" },
	[OWNER_INSERT] = { "owner_insert",
	    "INSERT INTO owner(email, password, confirmed) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT(email) DO NOTHING RETURNING id" },
	[OWNER_CONFIRM] = { "owner_confirm",
	    "UPDATE owner SET confirmed = 1 WHERE id = ?1" },
	[OWNER_SET_PASSWORD] = { "owner_set_password",
	    "UPDATE owner SET password = ?2 WHERE id = ?1" },
	[OWNER_LOGGED_IN] = { "owner_logged_in",
	    "UPDATE owner SET last_login = ?2 WHERE id = ?1" },
	[OWNER_SET_ADMIN] = { "owner_set_admin",
	    "UPDATE owner SET admin = ?2 WHERE email = ?1" },
	[OWNER_DELETE] = { "owner_delete",
	    "DELETE FROM owner WHERE email = ?1" },
	[OWNER_LIST] = { "owner_list",
	    "SELECT " OWNER_COLUMNS " FROM owner ORDER BY email" },
	/* A bounded batch: the table is small, and a scan of it cheap. */
	[SESSION_PRUNE] = { "session_prune",
	    "DELETE FROM owner_session WHERE token_hash IN (SELECT token_hash FROM owner_session"
	    " WHERE last_seen < ?1 OR created < ?2 LIMIT 50)" },
	[SESSION_INSERT] = { "session_insert",
	    "INSERT INTO owner_session(token_hash, owner_id, created, last_seen)"
	    " VALUES (?1, ?2, ?3, ?3)" },
	[SESSION_OWNER] = { "session_owner",
	    "SELECT owner.id, owner.email, coalesce(owner.password, ''), owner.confirmed,"
	    " owner.admin, owner.created, coalesce(owner.last_login, '')"
	    " FROM owner_session JOIN owner ON owner.id = owner_session.owner_id"
	    " WHERE owner_session.token_hash = ?1 AND owner_session.last_seen >= ?2"
	    " AND owner_session.created >= ?3" },
	[SESSION_TOUCH] = { "session_touch",
	    "UPDATE owner_session SET last_seen = ?2 WHERE token_hash = ?1 AND last_seen < ?3" },
	[SESSION_END] = { "session_end",
	    "DELETE FROM owner_session WHERE token_hash = ?1" },
	[SESSIONS_END] = { "sessions_end",
	    "DELETE FROM owner_session WHERE owner_id = ?1 AND token_hash IS NOT ?2" },
	[TOKEN_PRUNE] = { "token_prune",
	    "DELETE FROM owner_token WHERE token_hash IN (SELECT token_hash FROM owner_token"
	    " WHERE expires < ?1 LIMIT 50)" },
	[TOKEN_INSERT] = { "token_insert",
	    "INSERT INTO owner_token(token_hash, owner_id, kind, expires) VALUES (?1, ?2, ?3, ?4)" },
	[TOKEN_FIND] = { "token_find",
	    "SELECT owner_id FROM owner_token WHERE token_hash = ?1 AND kind = ?2"
	    " AND used IS NULL AND expires > ?3" },
	[TOKEN_USE] = { "token_use",
	    "UPDATE owner_token SET used = ?3 WHERE owner_id = ?1 AND kind = ?2 AND used IS NULL" },
	[TOKEN_COUNT] = { "token_count",
	    "SELECT count(*) FROM owner_token WHERE owner_id = ?1 AND kind = ?2 AND expires > ?3" },
	[FAILURE_PRUNE] = { "login_failure_prune",
	    "DELETE FROM owner_login_failure WHERE rowid IN (SELECT rowid FROM owner_login_failure"
	    " WHERE at < ?1 LIMIT 50)" },
	[FAILURE_RECORD] = { "login_failure_record",
	    "INSERT INTO owner_login_failure(key, at) VALUES (?1, ?2)" },
	[FAILURE_LIMITED] = { "login_failure_limited",
	    "SELECT at FROM owner_login_failure WHERE key = ?1 AND at >= ?2"
	    " ORDER BY at DESC LIMIT 1 OFFSET ?3" },
};

_Static_assert(OWNER_STMT__MAX <= DB_OWNER_STATEMENTS, "raise DB_OWNER_STATEMENTS in db.h");

static const char *const db_token_kinds[] = { "confirm", "reset" };

/*
 * Run which with its parameters (see db_bind_in): SQLITE_ROW (the
 * statement stays on its row), SQLITE_DONE, or DB_FAULT.
 */
static int
db_owner_run(struct db *db, enum db_owner_stmt which, const char *format, ...)
{
	sqlite3_stmt *stmt;
	va_list values;

	va_start(values, format);
	stmt = db_bind_in(db, &db->owner_stmt[which], &db_owner_statements[which], format, values);
	va_end(values);
	if (stmt == NULL)
		return DB_FAULT;
	return db_step_in(db, stmt, db_owner_statements[which].name);
}

/* A statement that returns no row (or whose row we ignore): DB_OK or a fault. */
static int
db_owner_exec(int rc, struct db *db, enum db_owner_stmt which)
{
	return db_done_in(rc, db, &db->owner_stmt[which], 0);
}

/* DB_NONE when the last statement changed no row. */
static int
db_owner_changed(int rc, struct db *db, enum db_owner_stmt which)
{
	return db_done_in(rc, db, &db->owner_stmt[which], 1);
}

static void
db_owner_read(sqlite3_stmt *stmt, struct db_owner *owner)
{
	memset(owner, 0, sizeof(*owner));
	owner->id = sqlite3_column_int64(stmt, 0);
	db_column_copy(stmt, 1, owner->email, sizeof(owner->email));
	db_column_copy(stmt, 2, owner->password, sizeof(owner->password));
	owner->confirmed = sqlite3_column_int(stmt, 3);
	owner->admin = sqlite3_column_int(stmt, 4);
	db_column_copy(stmt, 5, owner->created, sizeof(owner->created));
	db_column_copy(stmt, 6, owner->last_login, sizeof(owner->last_login));
}

/* One owner row from which, already run: DB_OK, DB_NONE or a fault. */
static int
db_owner_row(int rc, struct db *db, enum db_owner_stmt which, struct db_owner *owner)
{
	if (rc == SQLITE_ROW)
		db_owner_read(db->owner_stmt[which], owner);
	return db_one_in(rc, &db->owner_stmt[which]);
}

int
db_owner_find_by_email(struct db *db, const char *email, struct db_owner *owner)
{
	return db_owner_row(db_owner_run(db, OWNER_BY_EMAIL, "t", email), db, OWNER_BY_EMAIL,
	    owner);
}

int
db_owner_find(struct db *db, long long id, struct db_owner *owner)
{
	return db_owner_row(db_owner_run(db, OWNER_BY_ID, "i", id), db, OWNER_BY_ID, owner);
}

int
db_owner_insert(struct db *db, const char *email, const char *password, int confirmed,
    long long *id)
{
	return db_integer_in(db_owner_run(db, OWNER_INSERT, "tti", email, password,
	    (long long)confirmed), &db->owner_stmt[OWNER_INSERT], id);
}

int
db_owner_confirm(struct db *db, long long id)
{
	return db_owner_exec(db_owner_run(db, OWNER_CONFIRM, "i", id), db, OWNER_CONFIRM);
}

int
db_owner_set_password(struct db *db, long long id, const char *password)
{
	return db_owner_exec(db_owner_run(db, OWNER_SET_PASSWORD, "it", id, password), db,
	    OWNER_SET_PASSWORD);
}

int
db_owner_logged_in(struct db *db, long long id, const char *now)
{
	return db_owner_exec(db_owner_run(db, OWNER_LOGGED_IN, "it", id, now), db,
	    OWNER_LOGGED_IN);
}

int
db_owner_set_admin(struct db *db, const char *email, int admin)
{
	return db_owner_changed(db_owner_run(db, OWNER_SET_ADMIN, "ti", email, (long long)admin),
	    db, OWNER_SET_ADMIN);
}

int
db_owner_delete(struct db *db, const char *email)
{
	return db_owner_changed(db_owner_run(db, OWNER_DELETE, "t", email), db, OWNER_DELETE);
}

int
db_owner_each(struct db *db, void (*each)(void *, const struct db_owner *), void *context)
{
	struct db_owner owner;
	int rc;

	for (rc = db_owner_run(db, OWNER_LIST, ""); rc == SQLITE_ROW;
	    rc = db_step_in(db, db->owner_stmt[OWNER_LIST], db_owner_statements[OWNER_LIST].name)) {
		db_owner_read(db->owner_stmt[OWNER_LIST], &owner);
		each(context, &owner);
	}
	return db_owner_exec(rc, db, OWNER_LIST);
}

int
db_session_add(struct db *db, const char *token_hash, long long owner_id, const char *now,
    const char *idle_before, const char *made_before)
{
	if (db_owner_exec(db_owner_run(db, SESSION_PRUNE, "tt", idle_before, made_before), db,
	    SESSION_PRUNE) != DB_OK)
		return DB_FAULT;
	return db_owner_exec(db_owner_run(db, SESSION_INSERT, "tit", token_hash, owner_id, now),
	    db, SESSION_INSERT);
}

int
db_session_owner(struct db *db, const char *token_hash, const char *idle_before,
    const char *made_before, struct db_owner *owner)
{
	return db_owner_row(db_owner_run(db, SESSION_OWNER, "ttt", token_hash, idle_before,
	    made_before), db, SESSION_OWNER, owner);
}

int
db_session_touch(struct db *db, const char *token_hash, const char *now, const char *stale_before)
{
	return db_owner_exec(db_owner_run(db, SESSION_TOUCH, "ttt", token_hash, now, stale_before),
	    db, SESSION_TOUCH);
}

int
db_session_end(struct db *db, const char *token_hash)
{
	return db_owner_exec(db_owner_run(db, SESSION_END, "t", token_hash), db, SESSION_END);
}

int
db_sessions_end(struct db *db, long long owner_id, const char *keep_hash)
{
	return db_owner_exec(db_owner_run(db, SESSIONS_END, "it", owner_id, keep_hash), db,
	    SESSIONS_END);
}

int
db_token_add(struct db *db, const char *token_hash, long long owner_id, enum db_token_kind kind,
    const char *expires, const char *now)
{
	if (db_owner_exec(db_owner_run(db, TOKEN_PRUNE, "t", now), db, TOKEN_PRUNE) != DB_OK)
		return DB_FAULT;
	return db_owner_exec(db_owner_run(db, TOKEN_INSERT, "titt", token_hash, owner_id,
	    db_token_kinds[kind], expires), db, TOKEN_INSERT);
}

int
db_token_take(struct db *db, const char *token_hash, enum db_token_kind kind, const char *now,
    long long *owner_id)
{
	int rc = db_integer_in(db_owner_run(db, TOKEN_FIND, "ttt", token_hash, db_token_kinds[kind],
	    now), &db->owner_stmt[TOKEN_FIND], owner_id);

	if (rc != DB_OK)
		return rc;
	return db_owner_exec(db_owner_run(db, TOKEN_USE, "itt", *owner_id, db_token_kinds[kind],
	    now), db, TOKEN_USE);
}

int
db_token_count(struct db *db, long long owner_id, enum db_token_kind kind, const char *now,
    long long *count)
{
	return db_integer_in(db_owner_run(db, TOKEN_COUNT, "itt", owner_id, db_token_kinds[kind], now),
	    &db->owner_stmt[TOKEN_COUNT], count);
}

int
db_login_failure_record(struct db *db, const char *key, const char *now, const char *old)
{
	if (db_owner_exec(db_owner_run(db, FAILURE_PRUNE, "t", old), db, FAILURE_PRUNE) != DB_OK)
		return DB_FAULT;
	return db_owner_exec(db_owner_run(db, FAILURE_RECORD, "tt", key, now), db, FAILURE_RECORD);
}

int
db_login_limited(struct db *db, const char *key, const char *since, int limit, char until[32])
{
	int rc = db_owner_run(db, FAILURE_LIMITED, "tti", key, since, (long long)(limit - 1));

	if (rc == SQLITE_ROW)
		db_column_copy(db->owner_stmt[FAILURE_LIMITED], 0, until, 32);
	return db_one_in(rc, &db->owner_stmt[FAILURE_LIMITED]);
}
