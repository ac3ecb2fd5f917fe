/* sinch.h: Sinch's protocol: callback events in, signatures, user tickets (SVAML: svaml.h). */
#ifndef PINCONF_SINCH_H
#define PINCONF_SINCH_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cgi.h"
#include "configfile.h"
#include "svaml.h"

#define SINCH_FIELD_MAX	128	/* longest callid, cli, user or endpoint we accept */

enum sinch_event_type { SINCH_ICE, SINCH_PIE, SINCH_ACE, SINCH_DICE, SINCH_NOTIFY };

/* A callback, checked for shape and types; strings point into json. */
struct sinch_event {
	enum sinch_event_type	 type;
	const char		*callid;	/* NULL only for notify */
	int			 from_browser;	/* ice: originationType MXP */
	const char		*caller;	/* ice: browser user (user, else cli) or phone cli */
	const char		*to_type;	/* ice: destination asked for */
	const char		*to_endpoint;
	const char		*menu_type;	/* pie: sequence, timeout, ... */
	const char		*menu_value;
	const char		*menu_id;	/* pie: "main", or a conference's keypad */
	const char		*custom;	/* ace: what our callout request carried */
	const char		*reason;	/* dice */
	const char		*result;
	long long		 duration;	/* dice; -1 unknown */
	cJSON			*json;
	char			 why[128];	/* why parsing failed */
};

/*
 * Parse a callback body; 0, or the reason in event->why and -1 when the body
 * is no event at all, -2 when event->type is known but a field has the wrong
 * shape (a live call can then still be answered).
 */
int	 sinch_event_parse(struct sinch_event *, const char *body, size_t length);
void	 sinch_event_free(struct sinch_event *);

/*
 * Check the request's Authorization: Sinch's HMAC signature with X-Timestamp
 * inside the window, or, only with accept_basic_auth, Basic key:secret.
 * 0 if valid, else -1 and *why.
 */
int	 sinch_verify_request(const struct config *, const struct cgi_request *,
	    time_t now, const char **why);

/* Base64 HMAC-SHA256 signature of a request, as Sinch computes it; malloc'd. */
char	*sinch_signature(const unsigned char *secret, size_t secret_length,
	    const char *method, const char *content_type, const char *timestamp,
	    const char *path, const char *body, size_t body_length);

/* A user ticket for the Sinch JS SDK (section 4 of the Sinch facts); malloc'd. */
char	*sinch_user_ticket(const struct config *, const char *identity,
	    time_t created, int milliseconds, int expires_in);

/* Server-issued Sinch user ids: "u-" and the base64url of this many random bytes. */
#define SINCH_USER_ID_BYTES	16

/* A fresh random user id (at least 96 bits, here 128); malloc'd. */
char	*sinch_new_user_id(void);
/* A fresh random nonce for a registration JWT; malloc'd. */
char	*sinch_new_nonce(void);
/* 1 if user_id is 1 to 255 bytes of A-Z a-z 0-9 - _ =, as the current SDK requires. */
int	 sinch_user_id_ok(const char *user_id);

/*
 * The registration JWT of the current browser SDK (section 4b of the Sinch
 * facts) for user_id, issued at issued, living lifetime seconds; malloc'd.
 */
char	*sinch_registration_jwt(const struct config *, const char *user_id, time_t issued,
	    int lifetime, const char *nonce);

#endif
