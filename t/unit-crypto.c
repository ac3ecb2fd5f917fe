/* unit-crypto.c: crypto.c against published vectors: RFC 4231, RFC 4648, RFC 1321. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "tap.h"

static void
fill(unsigned char *buffer, int byte, size_t length)
{
	memset(buffer, byte, length);
}

/* RFC 4231 section 4: HMAC-SHA-256 test cases 1 to 7. */
static void
test_hmac_sha256_rfc4231(void)
{
	static const char *const expected[] = {
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		"a3b6167473100ee06e0c796c2955552b",
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	};
	unsigned char key[131], data[200], mac[CRYPTO_SHA256_LENGTH];
	char got[2 * CRYPTO_SHA256_LENGTH + 1], name[64];
	size_t key_length = 0, data_length = 0, i;
	int test;

	for (test = 1; test <= 7; test++) {
		switch (test) {
		case 1:
			fill(key, 0x0b, key_length = 20);
			memcpy(data, "Hi There", data_length = 8);
			break;
		case 2:
			memcpy(key, "Jefe", key_length = 4);
			memcpy(data, "what do ya want for nothing?", data_length = 28);
			break;
		case 3:
			fill(key, 0xaa, key_length = 20);
			fill(data, 0xdd, data_length = 50);
			break;
		case 4:
			for (i = 0; i < 25; i++)
				key[i] = (unsigned char)(i + 1);
			key_length = 25;
			fill(data, 0xcd, data_length = 50);
			break;
		case 5:
			fill(key, 0x0c, key_length = 20);
			memcpy(data, "Test With Truncation", data_length = 20);
			break;
		case 6:
			fill(key, 0xaa, key_length = 131);
			data_length = strlen("Test Using Larger Than Block-Size Key - Hash Key First");
			memcpy(data, "Test Using Larger Than Block-Size Key - Hash Key First", data_length);
			break;
		case 7:
			fill(key, 0xaa, key_length = 131);
			data_length = strlen("This is a test using a larger than block-size key and a larger "
			    "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.");
			memcpy(data, "This is a test using a larger than block-size key and a larger "
			    "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
			    data_length);
			break;
		}
		crypto_hmac_sha256(key, key_length, data, data_length, mac);
		tap_hex(mac, test == 5 ? 16 : CRYPTO_SHA256_LENGTH, got);
		snprintf(name, sizeof(name), "HMAC-SHA256 RFC 4231 test case %d", test);
		tap_is(got, expected[test - 1], name);
		if (test != 5) {
			snprintf(name, sizeof(name), "RFC 4231 case %d verifies", test);
			tap_ok(crypto_hmac_sha256_verify(key, key_length, data, data_length,
			    mac, sizeof(mac)), name);
			mac[0] ^= 1;
			snprintf(name, sizeof(name), "RFC 4231 case %d with one bit flipped fails", test);
			tap_ok(!crypto_hmac_sha256_verify(key, key_length, data, data_length,
			    mac, sizeof(mac)), name);
		}
	}
	tap_ok(!crypto_hmac_sha256_verify("k", 1, "m", 1, mac, 16), "a truncated MAC never verifies");
}

/* RFC 4648 section 10. */
static void
test_base64_rfc4648(void)
{
	static const char *const vectors[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	unsigned char *decoded;
	char *encoded, name[64];
	size_t i, length;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		encoded = base64_encode(vectors[i][0], strlen(vectors[i][0]));
		snprintf(name, sizeof(name), "base64 of \"%s\" is \"%s\"", vectors[i][0], vectors[i][1]);
		tap_is(encoded, vectors[i][1], name);
		free(encoded);
		snprintf(name, sizeof(name), "\"%s\" decodes to \"%s\"", vectors[i][1], vectors[i][0]);
		tap_ok(base64_decode(vectors[i][1], strlen(vectors[i][1]), &decoded, &length) == 0 &&
		    length == strlen(vectors[i][0]) && memcmp(decoded, vectors[i][0], length) == 0, name);
		free(decoded);
	}
}

/* RFC 4648 section 5: the URL-safe alphabet, and JWTs (RFC 7515) drop the padding. */
static void
test_base64url_rfc4648(void)
{
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
	static const char *const vectors[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
	};
	char *encoded, name[64];
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		encoded = base64url_encode(vectors[i][0], strlen(vectors[i][0]));
		snprintf(name, sizeof(name), "base64url of \"%s\" is \"%s\"", vectors[i][0],
		    vectors[i][1]);
		tap_is(encoded, vectors[i][1], name);
		free(encoded);
	}
	encoded = base64url_encode(bytes, sizeof(bytes));
	tap_is(encoded, "-_-_", "base64url uses - and _ where base64 has + and /");
	free(encoded);
}

static void
test_base64_refuses_malformed(void)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zm9v\n", "Zm 9v", "Zm9v====", "Z=g=", "Zh==", "Zm9=",
		"Zm-v", "Zm_v", "=Zm9",
	};
	unsigned char *decoded;
	char name[64];
	size_t i, length;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "base64 refuses \"%s\"", bad[i]);
		tap_ok(base64_decode(bad[i], strlen(bad[i]), &decoded, &length) == -1 &&
		    decoded == NULL, name);
	}
}

/* RFC 1321 appendix A.5. */
static void
test_md5_rfc1321(void)
{
	unsigned char digest[CRYPTO_MD5_LENGTH];
	char got[2 * CRYPTO_MD5_LENGTH + 1];

	crypto_md5("", 0, digest);
	tap_hex(digest, sizeof(digest), got);
	tap_is(got, "d41d8cd98f00b204e9800998ecf8427e", "MD5 of the empty string");
	crypto_md5("abc", 3, digest);
	tap_hex(digest, sizeof(digest), got);
	tap_is(got, "900150983cd24fb0d6963f7d28e17f72", "MD5 of \"abc\"");
}

static void
test_constant_time_equal(void)
{
	tap_ok(crypto_equal("abcd", "abcd", 4), "equal buffers compare equal");
	tap_ok(!crypto_equal("abcd", "abce", 4), "a difference in the last byte is found");
	tap_ok(!crypto_equal("xbcd", "abcd", 4), "a difference in the first byte is found");
}

int
main(void)
{
	if (crypto_init() != 0) {
		printf("Bail out! libgcrypt does not initialise\n");
		return 1;
	}
	test_hmac_sha256_rfc4231();
	test_base64_rfc4648();
	test_base64url_rfc4648();
	test_base64_refuses_malformed();
	test_md5_rfc1321();
	test_constant_time_equal();
	return tap_done();
}
