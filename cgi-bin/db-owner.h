/* db-owner.h: the owner accounts' queries: owners, sessions, mailed tokens, failed log ins. */
#ifndef PINCONF_DB_OWNER_H
#define PINCONF_DB_OWNER_H

#include <stddef.h>

#include "db.h"

struct db_owner {
	long long	 id;
	char		 email[256];
	char		 password[256];	/* PHC string; "" when none is set */
	int		 confirmed;
	int		 admin;
	char		 created[32];
	char		 last_login[32];	/* "" never */
};

enum db_token_kind { DB_TOKEN_CONFIRM, DB_TOKEN_RESET };

/* Times are ISO 8601 UTC text (clock_format_utc), as the schema keeps them. */

/* The owner with email (without case) or id: DB_OK, DB_NONE, or a fault. */
int	 db_owner_find_by_email(struct db *, const char *email, struct db_owner *);
int	 db_owner_find(struct db *, long long id, struct db_owner *);
/* A new owner; password may be NULL.  DB_NONE when email is taken. */
int	 db_owner_insert(struct db *, const char *email, const char *password, int confirmed,
	    long long *id);
int	 db_owner_confirm(struct db *, long long id);
int	 db_owner_set_password(struct db *, long long id, const char *password);
int	 db_owner_logged_in(struct db *, long long id, const char *now);
/* pinconf owner admin/remove: DB_NONE when nobody has email. */
int	 db_owner_set_admin(struct db *, const char *email, int admin);
int	 db_owner_delete(struct db *, const char *email);
/* Every owner in e-mail order, one callback call each. */
int	 db_owner_each(struct db *, void (*each)(void *, const struct db_owner *), void *context);

/*
 * A session of owner_id, its token kept as token_hash; first deletes a
 * bounded batch of sessions idle since idle_before or made before made_before.
 */
int	 db_session_add(struct db *, const char *token_hash, long long owner_id, const char *now,
	    const char *idle_before, const char *made_before);
/* The owner of a live session (seen since idle_before, made since made_before); DB_NONE if none. */
int	 db_session_owner(struct db *, const char *token_hash, const char *idle_before,
	    const char *made_before, struct db_owner *);
/* Note the session was used now, when it was last noted before stale_before. */
int	 db_session_touch(struct db *, const char *token_hash, const char *now,
	    const char *stale_before);
int	 db_session_end(struct db *, const char *token_hash);
/* End every session of owner_id but keep_hash's (NULL: all). */
int	 db_sessions_end(struct db *, long long owner_id, const char *keep_hash);

/* A mailed link's token; first deletes a bounded batch of expired ones. */
int	 db_token_add(struct db *, const char *token_hash, long long owner_id,
	    enum db_token_kind, const char *expires, const char *now);
/*
 * Use a token of kind: DB_OK with *owner_id when it exists, is unused and
 * unexpired, and is now marked used, with every other unused one of its
 * owner and kind; DB_NONE otherwise.
 */
int	 db_token_take(struct db *, const char *token_hash, enum db_token_kind, const char *now,
	    long long *owner_id);
/* How many links of kind mailed to owner_id still work (used or not): DB_OK with *count. */
int	 db_token_count(struct db *, long long owner_id, enum db_token_kind, const char *now,
	    long long *count);

/* One failed log in counted against key ("ip:...", "email:..."); prunes rows before old. */
int	 db_login_failure_record(struct db *, const char *key, const char *now, const char *old);
/*
 * Is key over limit failures since since?  DB_OK with until (when its
 * limit-th latest failure ages out, as the time of that failure) if so, DB_NONE if not.
 */
int	 db_login_limited(struct db *, const char *key, const char *since, int limit,
	    char until[32]);

#endif
