/* unit-configfile.c: configfile.c's parser, fed through fmemopen: every line checked, every limit held. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configfile.h"
#include "tap.h"

#define SECRET	"zLq1b3hJ9kQ2Zk5tM0c3dA=="
#define BASE	"application_key = 5b0f3a4e-9c1d\n" \
		"application_secret = " SECRET "\n" \
		"database = /var/lib/pinconf/pinconf.db\n"

static char why[512];

/* Parse text of length bytes; 0 or -1 as config_read() says.  config is freed unless kept. */
static int
parse_length(const char *text, size_t length, struct config *keep)
{
	struct config config;
	FILE *file;
	int rc;

	why[0] = '\0';
	/* fmemopen refuses a size of 0: an empty file is a file with nothing to read. */
	if ((file = fmemopen((void *)(length > 0 ? text : "x"), length > 0 ? length : 1, "r")) == NULL)
		return -2;
	if (length == 0)
		fgetc(file);
	rc = config_read(&config, file, why, sizeof(why));
	fclose(file);
	if (rc == 0 && keep != NULL)
		*keep = config;
	else if (rc == 0)
		config_free(&config);
	return rc;
}

static int
parse(const char *text, struct config *keep)
{
	return parse_length(text, strlen(text), keep);
}

/* A refusal: -1, a reason naming pattern, and never the secret. */
static void
refused(const char *text, const char *pattern, const char *name)
{
	int rc = parse(text, NULL);

	tap_ok(rc == -1 && strstr(why, pattern) != NULL && strstr(why, SECRET) == NULL &&
	    strstr(why, "zLq1b3hJ9kQ2Zk5tM0c3dA") == NULL, name);
	if (rc != -1 || strstr(why, pattern) == NULL)
		printf("#   rc %d, why '%s', wanted '%s'\n", rc, why, pattern);
}

static void
accepted(const char *text, const char *name)
{
	int rc = parse(text, NULL);

	tap_ok(rc == 0, name);
	if (rc != 0)
		printf("#   why '%s'\n", why);
}

static char *
with(const char *extra)
{
	static char text[8192];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	return text;
}

static void
test_last_line(void)
{
	struct config config;
	char text[2048];

	accepted(BASE, "a file of three required keys is read");
	accepted("application_key = k\napplication_secret = " SECRET "\ndatabase = /d.db",
	    "a last line without a newline is read");
	if (parse("application_key = k\napplication_secret = " SECRET "\ndatabase = /d.db",
	    &config) == 0) {
		tap_is(config.database, "/d.db", "a last line without a newline keeps its whole value");
		config_free(&config);
	} else
		tap_ok(0, "a last line without a newline keeps its whole value");
	refused(with("bogus key = zzz"), "line 4", "a broken last line without a newline is refused");
	refused(with("bogus key = zzz\n"), "line 4", "a broken last line with a newline is refused");
	refused(with("no equals sign"), "line 4: expected key = value",
	    "a last line with no = and no newline is refused");
	refused(with("pin_attempts = 99"), "pin_attempts",
	    "an out-of-range last value without a newline is refused");
	snprintf(text, sizeof(text), "application_key = k\napplication_secret = " SECRET
	    "\ndatabase = %0600d", 0);
	refused(text, "database", "a refused required value as the unterminated last line fails, no crash");
	snprintf(text, sizeof(text), "database = %0600d\napplication_key = k\n"
	    "application_secret = " SECRET "\n", 0);
	refused(text, "line 1: database", "a refused required value on the first line fails");
	refused("application_key = k\napplication_secret = " SECRET "\ndatabase = ",
	    "database", "an empty required value at the end fails");
}

static void
test_lines(void)
{
	struct config config;
	char text[2200], line[1100];
	int rc;

	refused("", "required key application_key is missing", "an empty file is refused");
	refused("# only a comment\n\n", "required key", "a file of comments is refused");
	refused("application_secret = " SECRET "\ndatabase = /d\n",
	    "required key application_key is missing", "a missing application_key is named");
	refused("application_key = k\ndatabase = /d\n",
	    "required key application_secret is missing", "a missing application_secret is named");
	refused("application_key = k\napplication_secret = " SECRET "\n",
	    "required key database is missing", "a missing database is named");
	refused(with("database = /other.db\n"), "line 4: database given twice",
	    "a duplicate key is refused");
	refused(with("moh = ring\nmoh = ring\n"), "moh given twice", "a duplicate optional key is refused");
	refused(with("colour = blue\n"), "unknown key 'colour'", "an unknown key is named");
	refused(with("Colour-Scheme = blue\n"), "line 4: not a key = value line",
	    "an unknown key that is no key name is not quoted");
	refused(with("application_secrte = " SECRET "\n"), "unknown key 'application_secrte'",
	    "a mistyped secret key names the key, never the value");
	refused(with(SECRET "\n"), "line 4", "a line that is only the secret is refused unquoted");

	rc = parse("application_key = k\r\napplication_secret = " SECRET "\r\n"
	    "database = /d.db\r\nmoh = music1\r\n", &config);
	tap_ok(rc == 0 && strcmp(config.database, "/d.db") == 0 && strcmp(config.moh, "music1") == 0,
	    "CRLF line ends are read, the CR is no part of the value");
	if (rc == 0)
		config_free(&config);
	accepted(with("  # indented comment\n\t\n   moh   =   music2   \n"),
	    "blank lines, comments and spaces around = are read");

	memset(line, 'x', sizeof(line));
	line[0] = '#';
	snprintf(text, sizeof(text), "%s%.1022s\n", BASE, line);
	accepted(text, "a line of 1022 bytes (the limit) is read");
	snprintf(text, sizeof(text), "%s%.1023s\n", BASE, line);
	refused(text, "line 4: longer than 1022 bytes", "a line of 1023 bytes is refused");
	snprintf(text, sizeof(text), "%s%.1023s", BASE, line);
	refused(text, "line 4: longer than", "a last line of 1023 bytes without a newline is refused");
	snprintf(text, sizeof(text), "%.1050s\n%s", line, BASE);
	refused(text, "line 1: longer than", "an overlong first line is refused");
	tap_ok(parse_length(BASE "moh = ri\0ng\n", sizeof(BASE "moh = ri\0ng\n") - 1, NULL) == -1 &&
	    strstr(why, "line 4: holds a NUL byte") != NULL, "a NUL byte inside a line is refused as such");
	tap_ok(parse_length(BASE "moh = ring\0x", sizeof(BASE "moh = ring\0x") - 1, NULL) == -1 &&
	    strstr(why, "line 4: holds a NUL byte") != NULL,
	    "a NUL byte inside an unterminated last line is refused, not cut there");
	refused(with("say_welcome = a\x01" "b\n"), "say_welcome", "a control character in a value is refused");
}

static void
test_limits(void)
{
	static const struct {
		const char	*key;
		long		 minimum, maximum;
	} integers[] = {
		{ "timestamp_window", 1, 86400 },
		{ "pin_attempts", 1, 10 },
		{ "menu_timeout", 1, 30 },
		{ "busy_timeout", 0, 4500 },
		{ "ticket_expires", 60, 86400 },
		{ "retention_days", 0, 36500 },
	};
	char line[700], name[200], value[600];
	size_t i;

	for (i = 0; i < sizeof(integers) / sizeof(integers[0]); i++) {
		snprintf(line, sizeof(line), "%s = %ld\n", integers[i].key, integers[i].minimum);
		snprintf(name, sizeof(name), "%s at its minimum %ld is read", integers[i].key,
		    integers[i].minimum);
		accepted(with(line), name);
		snprintf(line, sizeof(line), "%s = %ld\n", integers[i].key, integers[i].maximum);
		snprintf(name, sizeof(name), "%s at its maximum %ld is read", integers[i].key,
		    integers[i].maximum);
		accepted(with(line), name);
		snprintf(line, sizeof(line), "%s = %ld\n", integers[i].key, integers[i].minimum - 1);
		snprintf(name, sizeof(name), "%s below its minimum is refused", integers[i].key);
		refused(with(line), integers[i].key, name);
		snprintf(line, sizeof(line), "%s = %ld\n", integers[i].key, integers[i].maximum + 1);
		snprintf(name, sizeof(name), "%s above its maximum is refused", integers[i].key);
		refused(with(line), integers[i].key, name);
		snprintf(line, sizeof(line), "%s = 99999999999999999999\n", integers[i].key);
		snprintf(name, sizeof(name), "%s past LONG_MAX is refused", integers[i].key);
		refused(with(line), integers[i].key, name);
		snprintf(line, sizeof(line), "%s = 5s\n", integers[i].key);
		snprintf(name, sizeof(name), "%s with a unit is refused", integers[i].key);
		refused(with(line), integers[i].key, name);
	}
	refused(with("pin_attempts =\n"), "pin_attempts", "an empty number is refused");
	accepted(with("verify_signatures = no\n"), "a boolean takes no");
	refused(with("verify_signatures = maybe\n"), "verify_signatures must be yes or no",
	    "a boolean refuses maybe");

	memset(value, 'a', sizeof(value));
	snprintf(line, sizeof(line), "say_welcome = %.512s\n", value);
	accepted(with(line), "a string of 512 bytes (the limit) is read");
	snprintf(line, sizeof(line), "say_welcome = %.513s\n", value);
	refused(with(line), "say_welcome must be printable text of at most 512 bytes",
	    "a string of 513 bytes is refused");
	snprintf(line, sizeof(line), "application_secret = %.513s\n", value);
	refused(line, "application_secret", "an overlong secret is refused without quoting it");
	refused("application_key = k\napplication_secret = not base64!\ndatabase = /d\n",
	    "application_secret is not valid base64", "a secret that is not base64 is refused");
	refused(with("prompt_pin = Code]; #href[x\n"), "prompt_pin", "a prompt that ends #tts[] is refused");
	refused(with("moh = jazz\n"), "moh must be", "an unknown hold music is refused");
	refused(with("timezone = ../../etc/passwd\n"), "timezone", "a timezone outside zoneinfo is refused");
	refused(with("locale = e\n"), "locale", "a one-letter locale is refused");
	refused("application_key = k!\napplication_secret = " SECRET "\ndatabase = /d\n",
	    "application_key", "an application key with punctuation is refused");
}

static void
test_new_keys(void)
{
	struct config config;

	tap_ok(parse(BASE, &config) == 0 && config.accept_basic_auth == 0 &&
	    strcmp(config.trusted_proxies, "") == 0 && strcmp(config.prompt_pin, "") == 0,
	    "by default Basic is refused, no proxy is trusted, the prompt follows pin_length");
	config_free(&config);
	tap_ok(parse(with("accept_basic_auth = yes\n"), &config) == 0 && config.accept_basic_auth == 1,
	    "accept_basic_auth = yes turns Basic on");
	config_free(&config);
	refused(with("accept_basic_auth = sometimes\n"), "accept_basic_auth", "accept_basic_auth is a boolean");
	accepted(with("trusted_proxies = 127.0.0.1, ::1 10.0.0.0/8,2001:db8::/32\n"),
	    "trusted_proxies takes addresses and ranges, commas or spaces");
	refused(with("trusted_proxies = 10.0.0.0/33\n"), "trusted_proxies", "an IPv4 prefix over 32 is refused");
	refused(with("trusted_proxies = proxy.example\n"), "trusted_proxies", "a host name is refused");
	refused(with("trusted_proxies = 10.0.0.1/\n"), "trusted_proxies", "a slash with no bits is refused");
}

/* The owner accounts' keys (issue 17). */
static void
test_owner_keys(void)
{
	struct config config;

	tap_ok(parse(BASE, &config) == 0, "owner keys have defaults");
	tap_ok(*config.owner_domains == '\0' && strcmp(config.sendmail, "/usr/sbin/sendmail") == 0 &&
	    *config.mail_from == '\0' && *config.public_url == '\0' &&
	    config.session_idle_hours == 12 && config.session_max_days == 7 &&
	    !config.trust_remote_user, "nobody may sign up, /usr/sbin/sendmail, 12 hours, 7 days");
	tap_ok(!config_owner_domain_ok(&config, "a@example.com"), "an empty owner_domains admits nobody");
	config_free(&config);
	tap_ok(parse(BASE "owner_domains = example.com, Example.ORG\n"
	    "mail_from = pinconf@example.com\npublic_url = https://conf.example.com\n"
	    "session_idle_hours = 1\nsession_max_days = 30\ntrust_remote_user = yes\n", &config) == 0,
	    "owner keys parse");
	tap_ok(config_owner_domain_ok(&config, "Ann@EXAMPLE.com") &&
	    config_owner_domain_ok(&config, "bob@example.org"), "domains compare without case");
	tap_ok(!config_owner_domain_ok(&config, "eve@example.com.evil.net") &&
	    !config_owner_domain_ok(&config, "eve@sub.example.com") &&
	    !config_owner_domain_ok(&config, "eve@evil.net") &&
	    !config_owner_domain_ok(&config, "example.com") &&
	    !config_owner_domain_ok(&config, "eve@evil.net@example.com") &&
	    !config_owner_domain_ok(&config, "e ve@example.com"),
	    "other domains, subdomains, suffixes and odd addresses are not admitted");
	tap_ok(config.session_idle_hours == 1 && config.session_max_days == 30 &&
	    config.trust_remote_user, "lifetimes and trust_remote_user are read");
	config_free(&config);
	refused(with("owner_domains = example..com\n"), "owner_domains", "a bad domain is refused");
	refused(with("owner_domains = localhost\n"), "owner_domains", "a name without a dot is refused");
	refused(with("sendmail = sendmail\n"), "sendmail", "a relative sendmail is refused");
	refused(with("mail_from = Pinconf <p@example.com>\n"), "mail_from",
	    "mail_from is a bare address");
	refused(with("public_url = https://conf.example.com/pinconf\n"), "public_url",
	    "public_url has no path");
	refused(with("public_url = javascript:alert(1)\n"), "public_url", "public_url is http(s)");
	refused(with("session_idle_hours = 0\n"), "session_idle_hours", "an idle lifetime of 0 is refused");
	refused(with("session_max_days = 366\n"), "session_max_days", "more than a year is refused");
}

int
main(void)
{
	test_last_line();
	test_lines();
	test_limits();
	test_new_keys();
	test_owner_keys();
	return tap_done();
}
