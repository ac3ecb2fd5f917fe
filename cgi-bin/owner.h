/* owner.h: owner.cgi's request (session, form token) and the helpers its pages are written with. */
#ifndef PINCONF_OWNER_H
#define PINCONF_OWNER_H

#include <stdio.h>
#include <time.h>

#include "address.h"
#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "db.h"
#include "db-conference.h"
#include "db-owner.h"
#include "secret.h"
#include "service.h"
#include "sinchapi.h"

#define OWNER_URL		"/cgi-bin/owner.cgi"
#define OWNER_BODY_MAX		8192
/* Failed log ins: per account, and per source (an address or a /64), in a window. */
#define OWNER_ACCOUNT_FAILURES	10
#define OWNER_SOURCE_FAILURES	20
#define OWNER_FAILURE_WINDOW	900	/* seconds */
#define OWNER_CONFIRM_SECONDS	86400
#define OWNER_RESET_SECONDS	3600
/* Reset links mailed to one account in OWNER_RESET_SECONDS, at most. */
#define OWNER_RESET_MAILS	3

/* One owner.cgi request; nothing of it outlives the request. */
struct owner {
	struct service		*service;
	struct cgi_request	*request;
	struct cgi_response	*response;
	const struct config	*config;
	struct db		*db;
	time_t			 now;
	char			 now_text[CLOCK_TIME_SIZE];
	/* The browser's token: a session's once logged in, else a pre-login one. */
	char			 cookie[SECRET_TOKEN_SIZE];
	char			 cookie_hash[SECRET_HASH_SIZE];
	char			 form_token[SECRET_TOKEN_SIZE];	/* what every form carries */
	int			 logged_in;
	int			 session;	/* logged in through a session (not REMOTE_USER) */
	struct db_owner		 account;	/* who, when logged_in */
	FILE			*out;		/* the page being written */
	char			*html;
	size_t			 html_length;
};

/* A page: its PATH_INFO and what answers GET and POST (NULL: not allowed). */
struct owner_page {
	const char	*path;
	void		(*get)(struct owner *);
	void		(*post)(struct owner *);
	int		 needs_login;
	int		 password_page;	/* not offered with trust_remote_user */
};

/* The account pages (owner-account.c), ended by a NULL path. */
extern const struct owner_page owner_account_pages[];
/* The conference pages (owner-conferences.c) and their live part (owner-live.c). */
extern const struct owner_page owner_conference_pages[];
extern const struct owner_page owner_live_pages[];

/* What a details page shows besides the conference: a line on what happened, a kept form. */
struct owner_outcome {
	const char	*notice;		/* what was done */
	const char	*alert;			/* what failed */
	const char	*number;		/* Call a phone number: kept filled */
	const char	*number_error;
	const char	*attendee_name;		/* Add attendee: kept filled */
	const char	*attendee_email;
	const char	*attendee_phone;
	const char	*attendee_name_error;
	const char	*attendee_email_error;
	const char	*attendee_phone_error;
};

/*
 * The conference whose id the request names (?id= on GET, the form's id on
 * POST), if the owner may see it; else a 404 (the same for another owner's
 * and for none) or a 503 is answered and -1 returned.
 */
int	 owner_conference_load(struct owner *, struct db_owned_conference *);
/* Its details page, with outcome's lines and forms, answering status. */
void	 owner_conference_show(struct owner *, const struct db_owned_conference *,
	    const struct owner_outcome *, int status);
/* 303 to its details page, with done (a word of owner-conferences.c's table) to say what happened. */
void	 owner_conference_done(struct owner *, const struct db_owned_conference *, const char *done);
/* A form of one button posting id (and name=value, if name) to page; label names it for readers. */
void	 owner_button(struct owner *, const char *page, long long id, const char *name,
	    const char *value, const char *button, const char *label);

/* owner-live.c: the details page's "Who is in now" and "Call a phone number" sections. */
void	 owner_live_section(struct owner *, const struct db_owned_conference *);
void	 owner_call_section(struct owner *, const struct db_owned_conference *,
	    const struct owner_outcome *);
/* A Sinch client for a page: api_timeout seconds a request.  0, or -1 with api->why. */
int	 owner_sinch_open(struct owner *, struct sinchapi *);

/* A labelled input; error, when set, is shown under it and tied to it. */
struct owner_field {
	const char	*name;
	const char	*label;
	const char	*type;		/* email, password, text */
	const char	*autocomplete;	/* NULL: none said */
	const char	*value;		/* NULL: empty */
	const char	*error;		/* NULL: none */
	const char	*hint;		/* what the field takes, under it unless error; NULL: none */
	int		 optional;	/* 0: required */
};

/* Start a page titled title (escaped); a header shows who is logged in. 0, or -1 (already answered 500). */
int	 owner_page_begin(struct owner *, const char *title);
/* Finish it and answer status. */
void	 owner_page_end(struct owner *, int status);
/* Escaped text in a paragraph; a notice (role=status) or an error (role=alert). */
void	 owner_paragraph(struct owner *, const char *text);
void	 owner_notice(struct owner *, const char *text);
void	 owner_alert(struct owner *, const char *text);
/* A link to one of our pages (a path such as "/login"). */
void	 owner_link(struct owner *, const char *page, const char *text);
/* A POST form to page, with the form token; end it with its button's text. */
void	 owner_form_begin(struct owner *, const char *page);
void	 owner_form_hidden(struct owner *, const char *name, const char *value);
void	 owner_form_field(struct owner *, const struct owner_field *);
void	 owner_form_end(struct owner *, const char *button);

/* 303 to one of our pages. */
void	 owner_redirect(struct owner *, const char *page);
/* An error page and one log line, as html_refuse(). */
void	 owner_fail(struct owner *, int status, const char *message, const char *why);
/* The database's fault: 503 and its reason logged. */
void	 owner_fault(struct owner *);

/* A field of the POSTed form, malloc'd, NULL if absent. */
char	*owner_posted(struct owner *, const char *name);
/* now + seconds as ISO 8601 UTC. */
void	 owner_time(const struct owner *, long seconds, char out[CLOCK_TIME_SIZE]);

/*
 * Log owner_id in: a new token (never the one the browser brought), its
 * session stored, its cookie set.  Inside the caller's transaction.
 */
int	 owner_session_start(struct owner *, long long owner_id);

/* public_url + OWNER_URL + page + "?token=" + token: a link for a mail; malloc'd. */
char	*owner_mail_link(const struct owner *, const char *page, const char *token);
/* Mail text to to; 0, or -1 with the reason logged. */
int	 owner_mail(struct owner *, const char *to, const char *subject, const char *text);

#endif
