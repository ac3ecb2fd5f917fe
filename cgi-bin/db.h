/* db.h: the pinconf database: open, check the schema version, the few queries. */
#ifndef PINCONF_DB_H
#define PINCONF_DB_H

#include <stdarg.h>
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
	STMT_FIND_PIN_HOLDER,
	STMT_COUNT_IN_CONFERENCE,
	STMT_CALL_STARTED,
	STMT_CALL_CALLER,
	STMT_CALL_FAILED_ATTEMPT,
	STMT_CALL_JOINED,
	STMT_CALL_ENDED,
	STMT_CALL_PRUNE,
	STMT_IDENTITY_ISSUE,
	STMT_IDENTITY_FIND,
	STMT_IDENTITY_PRUNE,
	STMT_IDENTITY_COUNT,
	STMT_GUESS_RECORD,
	STMT_GUESS_CHECK,
	STMT_GUESS_PRUNE,
	STMT_SOURCE_JOINED,
	STMT_SOURCE_PRUNE,
	STMT_CALL_OF_USER,
	STMT_PARTICIPANTS,
	STMT_DIAL_IN_LIST,
	STMT_CONFERENCE_BY_ID,
	STMT_CONFERENCE_BY_SINCH_ID,
	STMT_CONFERENCES_NAMED,
	STMT_CONFERENCES_ACTIVE,
	STMT_CALL_PARTICIPANT,
	STMT_CALLOUT_STARTED,
	/* Hosts and keypad (issue 19). */
	STMT_HOSTS_IN,
	STMT_CALL_WAITING,
	STMT_CALL_WAIT_STATE,
	STMT_HOLDER_BY_ID,
	STMT_CALL_KEYPAD,
	STMT_CALL_SET_MUTED,
	STMT_CONFERENCE_SET_LOCKED,
	STMT_CALL_HOST_LEFT,
	STMT_CONFERENCE_ACTIVE_BY_SINCH_ID,
	STMT_CALLOUT_ANSWERED,
	STMT_ATTENDEE_SET_HOST,
	STMT_CONFERENCE_SET_WAIT_FOR_HOST,
	STMT_CONFERENCE_SET_END_WITH_HOST,
	STMT__MAX
};

#define DB_SETTINGS	6	/* rows of the setting table */
#define DB_OWNER_STATEMENTS	32	/* slots for db-owner.c's own statement table */
#define DB_CONFERENCE_STATEMENTS 32	/* slots for db-conference.c's own statement table */

struct db {
	sqlite3		*handle;
	const char	*path;
	sqlite3_stmt	*stmt[STMT__MAX];
	sqlite3_stmt	*owner_stmt[DB_OWNER_STATEMENTS];	/* see db-owner.c */
	sqlite3_stmt	*conference_stmt[DB_CONFERENCE_STATEMENTS];	/* see db-conference.c */
	char		 why[1024];	/* "database PATH: REASON (STATEMENT)" */
	int		 busy_timeout_ms;
	struct timespec	 busy_since;	/* when the current wait for a lock began */
	unsigned int	 busy_seed;	/* this connection's jitter, no shared state */
	int		 checkpoint_frames; /* WAL frames after which a commit checkpoints */
	int		 setting[DB_SETTINGS];	/* read once a request or transaction */
	int		 setting_found[DB_SETTINGS];
	int		 settings_loaded;
};

/* A connection kept open (FastCGI) keeps the WAL index: checkpoint as seldom as SQLite does. */
#define DB_CHECKPOINT_FRAMES_KEPT	1000

enum db_pin_state {
	DB_PIN_ACTIVE,		/* its conference is on today */
	DB_PIN_NOT_STARTED,	/* its conference starts on a later day */
	DB_PIN_ENDED		/* its conference ended */
};

/* The holder of a PIN: a conference, or an attendee of one. */
struct db_conference {
	long long		 id;
	char			 name[808];
	char			 sinch_id[72];
	char			 starts_on[16];		/* YYYY-MM-DD */
	int			 max_participants;	/* 0: no limit */
	int			 locked;
	int			 announce_count;
	long long		 attendee_id;		/* 0: the conference's own PIN */
	char			 attendee_name[808];
	enum db_pin_state	 state;
	int			 wait_for_host;		/* callers wait until a host is in */
	int			 end_with_host;		/* ends when the last host leaves */
	int			 host;			/* the attendee is a host */
};

/* A Sinch user id getticket issued to a browser. */
struct db_identity {
	char		 user_id[256];
	char		 display_name[808];
	long long	 conference_id;
	long long	 attendee_id;		/* 0: none */
	char		 pin[16];
	char		 source[64];		/* what its wrong PINs count against */
	char		 expires[32];		/* ISO 8601 UTC */
};

/* A conference as pinconf(1) lists it; strings valid only during the callback. */
struct db_conference_listing {
	long long	 id;
	const char	*name;
	const char	*pin;
	const char	*starts_on;
	const char	*ends_on;	/* NULL: for ever */
	long long	 participants;	/* joined, no DiCE yet, within the last day */
};

/* What our call table knows of a participant Sinch lists. */
struct db_call_participant {
	char		 origin[8];	/* pstn, mxp, or "" if no ICE was seen */
	char		 caller[808];	/* phone number or browser user's name; "" unknown */
	char		 joined[32];	/* ISO 8601 UTC; "" unknown */
	int		 host;		/* joined with a host's personal PIN */
	int		 muted;		/* muted through pinconf (call.muted) */
};

/* What the keypad of a call in a conference may change. */
struct db_call_keypad {
	long long	 conference_id;
	char		 sinch_id[72];
	int		 muted;
	int		 host;
	int		 locked;
};

/* A caller held for a host: what their PIN was, and since when. */
struct db_call_wait {
	long long	 conference_id;
	long long	 attendee_id;	/* 0: the conference's own PIN */
	char		 since[32];	/* ISO 8601 UTC */
	char		 caller[808];
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

/*
 * For a sibling file's statement table (db-owner.c): the statement sql named
 * name, prepared once into *slot (or reset and unbound), NULL with why on a
 * fault; one step of it, SQLITE_ROW or SQLITE_DONE, or DB_FAULT with why.
 */
sqlite3_stmt *db_prepare_in(struct db *, sqlite3_stmt **slot, const char *name, const char *sql);
int	 db_step_in(struct db *, sqlite3_stmt *, const char *name);
/* The last SQLite error, of a statement that was stepped already, as a fault named name. */
int	 db_fail_in(struct db *, const char *name);

/* A row of a sibling file's statement table. */
struct db_statement {
	const char	*name;
	const char	*sql;
};

/*
 * Prepare statement into *slot and bind its parameters, given as a format
 * of 't' (text, NULL binds NULL) and 'i' (long long) and the values: the
 * statement, ready to step, or NULL with why.
 */
sqlite3_stmt *db_bind_in(struct db *, sqlite3_stmt **slot, const struct db_statement *,
	    const char *format, va_list);
/*
 * After a sibling's statement ran to rc (SQLITE_ROW, SQLITE_DONE, DB_FAULT or
 * the sibling's own result), reset the one in *slot (NULL after a failed prepare;
 * the slot, not the statement, since the run that fills it may be an argument):
 * db_done_in for a statement whose row is ignored, DB_OK, or DB_NONE when
 * want_change and no row changed; db_one_in after its one row was read, DB_OK,
 * or DB_NONE when none came; db_integer_in the same, reading the row's first
 * column into *value.  Any other rc is returned as it is.
 */
int	 db_done_in(int rc, struct db *, sqlite3_stmt **slot, int want_change);
int	 db_one_in(int rc, sqlite3_stmt **slot);
int	 db_integer_in(int rc, sqlite3_stmt **slot, long long *value);
/* Copy a text column into a bounded buffer; "" for NULL. */
void	 db_column_copy(sqlite3_stmt *, int column, char *out, size_t size);

/* A value from table setting (pin_length, guess_limit, guess_window, guess_budget, identity_limit). */
int	 db_setting(struct db *, const char *name, int *value);

/*
 * Who holds pin (preferring a holder active today in zone, then one still to
 * come): DB_OK with *conference filled, its state set; DB_NONE for a PIN
 * nobody holds, and for one that is not pin_length digits.
 */
int	 db_find_pin_holder(struct db *, const char *pin, const char *zone, time_t now,
	    struct db_conference *);
/* How many are in conference now: joined, not ended, within setting call_max_hours. */
int	 db_count_in_conference(struct db *, long long conference_id, time_t now, int *count);

/* ICE: remember the call, its origin ("pstn"/"mxp"), caller and browser user id (or NULL). */
int	 db_call_started(struct db *, const char *callid, const char *origin,
	    const char *caller, const char *user_id);
/* The caller an earlier ICE stored for callid; DB_NONE if none. */
int	 db_call_caller(struct db *, const char *callid, char *caller, size_t size);
/* Count one more wrong PIN for callid; *attempts is the new count. */
int	 db_call_failed_attempt(struct db *, const char *callid, int *attempts);
/* How a call started, written with its join when no ICE row was written first. */
struct db_call_start {
	const char	*origin;	/* pstn or mxp */
	const char	*caller;	/* NULL: unknown */
	const char	*user_id;	/* browser: the id getticket issued */
};

int	 db_call_joined(struct db *, const char *callid, const struct db_conference *,
	    const struct db_call_start *);
/* DiCE: when and why the call ended; reason and result may be NULL, duration < 0 unknown. */
int	 db_call_ended(struct db *, const char *callid, const char *reason,
	    const char *result, long long duration);
/* Delete a bounded batch of calls that started before cutoff (ISO 8601). */
int	 db_prune_calls(struct db *, const char *cutoff);
/* Delete a bounded batch of identities, guesses and known sources that no longer matter. */
int	 db_prune_limits(struct db *, time_t now);

/* Delete every identity that has expired and was issued over an hour ago. */
int	 db_identity_prune(struct db *, time_t now);
/* Has source been issued identity_limit identities in the last hour?  *retry_after: 0 if not. */
int	 db_identity_limit(struct db *, const char *source, time_t now, int *retry_after);
/* getticket: record an identity issued (expires is set from now + lifetime). */
int	 db_identity_issue(struct db *, const struct db_identity *, time_t now, int lifetime);
/* The identity with user_id; DB_NONE if we never issued it (or it was pruned). */
int	 db_identity_find(struct db *, const char *user_id, struct db_identity *);

/* One failed PIN guess from source ("ip:...", "net:.../64", "tel:...", "withheld"). */
int	 db_guess_record(struct db *, const char *source);
enum db_guess_verdict {
	DB_GUESS_ALLOWED,	/* may try the PIN */
	DB_GUESS_LOCKED_OUT,	/* guess_limit failures within guess_window */
	DB_GUESS_OVER_SHARE,	/* per_source failures within the hour */
	DB_GUESS_BUDGET_SPENT	/* guess_budget spent, and not connected with this holder */
};

struct db_guess_check {
	enum db_guess_verdict	 verdict;
	int			 retry_after;	/* seconds until that changes; 0 if allowed */
	int			 per_source;	/* failures one source may make an hour */
};

/* conference_id for db_guess_check before the caller has entered a PIN. */
#define DB_ANY_HOLDER	(-1LL)

/*
 * The guess rule (views locked_out and guess_budget), for every place a PIN
 * is entered: may source try the PIN whose holder is conference_id and
 * attendee_id (0 each for a PIN no conference on today holds; DB_ANY_HOLDER:
 * not entered yet, any it was connected with)?
 */
int	 db_guess_check(struct db *, const char *source, long long conference_id,
	    long long attendee_id, time_t now, struct db_guess_check *);
/* Source was connected with holder's PIN: it may still enter it while the budget is spent. */
int	 db_source_joined(struct db *, const char *source, const struct db_conference *holder,
	    time_t now);

/* roster: the conference user_id is in a call of now; DB_NONE if none. */
int	 db_conference_of_user(struct db *, const char *user_id, time_t now,
	    long long *conference_id);
/* Everyone in conference now, one call a row, in the order they joined. */
int	 db_participants_each(struct db *, long long conference_id, time_t now,
	    void (*each)(void *, const char *name, const char *origin, int attendee, int host),
	    void *context);

/* Dial-in numbers, one callback call per row, in label order. */
int	 db_dial_in_each(struct db *, void (*each)(void *, const char *label,
	    const char *number), void *context);

/* pinconf(1): a conference by its id, or by the conferenceId given to Sinch; DB_NONE if none. */
int	 db_find_conference_by_id(struct db *, long long id, struct db_conference *);
int	 db_find_conference_by_sinch_id(struct db *, const char *sinch_id,
	    struct db_conference *);
/* Every conference with exactly this name, in id order, one callback call each. */
int	 db_conferences_named_each(struct db *, const char *name,
	    void (*each)(void *, const struct db_conference_listing *), void *context);
/* Conferences active on today (YYYY-MM-DD), in name order, one callback call each. */
int	 db_conferences_active_each(struct db *, const char *today,
	    void (*each)(void *, const struct db_conference_listing *), void *context);
/* The call row of callid, as pinconf who shows it; DB_NONE if none. */
int	 db_call_participant(struct db *, const char *callid, struct db_call_participant *);
/* pinconf call: the leg Sinch placed into conference, joined now, keyed by its call id. */
int	 db_callout_started(struct db *, const char *callid, const char *number,
	    const struct db_conference *);

/* Hosts and keypad (issue 19). */
/* How many hosts are in conference now (as db_count_in_conference counts). */
int	 db_hosts_in(struct db *, long long conference_id, time_t now, int *count);
/* Hold callid for a host of conference; the first hold's time is kept. */
int	 db_call_waiting(struct db *, const char *callid, const struct db_conference *,
	    time_t now);
/* The hold of callid, if it waits (not joined, not ended); DB_NONE if not. */
int	 db_call_wait_state(struct db *, const char *callid, struct db_call_wait *);
/* The PIN holder a held call had: conference id and attendee (0: none), state for today. */
int	 db_find_holder_by_id(struct db *, long long conference_id, long long attendee_id,
	    const char *zone, time_t now, struct db_conference *);
/* A call in a conference now, for its keypad; DB_NONE if it is in none. */
int	 db_call_keypad(struct db *, const char *callid, struct db_call_keypad *);
int	 db_call_set_muted(struct db *, const char *callid, int muted);
int	 db_conference_set_locked(struct db *, long long conference_id, int locked);
/* After callid's DiCE: *conference_id of an end_with_host conference it was a host in, else 0. */
int	 db_call_host_left(struct db *, const char *callid, long long *conference_id);
/* A conference by Sinch id, active on today (YYYY-MM-DD); DB_NONE if none. */
int	 db_find_active_conference_by_sinch_id(struct db *, const char *sinch_id,
	    const char *today, struct db_conference *);
/* A callout's ACE: the leg is in conference now (pinconf call may have recorded it first). */
int	 db_callout_answered(struct db *, const char *callid, const struct db_conference *);
/* pinconf host / wait-for-host / end-with-host: DB_NONE if no such row. */
int	 db_attendee_set_host(struct db *, long long conference_id, long long attendee_id, int host);
int	 db_conference_set_wait_for_host(struct db *, long long conference_id, int on);
int	 db_conference_set_end_with_host(struct db *, long long conference_id, int on);

#endif
