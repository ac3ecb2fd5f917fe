/* crypto.h: hashing, MACs and base64, all on top of libgcrypt. */
#ifndef PINCONF_CRYPTO_H
#define PINCONF_CRYPTO_H

#include <stddef.h>

#define CRYPTO_MD5_LENGTH	16
#define CRYPTO_SHA256_LENGTH	32

/* Initialise libgcrypt once per process (the hashing functions do it on first use); 0 on success. */
int	 crypto_init(void);

/* Base64 (RFC 4648, standard alphabet, padded) of length bytes; malloc'd, NULL on ENOMEM. */
char	*base64_encode(const void *data, size_t length);

/* Base64url (RFC 4648 section 5) without padding, as JWTs use (RFC 7515); malloc'd. */
char	*base64url_encode(const void *data, size_t length);

/* length unpredictable bytes from libgcrypt's strong generator; 0 on success. */
int	 crypto_random(void *buffer, size_t length);

/* Strictly decode padded base64 text; *out is malloc'd and NUL-terminated.
 * Returns 0, or -1 on bad input or ENOMEM. */
int	 base64_decode(const char *text, size_t text_length,
	    unsigned char **out, size_t *out_length);

void	 crypto_md5(const void *data, size_t length,
	    unsigned char digest[CRYPTO_MD5_LENGTH]);

/* HMAC-SHA256 of message under key; 0 on success. */
int	 crypto_hmac_sha256(const void *key, size_t key_length,
	    const void *message, size_t message_length,
	    unsigned char mac[CRYPTO_SHA256_LENGTH]);

/* 1 if mac is the HMAC-SHA256 of message under key, compared in constant time. */
int	 crypto_hmac_sha256_verify(const void *key, size_t key_length,
	    const void *message, size_t message_length,
	    const unsigned char *mac, size_t mac_length);

/* 1 if the two buffers of equal length are equal; time depends on length only. */
int	 crypto_equal(const void *a, const void *b, size_t length);

/* Overwrite a secret so it does not linger in freed memory. */
void	 crypto_wipe(void *data, size_t length);

#endif
