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
	int		 retention_days;	/* 0 keeps call records forever */
	int		 accept_basic_auth;	/* Basic key:secret on the callback: the weaker choice */
	char		*trusted_proxies;	/* see address_client(); "" trusts none */
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

/* Free everything and wipe the secret. */
void	 config_free(struct config *);

#endif
