/* svaml.c: SVAML, the answers pinconf gives Sinch's callbacks: instructions and one action. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "configfile.h"
#include "svaml.h"

cJSON *
svaml_new(void)
{
	cJSON *svaml = cJSON_CreateObject();

	if (svaml != NULL && cJSON_AddArrayToObject(svaml, "instructions") == NULL) {
		cJSON_Delete(svaml);
		return NULL;
	}
	return svaml;
}

int
svaml_say(cJSON *svaml, const char *text, const char *locale)
{
	cJSON *instruction = cJSON_CreateObject();

	if (instruction == NULL)
		return -1;
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(svaml, "instructions"), instruction);
	if (cJSON_AddStringToObject(instruction, "name", "say") == NULL ||
	    cJSON_AddStringToObject(instruction, "text", text) == NULL ||
	    cJSON_AddStringToObject(instruction, "locale", locale) == NULL)
		return -1;
	return 0;
}

int
svaml_say_filled(cJSON *svaml, const char *text, const char *placeholder, const char *value,
    const char *locale)
{
	char *filled;
	int rc;

	if ((filled = config_text_fill(text, placeholder, value)) == NULL)
		return -1;
	rc = svaml_say(svaml, filled, locale);
	free(filled);
	return rc;
}

static cJSON *
svaml_new_action(cJSON *svaml, const char *name)
{
	cJSON *action;

	cJSON_DeleteItemFromObjectCaseSensitive(svaml, "action");
	if ((action = cJSON_AddObjectToObject(svaml, "action")) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(action, "name", name) == NULL)
		return NULL;
	return action;
}

int
svaml_action(cJSON *svaml, const char *name)
{
	return svaml_new_action(svaml, name) != NULL ? 0 : -1;
}

/*
 * A runMenu action with its one menu, "main" (Sinch requires a menu of that
 * name), the menu returned for the caller to fill in; NULL on failure.
 */
static cJSON *
svaml_new_main_menu(cJSON *svaml, const struct config *config)
{
	cJSON *action, *menus, *menu;

	if ((action = svaml_new_action(svaml, "runMenu")) == NULL ||
	    cJSON_AddStringToObject(action, "locale", config->locale) == NULL ||
	    cJSON_AddStringToObject(action, "mainMenu", "main") == NULL ||
	    (menus = cJSON_AddArrayToObject(action, "menus")) == NULL ||
	    (menu = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddItemToArray(menus, menu);
	if (cJSON_AddStringToObject(menu, "id", "main") == NULL)
		return NULL;
	return menu;
}

int
svaml_run_menu(cJSON *svaml, const struct config *config, int pin_length)
{
	cJSON *menu;
	char *prompt = NULL;
	int rc = -1;

	/* Unless configured, the prompt names the digits actually wanted. */
	if ((*config->prompt_pin != '\0' ?
	    asprintf(&prompt, "#tts[%s]", config->prompt_pin) :
	    asprintf(&prompt, "#tts[Enter %d digit pin]", pin_length)) < 0)
		return -1;
	/* Sinch refuses timeouts over 30 s. */
	if ((menu = svaml_new_main_menu(svaml, config)) == NULL ||
	    cJSON_AddStringToObject(menu, "mainPrompt", prompt) == NULL ||
	    cJSON_AddStringToObject(menu, "repeatPrompt", prompt) == NULL ||
	    cJSON_AddNumberToObject(menu, "repeats", 3) == NULL ||
	    cJSON_AddNumberToObject(menu, "maxDigits", pin_length) == NULL ||
	    cJSON_AddNumberToObject(menu, "timeoutMills", config->menu_timeout * 1000) == NULL)
		goto out;
	rc = 0;
out:
	free(prompt);
	return rc;
}

int
svaml_connect_conference(cJSON *svaml, const char *conference_id, const char *cli,
    const char *moh)
{
	cJSON *action;

	if ((action = svaml_new_action(svaml, "connectConf")) == NULL)
		return -1;
	if (cJSON_AddStringToObject(action, "conferenceId", conference_id) == NULL ||
	    cJSON_AddStringToObject(action, "moh", moh) == NULL)
		return -1;
	if (cli != NULL && *cli != '\0' && cJSON_AddStringToObject(action, "cli", cli) == NULL)
		return -1;
	return 0;
}

char *
svaml_print(cJSON *svaml)
{
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(svaml, "instructions")) == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(svaml, "instructions");
	return cJSON_PrintUnformatted(svaml);
}

/* Hosts and keypad (issue 19). */

int
svaml_wait_menu(cJSON *svaml, const struct config *config)
{
	cJSON *menu;
	char *prompt = NULL;
	int rc = -1;

	if (asprintf(&prompt, "#tts[%s]", config->say_wait_host) < 0)
		return -1;
	/* One round: the timeout PIE comes back after host_wait_round seconds (at most 30). */
	if ((menu = svaml_new_main_menu(svaml, config)) == NULL ||
	    cJSON_AddStringToObject(menu, "mainPrompt", prompt) == NULL ||
	    cJSON_AddNumberToObject(menu, "repeats", 1) == NULL ||
	    cJSON_AddNumberToObject(menu, "maxDigits", 1) == NULL ||
	    cJSON_AddNumberToObject(menu, "timeoutMills", config->host_wait_round * 1000) == NULL)
		goto out;
	rc = 0;
out:
	free(prompt);
	return rc;
}

int
svaml_conference_keypad(cJSON *svaml, int timeout_ms)
{
	cJSON *action = cJSON_GetObjectItemCaseSensitive(svaml, "action"), *options;

	if (action == NULL || (options = cJSON_AddObjectToObject(action,
	    "conferenceDtmfOptions")) == NULL)
		return -1;
	/* Two digits ("*6"); the PIE comes after two, a #, or the pause between digits. */
	if (cJSON_AddStringToObject(options, "mode", "detect") == NULL ||
	    cJSON_AddNumberToObject(options, "maxDigits", 2) == NULL ||
	    cJSON_AddNumberToObject(options, "timeoutMills", timeout_ms) == NULL)
		return -1;
	return 0;
}
