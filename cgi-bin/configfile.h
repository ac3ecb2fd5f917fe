/* configfile.h: pinconf.conf, "key = value" lines, every key known and checked. */
#ifndef PINCONF_CONFIGFILE_H
#define PINCONF_CONFIGFILE_H

#include <stddef.h>
#include <stdio.h>

struct config {
	char		*application_key;
	char		*application_secret;	/* base64 text, as the dashboard shows it */
	unsigned char	*secret;		/* its decoded bytes: the HMAC key */
	size_t		 secret_length;
	char		*database;
	int		 verify_signatures;
	int		 timestamp_window;	/* seconds either side of now */
	char		*timezone;		/* what "today" means for ends_on */
	char		*locale;
	char		*prompt_pin;		/* "": "Enter N digit pin" for today's pin_length */
	char		*say_welcome;
	char		*say_invalid;
	char		*say_unavailable;
	char		*moh;
	int		 pin_attempts;
	int		 menu_timeout;		/* seconds, Sinch allows 1 to 30 */
	int		 busy_timeout;		/* milliseconds to wait for a lock */
	int		 ticket_expires;	/* seconds */
	char		*sinch_js_url;
	char		*sinch_environment;	/* the current SDK's environment host */
	int		 retention_days;	/* 0 keeps call records forever */
	char		*trusted_proxies;	/* see address_client(); "" trusts none */
	int		 jwt_lifetime;		/* seconds a registration JWT lives */
	int		 identity_lifetime;	/* seconds a browser's user id stays usable */
	char		*say_too_many;		/* locked out or over the guess budget */
	char		*say_full;
	char		*say_locked;
	char		*say_not_started;	/* "{date}" becomes the first day, "7 December" */
	char		*say_ended;
	char		*say_welcome_name;	/* personal PIN: "{name}" becomes the attendee's name */
	char		*say_count_none;	/* announce_count: nobody else is in */
	char		*say_count_one;
	char		*say_count_many;	/* "{count}" becomes the number of others */
	char		*api_url;		/* Sinch's Calling REST API, for pinconf(1) */
	char		*callout_cli;		/* E.164 number callouts show; "" none */
	int		 accept_basic_auth;	/* Basic key:secret on the callback: the weaker choice */
	int		 host_wait_minutes;	/* wait_for_host: a caller gives up after this */
	int		 host_wait_round;	/* seconds of one waiting runMenu, 1 to 30 */
	char		*say_wait_host;		/* a phone caller held for the host */
	char		*say_host_not_in;	/* a browser call refused: no host in */
	char		*say_host_gave_up;
	int		 keypad;		/* phone participants' keypad commands */
	char		*keypad_mute;		/* toggles your own mute: "*6" */
	char		*keypad_lock;		/* hosts: lock/unlock */
	char		*keypad_mute_all;	/* hosts: mute everyone but hosts */
	int		 keypad_timeout;	/* milliseconds between digits */
	char		*say_keypad_hint;
	char		*pinconf_command;	/* the admin command callback.cgi starts detached */
	int		 debug;			/* log what is ignored (keypad input) */
	char		*owner_domains;		/* mail domains that may sign up, comma-separated; "" none */
	char		*sendmail;		/* run as sendmail -t -oi, message on stdin */
	char		*mail_from;		/* From of owner.cgi's mails; "" mails nothing */
	char		*public_url;		/* https://host[:port], no path; links and the Origin check */
	int		 session_idle_hours;	/* an owner's session ends after this long unused */
	int		 session_max_days;	/* ... and this long after its log in */
	int		 trust_remote_user;	/* REMOTE_USER is the owner: only behind the server's login */
	int		 api_timeout;		/* seconds owner.cgi waits for Sinch's REST API */
	int		 callout_limit;	/* calls an owner may place from owner.cgi an hour; 0 none */
};

/* PINCONF_CONFIG if set, else the installed default. */
const char	*config_path(void);

/*
 * Read and check the whole file.  Returns 0, or -1 with a one-line reason in
 * why (never quoting a secret); the struct is freed on failure.
 */
int	 config_load(struct config *, const char *path, char *why, size_t why_size);

/* The same for an open stream: what config_load() does after fopen(). */
int	 config_read(struct config *, FILE *, char *why, size_t why_size);

/* 1 if email's domain is one of owner_domains (without case); 0 when the list is empty. */
int	 config_owner_domain_ok(const struct config *, const char *email);

/* A config text with its first placeholder ("{date}") replaced by value; malloc'd, NULL on ENOMEM. */
char	*config_text_fill(const char *text, const char *placeholder, const char *value);

/* Free everything and wipe the secret. */
void	 config_free(struct config *);

#endif
