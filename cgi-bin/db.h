/* db.h: the pinconf database: open, check the schema version, the few queries. */
#ifndef PINCONF_DB_H
#define PINCONF_DB_H

#include <stddef.h>
#include <time.h>

#include <sqlite3.h>

enum db_result {
	DB_OK = 0,
	DB_NONE = 1,		/* the query found nothing */
	DB_FAULT = -1,		/* see db->why */
	DB_WRONG_VERSION = -2	/* schema version unknown to this build; see db->why */
};

enum db_stmt {
	STMT_SCHEMA_VERSION,
	STMT_SYNCHRONOUS_NORMAL,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SETTING,
	STMT_FIND_ACTIVE_CONFERENCE,
	STMT_CALL_STARTED,
	STMT_CALL_CALLER,
	STMT_CALL_FAILED_ATTEMPT,
	STMT_CALL_JOINED,
	STMT_CALL_ENDED,
	STMT_CALL_PRUNE,
	STMT_TICKET_ISSUED,
	STMT_TICKET_PRUNE,
	STMT_GUESS_PRUNE,
	STMT_TICKET_ADDRESS,
	STMT_GUESS_RECORD,
	STMT_GUESS_LOCKED_SINCE,
	STMT_DIAL_IN_LIST,
	STMT__MAX
};

struct db {
	sqlite3		*handle;
	const char	*path;
	sqlite3_stmt	*stmt[STMT__MAX];
	char		 why[1024];	/* "database PATH: REASON (STATEMENT)" */
	int		 busy_timeout_ms;
	struct timespec	 busy_since;	/* when the current wait for a lock began */
	unsigned int	 busy_seed;	/* this connection's jitter, no shared state */
};

struct db_conference {
	long long	 id;
	char		 name[808];
	char		 sinch_id[72];
};

enum db_mode { DB_READ_ONLY, DB_READ_WRITE };

/* Open path (never creating it) and check its schema version. */
int	 db_open(struct db *, const char *path, enum db_mode, int busy_timeout_ms);
void	 db_close(struct db *);
/* The file's schema version is the one this build knows: DB_OK, or a fault with why. */
int	 db_check_version(struct db *);
/* End of a request: roll back, reset every statement, forget the last error. */
void	 db_request_done(struct db *);

/* BEGIN IMMEDIATE: take the write lock now, waiting up to the busy timeout. */
int	 db_begin(struct db *);
int	 db_commit(struct db *);
void	 db_rollback(struct db *);

/* A value from table setting (pin_length, guess_limit, guess_window). */
int	 db_setting(struct db *, const char *name, int *value);

/*
 * The conference with this PIN that is active today in time zone, at now.
 * DB_NONE for an unknown PIN, and for one that is not pin_length digits.
 */
int	 db_find_conference_for_pin(struct db *, const char *pin, const char *zone,
	    time_t now, struct db_conference *);

/* ICE: remember the call, its origin ("pstn"/"mxp") and caller. */
int	 db_call_started(struct db *, const char *callid, const char *origin,
	    const char *caller);
/* The caller an earlier ICE stored for callid; DB_NONE if none. */
int	 db_call_caller(struct db *, const char *callid, char *caller, size_t size);
/* Count one more wrong PIN for callid; *attempts is the new count. */
int	 db_call_failed_attempt(struct db *, const char *callid, int *attempts);
int	 db_call_joined(struct db *, const char *callid, const struct db_conference *);
/* DiCE: when and why the call ended; reason and result may be NULL, duration < 0 unknown. */
int	 db_call_ended(struct db *, const char *callid, const char *reason,
	    const char *result, long long duration);
/* Delete a bounded batch of calls that started before cutoff (ISO 8601). */
int	 db_prune_calls(struct db *, const char *cutoff);
/* Delete a bounded batch of tickets and guesses that can no longer matter at now. */
int	 db_prune_tickets_and_guesses(struct db *, time_t now, int ticket_lifetime);

/* getticket: remember which address asked for a ticket for identity. */
int	 db_ticket_issued(struct db *, const char *identity, const char *address);
/* The address that last got a ticket for identity; DB_NONE if none. */
int	 db_ticket_address(struct db *, const char *identity, char *address, size_t size);
int	 db_guess_record(struct db *, const char *address);
/*
 * Has address made guess_limit failed guesses within guess_window of now?
 * *retry_after: 0 if not, else the seconds until it may guess again.
 */
int	 db_guess_lockout(struct db *, const char *address, time_t now, int *retry_after);

/* Dial-in numbers, one callback call per row, in label order. */
int	 db_dial_in_each(struct db *, void (*each)(void *, const char *label,
	    const char *number), void *context);

#endif
