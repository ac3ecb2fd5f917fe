/* configfile.c: pinconf.conf, "key = value" lines, every key known and checked. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "address.h"
#include "configfile.h"
#include "crypto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif

#define CONFIG_LINE_MAX	1024

enum config_type { CONFIG_STRING, CONFIG_INTEGER, CONFIG_BOOLEAN };

struct config_key {
	const char		*name;
	enum config_type	 type;
	size_t			 offset;
	const char		*fallback;	/* NULL: required */
	long			 minimum, maximum;
};

#define STRING(name, fallback) \
	{ #name, CONFIG_STRING, offsetof(struct config, name), fallback, 0, 0 }
#define INTEGER(name, fallback, minimum, maximum) \
	{ #name, CONFIG_INTEGER, offsetof(struct config, name), fallback, minimum, maximum }
#define BOOLEAN(name, fallback) \
	{ #name, CONFIG_BOOLEAN, offsetof(struct config, name), fallback, 0, 1 }

static const struct config_key config_keys[] = {
	STRING(application_key, NULL),
	STRING(application_secret, NULL),
	STRING(database, NULL),
	BOOLEAN(verify_signatures, "yes"),
	INTEGER(timestamp_window, "600", 1, 86400),
	STRING(timezone, "UTC"),
	STRING(locale, "en-US"),
	STRING(prompt_pin, ""),		/* "": built from pin_length */
	STRING(say_welcome, ", Welcome to the conference"),
	STRING(say_invalid, "Invalid code"),
	STRING(say_unavailable, "Sorry, the conference service is unavailable. Please try again later."),
	STRING(moh, "ring"),
	INTEGER(pin_attempts, "3", 1, 10),
	INTEGER(menu_timeout, "30", 1, 30),
	INTEGER(busy_timeout, "3000", 0, 4500),
	INTEGER(ticket_expires, "3600", 60, 86400),
	STRING(sinch_js_url, "https://cdn.sinch.com/latest/sinch-rtc-min.js"),
	STRING(sinch_environment, "https://ocra.api.sinch.com"),
	INTEGER(retention_days, "0", 0, 36500),
	STRING(trusted_proxies, ""),
	INTEGER(jwt_lifetime, "600", 60, 86400),
	INTEGER(identity_lifetime, "14400", 60, 604800),
	STRING(say_too_many, "There were too many wrong PINs. Please try again later."),
	STRING(say_full, "Sorry, this conference is full."),
	STRING(say_locked, "Sorry, this conference is locked."),
	STRING(say_not_started, "This conference starts on {date}."),
	STRING(say_ended, "This conference has ended."),
	STRING(say_welcome_name, "Welcome, {name}"),
	STRING(say_count_none, "You are the first participant."),
	STRING(say_count_one, "There is one other participant."),
	STRING(say_count_many, "There are {count} other participants."),
	STRING(api_url, "https://calling.api.sinch.com"),
	STRING(callout_cli, ""),
	BOOLEAN(accept_basic_auth, "no"),
	/* Hosts and keypad (issue 19). */
	INTEGER(host_wait_minutes, "30", 1, 720),
	INTEGER(host_wait_round, "30", 1, 30),
	STRING(say_wait_host, "The host has not joined yet. Please hold."),
	STRING(say_host_not_in, "The host has not joined yet."),
	STRING(say_host_gave_up, "The host has not joined. Please try again later."),
	BOOLEAN(keypad, "yes"),
	STRING(keypad_mute, "*6"),
	STRING(keypad_lock, "*7"),
	STRING(keypad_mute_all, "*8"),
	INTEGER(keypad_timeout, "1500", 500, 5000),
	STRING(say_keypad_hint, "Press star 6 to mute yourself."),
	STRING(pinconf_command, BINDIR "/pinconf"),
	BOOLEAN(debug, "no"),
	STRING(owner_domains, ""),
	STRING(sendmail, "/usr/sbin/sendmail"),
	STRING(mail_from, ""),
	STRING(public_url, ""),
	INTEGER(session_idle_hours, "12", 1, 720),
	INTEGER(session_max_days, "7", 1, 365),
	BOOLEAN(trust_remote_user, "no"),
	INTEGER(api_timeout, "4", 1, 15),
	INTEGER(callout_limit, "20", 0, 1000),
};
#define CONFIG_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

const char *
config_path(void)
{
	const char *path = getenv("PINCONF_CONFIG");

	return path != NULL && *path != '\0' ? path : SYSCONFDIR "/pinconf.conf";
}

static const struct config_key *
config_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_KEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static char *
trim(char *text)
{
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return text;
}

static int
printable(const char *text)
{
	for (; *text != '\0'; text++)
		if ((unsigned char)*text < 0x20 || *text == 0x7f)
			return 0;
	return 1;
}

/* Store value under key; NULL, or why the value is refused. */
static const char *
config_set(struct config *config, const struct config_key *key, const char *value)
{
	char *field = (char *)config + key->offset, *end, *copy;
	long number;

	switch (key->type) {
	case CONFIG_STRING:
		if (!printable(value) || strlen(value) > 512)
			return "must be printable text of at most 512 bytes";
		if ((copy = strdup(value)) == NULL)
			return "out of memory";
		free(*(char **)field);
		*(char **)field = copy;
		return NULL;
	case CONFIG_BOOLEAN:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(int *)field = 1;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(int *)field = 0;
		else
			return "must be yes or no";
		return NULL;
	case CONFIG_INTEGER:
		errno = 0;
		number = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    number < key->minimum || number > key->maximum)
			return "is not a whole number in its range";
		*(int *)field = (int)number;
		return NULL;
	}
	return "has an unknown type";
}

static int
config_set_defaults(struct config *config, char *why, size_t why_size)
{
	const char *problem;
	size_t i;

	for (i = 0; i < CONFIG_KEYS; i++) {
		if (config_keys[i].fallback == NULL)
			continue;
		if ((problem = config_set(config, &config_keys[i], config_keys[i].fallback)) != NULL) {
			snprintf(why, why_size, "default of %s %s", config_keys[i].name, problem);
			return -1;
		}
	}
	return 0;
}

static int
config_parse_line(struct config *config, char *line, unsigned int number,
    unsigned char *seen, char *why, size_t why_size)
{
	const struct config_key *key;
	const char *problem;
	char *name, *value, *equals;

	name = trim(line);
	if (*name == '\0' || *name == '#')
		return 0;
	if ((equals = strchr(name, '=')) == NULL) {
		snprintf(why, why_size, "line %u: expected key = value", number);
		return -1;
	}
	*equals = '\0';
	name = trim(name);
	value = trim(equals + 1);
	/* Moved into the database, where the views read it too (issue 19). */
	if (strcmp(name, "call_max_hours") == 0) {
		snprintf(why, why_size, "line %u: call_max_hours moved to the database: remove"
		    " the line and run UPDATE setting SET value = %.6s WHERE name ="
		    " 'call_max_hours'", number, strspn(value, "0123456789") == strlen(value) &&
		    *value != '\0' ? value : "N");
		return -1;
	}
	if ((key = config_key_find(name)) == NULL) {
		/* A mistyped line may hold the secret: quote only what looks like a key. */
		if (strlen(name) <= 40 && strspn(name, "abcdefghijklmnopqrstuvwxyz_") == strlen(name))
			snprintf(why, why_size, "line %u: unknown key '%s'", number, name);
		else
			snprintf(why, why_size, "line %u: not a key = value line", number);
		return -1;
	}
	if (seen[key - config_keys]++) {
		snprintf(why, why_size, "line %u: %s given twice", number, key->name);
		return -1;
	}
	if ((problem = config_set(config, key, value)) != NULL) {
		/* Name the key, never echo the value: it may be the secret. */
		snprintf(why, why_size, "line %u: %s %s", number, key->name, problem);
		return -1;
	}
	return 0;
}

static int
valid_timezone(const char *zone)
{
	char path[PATH_MAX];
	struct stat st;
	const char *p;

	if (strcmp(zone, "UTC") == 0)
		return 1;
	if (*zone == '\0' || *zone == '/' || strstr(zone, "..") != NULL)
		return 0;
	for (p = zone; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
valid_locale(const char *locale)
{
	size_t length = strlen(locale);

	if (length < 2 || length > 16)
		return 0;
	for (; *locale != '\0'; locale++)
		if (!isalnum((unsigned char)*locale) && *locale != '-')
			return 0;
	return 1;
}

static int
valid_application_key(const char *key)
{
	size_t length = strlen(key);

	if (length == 0 || length > 128)
		return 0;
	for (; *key != '\0'; key++)
		if (!isalnum((unsigned char)*key) && *key != '-')
			return 0;
	return 1;
}

/* Sinch's environment hosts (sinch-api.md 4b); the page gives it to the SDK. */
static int
valid_sinch_environment(const char *host)
{
	static const char *const hosts[] = {
		"https://ocra.api.sinch.com", "https://ocra-euc1.api.sinch.com",
		"https://ocra-use1.api.sinch.com", "https://ocra-sae1.api.sinch.com",
		"https://ocra-apse1.api.sinch.com", "https://ocra-apse2.api.sinch.com",
	};
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcmp(host, hosts[i]) == 0)
			return 1;
	return 0;
}

static int
ends_with(const char *text, size_t length, const char *suffix)
{
	size_t suffix_length = strlen(suffix);

	return length >= suffix_length &&
	    strncasecmp(text + length - suffix_length, suffix, suffix_length) == 0;
}

/*
 * Sinch's API hosts all end in .api.sinch.com; plain http only to this
 * machine, where the tests' fake Sinch listens.  No path, user or query.
 */
static int
valid_api_url(const char *url)
{
	const char *host, *name_end, *end, *p;
	size_t name_length;
	int https = strncmp(url, "https://", 8) == 0;

	if (!https && strncmp(url, "http://", 7) != 0)
		return 0;
	host = url + (https ? 8 : 7);
	end = host + strcspn(host, "/");
	if (*end == '/' && end[1] != '\0')
		return 0;
	if (*host == '[')
		name_end = (p = memchr(host, ']', (size_t)(end - host))) != NULL ? p + 1 : host;
	else
		name_end = host + strcspn(host, ":/");
	name_length = (size_t)(name_end - host);
	/* What follows the name is nothing, or :PORT of 1 to 5 digits. */
	if (name_end < end && (*name_end != ':' || end - name_end < 2 || end - name_end > 6 ||
	    strspn(name_end + 1, "0123456789") != (size_t)(end - name_end - 1)))
		return 0;
	if (https) {
		for (p = host; p < name_end; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return 0;
		return name_length > 14 && ends_with(host, name_length, ".api.sinch.com");
	}
	if ((name_length == 5 && strncmp(host, "[::1]", 5) == 0) ||
	    (name_length == 9 && strncasecmp(host, "localhost", 9) == 0))
		return 1;
	/* 127.0.0.0/8, written as a dotted quad. */
	return name_length >= 9 && strncmp(host, "127.", 4) == 0 &&
	    strspn(host, "0123456789.") == name_length;
}

/* E.164: a plus, then 7 to 15 digits, the first not 0. */
static int
valid_e164(const char *number)
{
	size_t digits = strlen(number + (*number == '+'));

	return number[0] == '+' && number[1] >= '1' && number[1] <= '9' &&
	    digits >= 7 && digits <= 15 && strspn(number + 1, "0123456789") == digits;
}

/* A keypad command: 1 or 2 of the keys Sinch may send, 0-9 * #. */
static int
valid_keypad_digits(const char *digits)
{
	size_t length = strlen(digits);

	return length >= 1 && length <= 2 && strspn(digits, "0123456789*#") == length;
}

static int
config_check_keypad(const struct config *config, char *why, size_t why_size)
{
	if (!valid_keypad_digits(config->keypad_mute) || !valid_keypad_digits(config->keypad_lock) ||
	    !valid_keypad_digits(config->keypad_mute_all)) {
		snprintf(why, why_size, "keypad_mute, keypad_lock and keypad_mute_all must be"
		    " 1 or 2 of the keys 0-9 * #");
		return -1;
	}
	if (strcmp(config->keypad_mute, config->keypad_lock) == 0 ||
	    strcmp(config->keypad_mute, config->keypad_mute_all) == 0 ||
	    strcmp(config->keypad_lock, config->keypad_mute_all) == 0) {
		snprintf(why, why_size, "keypad_mute, keypad_lock and keypad_mute_all must differ");
		return -1;
	}
	return 0;
}

/* One domain name: labels of letters, digits and dashes, at least one dot. */
static int
valid_domain(const char *name, size_t length)
{
	size_t i;

	if (length == 0 || length > 253 || name[0] == '.' || name[0] == '-' ||
	    name[length - 1] == '.' || memchr(name, '.', length) == NULL)
		return 0;
	for (i = 0; i < length; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    !(name[i] == '.' && name[i + 1] != '.'))
			return 0;
	return 1;
}

/* "" or domains separated by commas (and spaces). */
static int
valid_domain_list(const char *list)
{
	size_t length;

	while (*list != '\0') {
		list += strspn(list, ", ");
		length = strcspn(list, ", ");
		if (length > 0 && !valid_domain(list, length))
			return 0;
		list += length;
	}
	return 1;
}

/* A bare address local@domain, as mail headers carry it: no spaces, brackets or quotes. */
static int
valid_mail_address(const char *address)
{
	const char *at = strrchr(address, '@');

	if (at == NULL || at == address || strchr(address, '@') != at || strlen(address) > 254 ||
	    strpbrk(address, " <>\"(),;:\\[]") != NULL)
		return 0;
	return valid_domain(at + 1, strlen(at + 1));
}

/* http(s)://host[:port], no path, user or query: the origin links are built from. */
static int
valid_public_url(const char *url)
{
	const char *host;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return 0;
	if (*host == '\0' || strlen(host) > 200)
		return 0;
	for (; *host != '\0'; host++)
		if (!isalnum((unsigned char)*host) && strchr(".-:[]", *host) == NULL)
			return 0;
	return 1;
}

int
config_owner_domain_ok(const struct config *config, const char *email)
{
	const char *at = strrchr(email, '@'), *list = config->owner_domains;
	size_t length;

	if (at == NULL || !valid_mail_address(email))
		return 0;
	at++;
	while (*list != '\0') {
		list += strspn(list, ", ");
		length = strcspn(list, ", ");
		if (length > 0 && length == strlen(at) && strncasecmp(list, at, length) == 0)
			return 1;
		list += length;
	}
	return 0;
}

static int
config_check(struct config *config, char *why, size_t why_size)
{
	size_t i;

	/* A required string is NULL when absent, or when its one line was refused. */
	for (i = 0; i < CONFIG_KEYS; i++) {
		if (config_keys[i].fallback == NULL &&
		    *(char **)((char *)config + config_keys[i].offset) == NULL) {
			snprintf(why, why_size, "required key %s is missing", config_keys[i].name);
			return -1;
		}
	}
	if (!valid_application_key(config->application_key)) {
		snprintf(why, why_size, "application_key must be letters, digits and dashes");
		return -1;
	}
	if (base64_decode(config->application_secret, strlen(config->application_secret),
	    &config->secret, &config->secret_length) != 0 || config->secret_length == 0) {
		snprintf(why, why_size, "application_secret is not valid base64");
		return -1;
	}
	if (*config->database == '\0') {
		snprintf(why, why_size, "database is empty");
		return -1;
	}
	/* The prompt goes inside Sinch's #tts[...] syntax, where these end it. */
	if (strpbrk(config->prompt_pin, "[];") != NULL) {
		snprintf(why, why_size, "prompt_pin must not contain [ ] or ;");
		return -1;
	}
	if (strpbrk(config->say_wait_host, "[];") != NULL) {
		snprintf(why, why_size, "say_wait_host must not contain [ ] or ;");
		return -1;
	}
	if (!valid_locale(config->locale)) {
		snprintf(why, why_size, "locale must look like en-US");
		return -1;
	}
	if (!valid_timezone(config->timezone)) {
		snprintf(why, why_size, "timezone '%.60s' is not a zone in /usr/share/zoneinfo",
		    config->timezone);
		return -1;
	}
	if (strcmp(config->moh, "ring") != 0 && strcmp(config->moh, "music1") != 0 &&
	    strcmp(config->moh, "music2") != 0 && strcmp(config->moh, "music3") != 0) {
		snprintf(why, why_size, "moh must be ring, music1, music2 or music3");
		return -1;
	}
	if (!valid_sinch_environment(config->sinch_environment)) {
		snprintf(why, why_size, "sinch_environment must be https://ocra.api.sinch.com"
		    " or a regional https://ocra-REGION.api.sinch.com");
		return -1;
	}
	if (!valid_api_url(config->api_url)) {
		snprintf(why, why_size, "api_url must be https://HOST.api.sinch.com"
		    " (or http:// to 127.0.0.1, [::1] or localhost), with no path");
		return -1;
	}
	if (*config->callout_cli != '\0' && !valid_e164(config->callout_cli)) {
		snprintf(why, why_size, "callout_cli must be E.164: + then 7 to 15 digits");
		return -1;
	}
	if (config_check_keypad(config, why, why_size) != 0)
		return -1;
	if (*config->pinconf_command != '/') {
		snprintf(why, why_size, "pinconf_command must be an absolute path");
		return -1;
	}
	if (!valid_domain_list(config->owner_domains)) {
		snprintf(why, why_size, "owner_domains must be domain names separated by commas");
		return -1;
	}
	if (config->sendmail[0] != '/') {
		snprintf(why, why_size, "sendmail must be an absolute path");
		return -1;
	}
	if (*config->mail_from != '\0' && !valid_mail_address(config->mail_from)) {
		snprintf(why, why_size, "mail_from must be an address, local@domain");
		return -1;
	}
	if (*config->public_url != '\0' && !valid_public_url(config->public_url)) {
		snprintf(why, why_size, "public_url must be http:// or https:// and a host[:port],"
		    " with no path");
		return -1;
	}
	if (!address_list_ok(config->trusted_proxies)) {
		snprintf(why, why_size, "trusted_proxies must be addresses or CIDR ranges"
		    " separated by commas or spaces");
		return -1;
	}
	return 0;
}

int
config_read(struct config *config, FILE *file, char *why, size_t why_size)
{
	unsigned char seen[CONFIG_KEYS] = { 0 };
	char line[CONFIG_LINE_MAX];
	unsigned int number = 0;
	long start = ftell(file), end;
	size_t length;
	int rc = -1;

	memset(config, 0, sizeof(*config));
	memset(line, 0, sizeof(line));
	if (config_set_defaults(config, why, why_size) != 0)
		goto out;
	while (fgets(line, sizeof(line), file) != NULL) {
		number++;
		/* Only the last line may lack its newline; it is checked like any other. */
		/* fgets() says nothing of a NUL, which would hide the rest of the line. */
		end = ftell(file);
		length = start >= 0 && end >= start ? (size_t)(end - start) : strlen(line);
		start = end;
		if (strlen(line) != length) {
			snprintf(why, why_size, "line %u: holds a NUL byte", number);
			goto out;
		}
		if (strchr(line, '\n') == NULL && !feof(file)) {
			snprintf(why, why_size, "line %u: longer than %d bytes", number,
			    CONFIG_LINE_MAX - 2);
			goto out;
		}
		if (config_parse_line(config, line, number, seen, why, why_size) != 0)
			goto out;
	}
	if (ferror(file)) {
		snprintf(why, why_size, "read error: %s", strerror(errno));
		goto out;
	}
	rc = config_check(config, why, why_size);
out:
	crypto_wipe(line, sizeof(line));
	if (rc != 0)
		config_free(config);
	return rc;
}

int
config_load(struct config *config, const char *path, char *why, size_t why_size)
{
	FILE *file;
	int rc;

	memset(config, 0, sizeof(*config));
	if ((file = fopen(path, "r")) == NULL) {
		snprintf(why, why_size, "cannot read: %s", strerror(errno));
		return -1;
	}
	rc = config_read(config, file, why, why_size);
	fclose(file);
	return rc;
}

void
config_free(struct config *config)
{
	size_t i;
	char **field;

	if (config->application_secret != NULL)
		crypto_wipe(config->application_secret, strlen(config->application_secret));
	crypto_wipe(config->secret, config->secret_length);
	free(config->secret);
	for (i = 0; i < CONFIG_KEYS; i++) {
		if (config_keys[i].type != CONFIG_STRING)
			continue;
		field = (char **)((char *)config + config_keys[i].offset);
		free(*field);
	}
	memset(config, 0, sizeof(*config));
}

char *
config_text_fill(const char *text, const char *placeholder, const char *value)
{
	const char *at = strstr(text, placeholder);
	char *filled;

	if (at == NULL)
		return strdup(text);
	/* Only the first placeholder is filled: config texts are not format strings. */
	if (asprintf(&filled, "%.*s%s%s", (int)(at - text), text, value,
	    at + strlen(placeholder)) < 0)
		return NULL;
	return filled;
}
