/* svaml.h: SVAML, the answers pinconf gives Sinch's callbacks: instructions and one action. */
#ifndef PINCONF_SVAML_H
#define PINCONF_SVAML_H

#include <cjson/cJSON.h>

#include "configfile.h"

/* SVAML answers: instructions first, then exactly one action. */
cJSON	*svaml_new(void);
int	 svaml_say(cJSON *, const char *text, const char *locale);
/* Say text with the first placeholder ("{name}") replaced by value. */
int	 svaml_say_filled(cJSON *, const char *text, const char *placeholder, const char *value,
	    const char *locale);
int	 svaml_run_menu(cJSON *, const struct config *, int pin_length);
int	 svaml_connect_conference(cJSON *, const char *conference_id, const char *cli,
	    const char *moh);
int	 svaml_action(cJSON *, const char *name);	/* hangup, continue */
/* A round of waiting for the host: say_wait_host, then a timeout PIE after host_wait_round s. */
int	 svaml_wait_menu(cJSON *, const struct config *);
/* Ask, on the connectConf just added, for the participant's keypad digits as PIEs. */
int	 svaml_conference_keypad(cJSON *, int timeout_ms);
/* Compact JSON text, empty instructions left out; malloc'd. */
char	*svaml_print(cJSON *);

#endif
