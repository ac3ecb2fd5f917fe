/* sinchapi.h: Sinch's Calling REST API (conferences and callouts), signed as Sinch signs. */
#ifndef PINCONF_SINCHAPI_H
#define PINCONF_SINCHAPI_H

#include <stddef.h>

#include "configfile.h"

#define SINCHAPI_ID_MAX		128	/* longest call id or cli we keep */
#define SINCHAPI_PARTICIPANTS_MAX 1000	/* Sinch's conferences hold far fewer */

enum sinchapi_result {
	SINCHAPI_OK = 0,
	SINCHAPI_NOT_FOUND = 1,	/* 40400: no such conference or call, or nobody in it */
	SINCHAPI_FAILED = -1	/* see why: one sentence, naming the host */
};

/* One participant of Sinch's answer to "who is in a conference". */
struct sinchapi_participant {
	char		 callid[SINCHAPI_ID_MAX + 1];
	char		 cli[SINCHAPI_ID_MAX + 1];	/* phone number, or a browser leg's cli */
	long long	 duration;			/* seconds in; -1 unknown */
	int		 muted;
	int		 onhold;
};

struct sinchapi_participants {
	struct sinchapi_participant	*list;	/* malloc'd */
	size_t				 count;
};

/* Sinch's error body: {"errorCode":40400,"message":"...","reference":"..."}. */
struct sinchapi_error {
	long		 code;		/* 0 when the body said none */
	char		 message[160];
};

/* One client: what it talks to and, after a failure, why. */
struct sinchapi {
	const struct config	*config;
	char			 host[256];	/* api_url's host[:port], for messages */
	long			 status;	/* HTTP status of the last answer; 0 none */
	struct sinchapi_error	 error;		/* its error body, if any */
	char			 why[512];
	int			 timeout;	/* seconds for one answer */
	int			 attempts;	/* of a GET, which changes nothing */
};

/*
 * The pure parsers of Sinch's answers, separate from the transport so that
 * a fuzzer can feed them.  Each takes exactly length bytes (no NUL needed)
 * and returns 0, or -1 (with *why set, where there is one) on any body that
 * is not the documented shape.
 */
int	 sinchapi_parse_participants(const char *body, size_t length,
	    struct sinchapi_participants *, const char **why);
int	 sinchapi_parse_callout(const char *body, size_t length, char *callid, size_t size);
int	 sinchapi_parse_error(const char *body, size_t length, struct sinchapi_error *);
void	 sinchapi_participants_free(struct sinchapi_participants *);

/* Set up a client for config's api_url, key and secret; 0, or -1 with why. */
int	 sinchapi_init(struct sinchapi *, const struct config *);
void	 sinchapi_cleanup(struct sinchapi *);
/*
 * For a page a person waits for (owner.cgi): each request gets at most
 * seconds, connecting included, and a GET is not tried again.
 */
void	 sinchapi_set_timeout(struct sinchapi *, int seconds);

/* GET /calling/v1/conferences/id/{conference}: who is in it now. */
int	 sinchapi_conference_participants(struct sinchapi *, const char *conference,
	    struct sinchapi_participants *);
/* PATCH one participant: command is mute, unmute, onhold or resume. */
int	 sinchapi_participant_command(struct sinchapi *, const char *conference,
	    const char *callid, const char *command);
/* DELETE one participant from the conference. */
int	 sinchapi_kick_participant(struct sinchapi *, const char *conference, const char *callid);
/* DELETE the conference: everyone out. */
int	 sinchapi_end_conference(struct sinchapi *, const char *conference);
/* POST a conference callout to number (E.164), showing cli; the new leg's call id in callid. */
int	 sinchapi_conference_callout(struct sinchapi *, const char *conference,
	    const char *cli, const char *number, const char *greeting, const char *locale,
	    char *callid, size_t size);

#endif
