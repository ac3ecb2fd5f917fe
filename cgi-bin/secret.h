/* secret.h: owners' secrets: Argon2id password hashes (PHC strings), random tokens kept as hashes. */
#ifndef PINCONF_SECRET_H
#define PINCONF_SECRET_H

#include <stddef.h>

#define SECRET_TOKEN_SIZE	44	/* base64url of 32 random bytes, NUL included */
#define SECRET_HASH_SIZE	65	/* SHA-256 in lower-case hex, NUL included */
#define SECRET_PASSWORD_MIN	10	/* characters (code points) */
#define SECRET_PASSWORD_MAX	256	/* bytes */
#define SECRET_PHC_MAX		256	/* the longest PHC string we write or read */

/* Argon2id parameters: memory in KiB, passes, lanes. */
struct secret_argon2 {
	unsigned long	 memory_kib;
	unsigned long	 passes;
	unsigned long	 lanes;
};

/* What we hash new passwords with: OWASP's minimum (m=19 MiB, t=2, p=1). */
extern const struct secret_argon2 secret_argon2_current;

/* A parsed "$argon2id$v=19$m=..,t=..,p=..$salt$hash". */
struct secret_phc {
	struct secret_argon2	 params;
	unsigned char		 salt[64];
	size_t			 salt_length;	/* 8 to 64 */
	unsigned char		 hash[64];
	size_t			 hash_length;	/* 16 to 64 */
};

/* Raw Argon2id (RFC 9106) through libgcrypt; secret and ad may be NULL.  0 on success. */
int	 secret_argon2id(const void *password, size_t password_length,
	    const void *salt, size_t salt_length, const void *key, size_t key_length,
	    const void *ad, size_t ad_length, const struct secret_argon2 *,
	    unsigned char *out, size_t out_length);

/* Parse a PHC string strictly, with bounded parameters; 0, or -1 if malformed. */
int	 secret_phc_parse(const char *text, struct secret_phc *);
/* Write a PHC string (unpadded standard base64, as PHC says); 0, or -1 if it does not fit. */
int	 secret_phc_format(const struct secret_phc *, char *out, size_t size);

/* Hash password with fresh salt and the current parameters into a PHC string; 0 on success. */
int	 secret_password_hash(const char *password, char out[SECRET_PHC_MAX]);
/*
 * 1 if password matches phc (compared in constant time), 0 if not or phc is
 * NULL or malformed (the Argon2 cost is then paid all the same, so an
 * unknown account answers as slowly as a wrong password), -1 on a fault.
 * *outdated is set when phc's parameters are below the current ones.
 */
int	 secret_password_verify(const char *password, const char *phc, int *outdated);
/* 1 if password is valid UTF-8 of SECRET_PASSWORD_MIN characters to SECRET_PASSWORD_MAX bytes. */
int	 secret_password_acceptable(const char *password);

/* A new random token (256 bits, base64url); 0 on success. */
int	 secret_token_new(char token[SECRET_TOKEN_SIZE]);
/* What the database keeps of a token: its SHA-256 in hex. */
void	 secret_token_hash(const char *token, char hash[SECRET_HASH_SIZE]);
/* 1 if token is shaped like ours (43 base64url characters). */
int	 secret_token_plausible(const char *token);
/* The form token of a session (or pre-login) cookie token: HMAC-SHA256, base64url. */
int	 secret_form_token(const char *cookie_token, char out[SECRET_TOKEN_SIZE]);
/* 1 if given is cookie_token's form token, compared in constant time. */
int	 secret_form_token_ok(const char *cookie_token, const char *given);

#endif
