/* db-conference.h: the conference pages' queries: an owner's conferences, attendees, calls, callouts. */
#ifndef PINCONF_DB_CONFERENCE_H
#define PINCONF_DB_CONFERENCE_H

#include <stddef.h>

#include "db.h"

/* A PIN holder's PIN is taken by another holder on the dates asked for. */
#define DB_PIN_TAKEN	2

/* A conference as its owner sees it. */
struct db_owned_conference {
	long long	 id;
	long long	 owner_id;		/* 0: made in the sqlite3 shell */
	char		 owner_email[256];	/* "" when owner_id is 0 */
	char		 name[808];
	char		 pin[16];
	char		 starts_on[16];		/* YYYY-MM-DD */
	char		 ends_on[16];		/* "": no end */
	char		 sinch_id[72];
	int		 max_participants;	/* 0: no limit */
	int		 locked;
	int		 announce_count;
	int		 wait_for_host;
	int		 end_with_host;
	long long	 in_now;		/* participant_now's rows */
};

/* What New conference and Edit write. */
struct db_conference_fields {
	const char	*name;
	const char	*starts_on;		/* YYYY-MM-DD */
	const char	*ends_on;		/* NULL: no end */
	int		 max_participants;	/* 0: no limit */
	int		 announce_count;
};

/* An attendee with their attendance (the attendance view). */
struct db_attendee_row {
	long long	 id;
	char		 name[808];
	char		 email[256];		/* "": none */
	char		 phone[24];		/* "": none */
	char		 pin[16];
	char		 invited[32];		/* "": never */
	int		 host;
	char		 first_joined[32];	/* "": never came */
	long long	 seconds_in;
	long long	 calls;
};

/* A call in a conference now, as the owner's page names it. */
struct db_live_call {
	char		 callid[136];
	long long	 conference_id;		/* 0: none */
	char		 origin[8];		/* pstn, mxp, "" unknown */
	char		 caller[808];		/* number or typed name; "" unknown */
	char		 attendee_name[808];	/* "": not an attendee's PIN */
	char		 joined[32];		/* "": unknown */
	int		 muted;
	int		 host;
};

/* Conferences owner_id owns (every one when all), newest first, one callback call each. */
int	 db_owned_conferences_each(struct db *, long long owner_id, int all,
	    void (*each)(void *, const struct db_owned_conference *), void *context);
/* Conference id if owner_id owns it (or all): DB_NONE otherwise, the same as no such id. */
int	 db_owned_conference(struct db *, long long id, long long owner_id, int all,
	    struct db_owned_conference *);
/* A new conference of owner_id, its PIN drawn by the schema; *id its id. */
int	 db_conference_create(struct db *, long long owner_id, const struct db_conference_fields *,
	    long long *id);
/* Change its fields; new_pin draws a new PIN at the same time.  DB_PIN_TAKEN on a clash. */
int	 db_conference_update(struct db *, long long id, const struct db_conference_fields *,
	    int new_pin);
/* A new PIN from the schema's free PINs (DB_PIN_TAKEN when none is left). */
int	 db_conference_new_pin(struct db *, long long id);
/* Delete it and its attendees; its calls stay. */
int	 db_conference_delete(struct db *, long long id);

/* The attendees of conference_id by name, one callback call each. */
int	 db_attendees_each(struct db *, long long conference_id,
	    void (*each)(void *, const struct db_attendee_row *), void *context);
/* Attendee attendee_id of conference_id; DB_NONE if it is not one of its attendees. */
int	 db_attendee_of(struct db *, long long conference_id, long long attendee_id,
	    struct db_attendee_row *);
/* A new attendee with a drawn PIN; email and phone may be NULL. */
int	 db_attendee_add(struct db *, long long conference_id, const char *name,
	    const char *email, const char *phone, long long *id);
int	 db_attendee_remove(struct db *, long long conference_id, long long attendee_id);
/* An invitation was mailed to attendee_id at now. */
int	 db_attendee_invited(struct db *, long long attendee_id, const char *now);

/* The call callid, with its attendee's name; DB_NONE if none. */
int	 db_live_call(struct db *, const char *callid, struct db_live_call *);
/* Who the call table says is in conference_id now (participant_now), in join order. */
int	 db_live_calls_each(struct db *, long long conference_id,
	    void (*each)(void *, const struct db_live_call *), void *context);
/* Record that callid of conference_id is muted or not; DB_NONE if it is not in it. */
int	 db_live_call_set_muted(struct db *, long long conference_id, const char *callid, int muted);

/* Callouts owner_id placed since since (ISO 8601 UTC). */
int	 db_owner_callouts(struct db *, long long owner_id, const char *since, int *count);
/* One more callout at now; deletes a bounded batch of rows before old. */
int	 db_owner_callout_record(struct db *, long long owner_id, const char *now, const char *old);

#endif
