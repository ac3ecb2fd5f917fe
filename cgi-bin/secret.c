/* secret.c: owners' secrets: Argon2id password hashes (PHC strings), random tokens kept as hashes. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "crypto.h"
#include "secret.h"

const struct secret_argon2 secret_argon2_current = { 19456, 2, 1 };

/*
 * Bounds on what a stored hash may ask of us: a row written by hand (or a
 * fuzzer) must not make a login allocate gigabytes or spin for minutes.
 */
#define ARGON2_MEMORY_MAX	(256UL * 1024)	/* KiB */
#define ARGON2_PASSES_MAX	16UL
#define ARGON2_LANES_MAX	8UL
#define HASH_LENGTH		32
#define SALT_LENGTH		16

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
secret_argon2id(const void *password, size_t password_length, const void *salt,
    size_t salt_length, const void *key, size_t key_length, const void *ad, size_t ad_length,
    const struct secret_argon2 *params, unsigned char *out, size_t out_length)
{
	unsigned long parameters[4] = { out_length, params->passes, params->memory_kib,
	    params->lanes };
	gcry_kdf_hd_t handle;
	int rc = -1;

	if (crypto_init() != 0)
		return -1;
	/* libgcrypt wants a non-NULL password even when it is empty. */
	if (gcry_kdf_open(&handle, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, parameters, 4,
	    password_length > 0 ? password : "", password_length, salt, salt_length,
	    key, key_length, ad, ad_length) != 0)
		return -1;
	if (gcry_kdf_compute(handle, NULL) == 0 && gcry_kdf_final(handle, out_length, out) == 0)
		rc = 0;
	gcry_kdf_close(handle);
	return rc;
}

/* PHC's base64: the standard alphabet without padding. */
static int
phc_base64_encode(const unsigned char *data, size_t length, char *out, size_t size)
{
	size_t i, used = 0;
	unsigned long group;
	int bits, count;

	for (i = 0; i < length; i += 3) {
		count = length - i >= 3 ? 3 : (int)(length - i);
		group = (unsigned long)data[i] << 16;
		if (count > 1)
			group |= (unsigned long)data[i + 1] << 8;
		if (count > 2)
			group |= data[i + 2];
		for (bits = 18; bits >= 18 - 6 * count; bits -= 6) {
			if (used + 1 >= size)
				return -1;
			out[used++] = base64_alphabet[(group >> bits) & 0x3f];
		}
	}
	out[used] = '\0';
	return 0;
}

/* Decode exactly length characters; -1 on a bad character, a bad length or unused bits set. */
static int
phc_base64_decode(const char *text, size_t length, unsigned char *out, size_t size,
    size_t *out_length)
{
	unsigned long group = 0;
	size_t i, used = 0;
	int bits = 0;
	const char *at;

	if (length % 4 == 1)
		return -1;
	for (i = 0; i < length; i++) {
		if (text[i] == '\0' || (at = strchr(base64_alphabet, text[i])) == NULL)
			return -1;
		group = (group << 6) | (unsigned long)(at - base64_alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (used >= size)
				return -1;
			out[used++] = (unsigned char)(group >> bits);
			group &= (1UL << bits) - 1;
		}
	}
	if (group != 0)
		return -1;
	*out_length = used;
	return 0;
}

/* "name=DIGITS" at *text, 1 to 10 digits, no leading zero; advances *text. */
static int
phc_number(const char **text, const char *name, unsigned long *value)
{
	size_t length = strlen(name), digits;

	if (strncmp(*text, name, length) != 0 || (*text)[length] != '=')
		return -1;
	*text += length + 1;
	digits = strspn(*text, "0123456789");
	if (digits == 0 || digits > 10 || (digits > 1 && **text == '0'))
		return -1;
	*value = strtoul(*text, NULL, 10);
	*text += digits;
	return 0;
}

int
secret_phc_parse(const char *text, struct secret_phc *phc)
{
	const char *end;
	unsigned long version;

	memset(phc, 0, sizeof(*phc));
	if (strncmp(text, "$argon2id$", 10) != 0)
		return -1;
	text += 10;
	if (phc_number(&text, "v", &version) != 0 || version != 19 || *text++ != '$')
		return -1;
	if (phc_number(&text, "m", &phc->params.memory_kib) != 0 || *text++ != ',' ||
	    phc_number(&text, "t", &phc->params.passes) != 0 || *text++ != ',' ||
	    phc_number(&text, "p", &phc->params.lanes) != 0 || *text++ != '$')
		return -1;
	if (phc->params.lanes < 1 || phc->params.lanes > ARGON2_LANES_MAX ||
	    phc->params.passes < 1 || phc->params.passes > ARGON2_PASSES_MAX ||
	    phc->params.memory_kib < 8 * phc->params.lanes ||
	    phc->params.memory_kib > ARGON2_MEMORY_MAX)
		return -1;
	if ((end = strchr(text, '$')) == NULL ||
	    phc_base64_decode(text, (size_t)(end - text), phc->salt, sizeof(phc->salt),
	    &phc->salt_length) != 0 || phc->salt_length < 8)
		return -1;
	text = end + 1;
	if (phc_base64_decode(text, strlen(text), phc->hash, sizeof(phc->hash),
	    &phc->hash_length) != 0 || phc->hash_length < 16)
		return -1;
	return 0;
}

int
secret_phc_format(const struct secret_phc *phc, char *out, size_t size)
{
	char salt[96], hash[96];
	int length;

	if (phc_base64_encode(phc->salt, phc->salt_length, salt, sizeof(salt)) != 0 ||
	    phc_base64_encode(phc->hash, phc->hash_length, hash, sizeof(hash)) != 0)
		return -1;
	length = snprintf(out, size, "$argon2id$v=19$m=%lu,t=%lu,p=%lu$%s$%s",
	    phc->params.memory_kib, phc->params.passes, phc->params.lanes, salt, hash);
	return length > 0 && (size_t)length < size ? 0 : -1;
}

int
secret_password_hash(const char *password, char out[SECRET_PHC_MAX])
{
	struct secret_phc phc;
	int rc = -1;

	memset(&phc, 0, sizeof(phc));
	phc.params = secret_argon2_current;
	phc.salt_length = SALT_LENGTH;
	phc.hash_length = HASH_LENGTH;
	if (crypto_random(phc.salt, phc.salt_length) == 0 &&
	    secret_argon2id(password, strlen(password), phc.salt, phc.salt_length, NULL, 0,
	    NULL, 0, &phc.params, phc.hash, phc.hash_length) == 0 &&
	    secret_phc_format(&phc, out, SECRET_PHC_MAX) == 0)
		rc = 0;
	crypto_wipe(&phc, sizeof(phc));
	return rc;
}

int
secret_password_verify(const char *password, const char *stored, int *outdated)
{
	struct secret_phc phc;
	unsigned char computed[64];
	int known, rc = -1;

	*outdated = 0;
	known = stored != NULL && secret_phc_parse(stored, &phc) == 0;
	if (!known) {
		/* Pay what a real check costs, against a salt nobody's hash has. */
		memset(&phc, 0, sizeof(phc));
		phc.params = secret_argon2_current;
		phc.salt_length = SALT_LENGTH;
		phc.hash_length = HASH_LENGTH;
	}
	if (secret_argon2id(password, strlen(password), phc.salt, phc.salt_length, NULL, 0,
	    NULL, 0, &phc.params, computed, phc.hash_length) != 0)
		goto out;
	rc = known && crypto_equal(computed, phc.hash, phc.hash_length);
	*outdated = rc == 1 && (phc.params.memory_kib < secret_argon2_current.memory_kib ||
	    phc.params.passes < secret_argon2_current.passes ||
	    phc.hash_length < HASH_LENGTH || phc.salt_length < SALT_LENGTH);
out:
	crypto_wipe(computed, sizeof(computed));
	crypto_wipe(&phc, sizeof(phc));
	return rc;
}

int
secret_password_acceptable(const char *password)
{
	const unsigned char *p = (const unsigned char *)password;
	size_t characters = 0, bytes = strlen(password), need, i;

	if (bytes > SECRET_PASSWORD_MAX)
		return 0;
	while (*p != '\0') {
		if (*p < 0x80)
			need = 0;
		else if (*p >= 0xc2 && *p <= 0xdf)
			need = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			need = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			need = 3;
		else
			return 0;
		for (i = 1; i <= need; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += need + 1;
		characters++;
	}
	return characters >= SECRET_PASSWORD_MIN;
}

int
secret_token_new(char token[SECRET_TOKEN_SIZE])
{
	unsigned char bytes[32];
	char *text;

	if (crypto_random(bytes, sizeof(bytes)) != 0 ||
	    (text = base64url_encode(bytes, sizeof(bytes))) == NULL)
		return -1;
	crypto_wipe(bytes, sizeof(bytes));
	snprintf(token, SECRET_TOKEN_SIZE, "%s", text);
	crypto_wipe(text, strlen(text));
	free(text);
	return 0;
}

void
secret_token_hash(const char *token, char hash[SECRET_HASH_SIZE])
{
	unsigned char digest[32];
	size_t i;

	crypto_init();
	gcry_md_hash_buffer(GCRY_MD_SHA256, digest, token, strlen(token));
	for (i = 0; i < sizeof(digest); i++)
		snprintf(hash + 2 * i, 3, "%02x", digest[i]);
}

int
secret_token_plausible(const char *token)
{
	size_t i;

	for (i = 0; token[i] != '\0'; i++)
		if (!isalnum((unsigned char)token[i]) && token[i] != '-' && token[i] != '_')
			return 0;
	return i == SECRET_TOKEN_SIZE - 1;
}

int
secret_form_token(const char *cookie_token, char out[SECRET_TOKEN_SIZE])
{
	static const char purpose[] = "pinconf owner form token";
	unsigned char mac[CRYPTO_SHA256_LENGTH];
	char *text;

	if (crypto_hmac_sha256(cookie_token, strlen(cookie_token), purpose, sizeof(purpose) - 1,
	    mac) != 0 || (text = base64url_encode(mac, sizeof(mac))) == NULL)
		return -1;
	snprintf(out, SECRET_TOKEN_SIZE, "%s", text);
	free(text);
	return 0;
}

int
secret_form_token_ok(const char *cookie_token, const char *given)
{
	char expected[SECRET_TOKEN_SIZE];

	if (given == NULL || strlen(given) != SECRET_TOKEN_SIZE - 1 ||
	    secret_form_token(cookie_token, expected) != 0)
		return 0;
	return crypto_equal(expected, given, SECRET_TOKEN_SIZE - 1);
}
