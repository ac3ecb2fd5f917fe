/* crypto.c: hashing, MACs and base64, all on top of libgcrypt. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "crypto.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
crypto_init(void)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return 0;
	if (gcry_check_version(GCRYPT_VERSION) == NULL)
		return -1;
	/* We keep no long-lived keys, so secure memory buys nothing here. */
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	return 0;
}

char *
base64_encode(const void *data, size_t length)
{
	const unsigned char *in = data;
	char *out, *p;
	size_t i;

	if (length > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	if ((out = malloc((length + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	p = out;
	for (i = 0; i + 2 < length; i += 3) {
		*p++ = base64_alphabet[in[i] >> 2];
		*p++ = base64_alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
		*p++ = base64_alphabet[(in[i + 1] & 0x0f) << 2 | in[i + 2] >> 6];
		*p++ = base64_alphabet[in[i + 2] & 0x3f];
	}
	if (i < length) {
		*p++ = base64_alphabet[in[i] >> 2];
		if (i + 1 < length) {
			*p++ = base64_alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
			*p++ = base64_alphabet[(in[i + 1] & 0x0f) << 2];
		} else {
			*p++ = base64_alphabet[(in[i] & 0x03) << 4];
			*p++ = '=';
		}
		*p++ = '=';
	}
	*p = '\0';
	return out;
}

char *
base64url_encode(const void *data, size_t length)
{
	char *text = base64_encode(data, length), *p;

	if (text == NULL)
		return NULL;
	for (p = text; *p != '\0' && *p != '='; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	*p = '\0';
	return text;
}

int
crypto_random(void *buffer, size_t length)
{
	if (crypto_init() != 0)
		return -1;
	gcry_randomize(buffer, length, GCRY_STRONG_RANDOM);
	return 0;
}

static int
base64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(base64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - base64_alphabet);
}

int
base64_decode(const char *text, size_t text_length,
    unsigned char **out, size_t *out_length)
{
	unsigned char *buffer;
	size_t i, n = 0, padding = 0;
	int v[4], k;

	*out = NULL;
	*out_length = 0;
	if (text_length % 4 != 0)
		return -1;
	if (text_length > 0 && text[text_length - 1] == '=')
		padding++;
	if (text_length > 1 && text[text_length - 2] == '=')
		padding++;
	if ((buffer = malloc(text_length / 4 * 3 + 1)) == NULL)
		return -1;
	for (i = 0; i < text_length; i += 4) {
		int last = i + 4 == text_length;

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)padding)
				v[k] = 0;
			else if ((v[k] = base64_value(text[i + k])) < 0)
				goto bad;
		}
		buffer[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (last && padding == 2) {
			/* RFC 4648 section 3.5: unused bits must be zero. */
			if (v[1] & 0x0f)
				goto bad;
			break;
		}
		buffer[n++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (last && padding == 1) {
			if (v[2] & 0x03)
				goto bad;
			break;
		}
		buffer[n++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	}
	buffer[n] = '\0';
	*out = buffer;
	*out_length = n;
	return 0;
bad:
	crypto_wipe(buffer, text_length / 4 * 3 + 1);
	free(buffer);
	return -1;
}

void
crypto_md5(const void *data, size_t length, unsigned char digest[CRYPTO_MD5_LENGTH])
{
	crypto_init();
	gcry_md_hash_buffer(GCRY_MD_MD5, digest, data, length);
}

static int
hmac_sha256_open(gcry_mac_hd_t *mac, const void *key, size_t key_length,
    const void *message, size_t message_length)
{
	/* Initialised here, on first use: join.cgi never needs libgcrypt at all. */
	if (crypto_init() != 0 || gcry_mac_open(mac, GCRY_MAC_HMAC_SHA256, 0, NULL) != 0)
		return -1;
	if (gcry_mac_setkey(*mac, key, key_length) != 0 ||
	    gcry_mac_write(*mac, message, message_length) != 0) {
		gcry_mac_close(*mac);
		return -1;
	}
	return 0;
}

int
crypto_hmac_sha256(const void *key, size_t key_length,
    const void *message, size_t message_length,
    unsigned char mac[CRYPTO_SHA256_LENGTH])
{
	gcry_mac_hd_t handle;
	size_t length = CRYPTO_SHA256_LENGTH;
	int rc;

	if (hmac_sha256_open(&handle, key, key_length, message, message_length) != 0)
		return -1;
	rc = gcry_mac_read(handle, mac, &length) == 0 ? 0 : -1;
	gcry_mac_close(handle);
	return rc;
}

int
crypto_hmac_sha256_verify(const void *key, size_t key_length,
    const void *message, size_t message_length,
    const unsigned char *mac, size_t mac_length)
{
	gcry_mac_hd_t handle;
	int ok;

	if (mac_length != CRYPTO_SHA256_LENGTH)
		return 0;
	if (hmac_sha256_open(&handle, key, key_length, message, message_length) != 0)
		return 0;
	/* gcry_mac_verify compares in constant time. */
	ok = gcry_mac_verify(handle, mac, mac_length) == 0;
	gcry_mac_close(handle);
	return ok;
}

int
crypto_equal(const void *a, const void *b, size_t length)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char difference = 0;
	size_t i;

	for (i = 0; i < length; i++)
		difference |= x[i] ^ y[i];
	return difference == 0;
}

void
crypto_wipe(void *data, size_t length)
{
	if (data != NULL)
		explicit_bzero(data, length);
}
