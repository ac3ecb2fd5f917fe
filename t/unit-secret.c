/* unit-secret.c: secret.c: Argon2id against RFC 9106, PHC strings, passwords and tokens. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "tap.h"

/* RFC 9106 section 5.3: Argon2id with secret and associated data. */
static void
test_argon2id_rfc9106(void)
{
	const struct secret_argon2 params = { 32, 3, 4 };
	unsigned char password[32], salt[16], key[8], ad[12], tag[32];
	char got[65];

	memset(password, 0x01, sizeof(password));
	memset(salt, 0x02, sizeof(salt));
	memset(key, 0x03, sizeof(key));
	memset(ad, 0x04, sizeof(ad));
	tap_ok(secret_argon2id(password, sizeof(password), salt, sizeof(salt), key, sizeof(key),
	    ad, sizeof(ad), &params, tag, sizeof(tag)) == 0, "argon2id computes the RFC 9106 case");
	tap_hex(tag, sizeof(tag), got);
	tap_is(got, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659",
	    "argon2id gives RFC 9106 section 5.3's tag");
}

static void
test_password_round_trip(void)
{
	char phc[SECRET_PHC_MAX], other[SECRET_PHC_MAX], again[SECRET_PHC_MAX];
	struct secret_phc parsed;
	int outdated;

	tap_ok(secret_password_hash("correct horse battery", phc) == 0, "a password hashes");
	tap_ok(strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0,
	    "with OWASP's parameters, in PHC form");
	tap_ok(strchr(phc + 31, '=') == NULL,
	    "its base64 is unpadded");
	tap_ok(secret_phc_parse(phc, &parsed) == 0 && parsed.salt_length == 16 &&
	    parsed.hash_length == 32, "the PHC string parses: 16-byte salt, 32-byte hash");
	tap_ok(secret_phc_format(&parsed, again, sizeof(again)) == 0 && strcmp(again, phc) == 0,
	    "and formats back to the same text");
	tap_ok(secret_password_verify("correct horse battery", phc, &outdated) == 1 && !outdated,
	    "the right password matches, current parameters");
	tap_ok(secret_password_verify("correct horse batterY", phc, &outdated) == 0,
	    "a wrong password does not");
	tap_ok(secret_password_verify("correct horse battery", NULL, &outdated) == 0,
	    "no stored hash (unknown account) never matches");
	tap_ok(secret_password_hash("correct horse battery", other) == 0 && strcmp(other, phc) != 0,
	    "each hash has its own salt");

	/* An older, weaker hash of the same password: matches and asks for a rehash. */
	parsed.params.memory_kib = 4096;
	parsed.params.passes = 1;
	tap_ok(secret_argon2id("correct horse battery", 21, parsed.salt, parsed.salt_length,
	    NULL, 0, NULL, 0, &parsed.params, parsed.hash, parsed.hash_length) == 0 &&
	    secret_phc_format(&parsed, other, sizeof(other)) == 0, "a weaker hash is made");
	tap_ok(secret_password_verify("correct horse battery", other, &outdated) == 1 && outdated,
	    "it matches and is marked outdated");
}

static void
test_phc_refusals(void)
{
	static const char *const bad[] = {
		"",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0=$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0$AAAA",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAB",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0",
	};
	struct secret_phc phc;
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "malformed PHC string %zu is refused", i + 1);
		tap_ok(secret_phc_parse(bad[i], &phc) != 0, name);
	}
	tap_ok(secret_phc_parse("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0"
	    "$AAAAAAAAAAAAAAAAAAAAAA", &phc) == 0, "a well-formed one parses");
}

static void
test_passwords_acceptable(void)
{
	char long_password[SECRET_PASSWORD_MAX + 2];

	tap_ok(!secret_password_acceptable("123456789"), "9 characters are too few");
	tap_ok(secret_password_acceptable("1234567890"), "10 are enough, no composition rules");
	tap_ok(!secret_password_acceptable("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9"), "9 characters in 18 bytes are too few");
	tap_ok(secret_password_acceptable("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9 "), "any characters count");
	tap_ok(!secret_password_acceptable("abcdefghij\xff"), "bad UTF-8 is refused");
	memset(long_password, 'a', sizeof(long_password) - 1);
	long_password[SECRET_PASSWORD_MAX] = '\0';
	tap_ok(secret_password_acceptable(long_password), "256 bytes are allowed");
	long_password[SECRET_PASSWORD_MAX] = 'a';
	long_password[SECRET_PASSWORD_MAX + 1] = '\0';
	tap_ok(!secret_password_acceptable(long_password), "257 bytes are not");
}

static void
test_tokens(void)
{
	char a[SECRET_TOKEN_SIZE], b[SECRET_TOKEN_SIZE], hash[SECRET_HASH_SIZE];
	char form[SECRET_TOKEN_SIZE];

	tap_ok(secret_token_new(a) == 0 && secret_token_new(b) == 0 && strcmp(a, b) != 0,
	    "tokens are random");
	tap_ok(strlen(a) == 43 && secret_token_plausible(a), "43 base64url characters (256 bits)");
	tap_ok(!secret_token_plausible("short") && !secret_token_plausible(
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP="), "other shapes are not tokens");
	secret_token_hash("abc", hash);
	tap_is(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "a token is kept as its SHA-256 (FIPS 180-2 'abc')");
	tap_ok(secret_form_token(a, form) == 0 && secret_form_token_ok(a, form),
	    "a session's form token checks");
	tap_ok(!secret_form_token_ok(b, form) && !secret_form_token_ok(a, NULL) &&
	    !secret_form_token_ok(a, ""), "another session's, or none, does not");
}

int
main(void)
{
	test_argon2id_rfc9106();
	test_password_round_trip();
	test_phc_refusals();
	test_passwords_acceptable();
	test_tokens();
	return tap_done();
}
