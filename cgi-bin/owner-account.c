/* owner-account.c: owner.cgi's account pages: sign up, confirm, log in and out, forgot, reset, change password. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "crypto.h"
#include "db.h"
#include "db-owner.h"
#include "owner.h"
#include "secret.h"

#define PASSWORD_RULE	"Use at least 10 characters (at most 256 bytes); any characters will do."
#define MISMATCH	"The two passwords are not the same."
#define BAD_LINK	"This link does not work: it was used already, has expired, or is" \
			" incomplete. Ask for a new one."
#define MAIL_FAILED	"We could not send you a mail, so nothing was saved. Try again later."
#define WRONG_LOGIN	"The e-mail or the password is wrong, or the address is not confirmed yet."

/* What a sign-up, log-in or reset form sent, and what is wrong with it. */
struct account_form {
	char		*email;
	char		*password;
	char		*password2;
	char		*current;
	char		*token;
	const char	*email_error;
	const char	*password_error;
	const char	*password2_error;
	const char	*current_error;
};

static void
account_form_read(struct owner *owner, struct account_form *form)
{
	char *end, *start;

	memset(form, 0, sizeof(*form));
	form->email = owner_posted(owner, "email");
	form->password = owner_posted(owner, "password");
	form->password2 = owner_posted(owner, "password2");
	form->current = owner_posted(owner, "current");
	form->token = owner_posted(owner, "token");
	if (form->email != NULL) {
		start = form->email + strspn(form->email, " \t");
		memmove(form->email, start, strlen(start) + 1);
		end = form->email + strlen(form->email);
		while (end > form->email && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
	}
}

static void
account_form_free(struct account_form *form)
{
	char **secrets[] = { &form->password, &form->password2, &form->current, &form->token };
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (*secrets[i] != NULL)
			crypto_wipe(*secrets[i], strlen(*secrets[i]));
		free(*secrets[i]);
	}
	free(form->email);
}

/* The new password and its repetition: field errors set, 0 if both are fine. */
static int
account_check_new_password(struct account_form *form)
{
	if (form->password == NULL || !secret_password_acceptable(form->password))
		form->password_error = PASSWORD_RULE;
	else if (form->password2 == NULL || strcmp(form->password, form->password2) != 0)
		form->password2_error = MISMATCH;
	return form->password_error != NULL || form->password2_error != NULL ? -1 : 0;
}

static int
account_mail_ready(struct owner *owner)
{
	if (*owner->config->mail_from != '\0' && *owner->config->public_url != '\0')
		return 1;
	owner_fail(owner, 500, "This server cannot send mail yet, so accounts cannot be made here.",
	    "mail_from or public_url is not set in the config");
	return 0;
}

/*
 * Mail email a link with a new token of kind (before and after the link go
 * around it); 0 once sendmail took it, with the token in token.  No lock is
 * held while sendmail runs: the caller stores the token afterwards.
 */
static int
account_mail_link(struct owner *owner, const char *email, enum db_token_kind kind,
    const char *subject, const char *before, const char *after, char token[SECRET_TOKEN_SIZE])
{
	char *link = NULL, *text = NULL;
	int rc = -1;

	if (secret_token_new(token) != 0 ||
	    (link = owner_mail_link(owner, kind == DB_TOKEN_CONFIRM ? "/confirm" : "/reset",
	    token)) == NULL || asprintf(&text, "%s\n\n%s\n\n%s\n", before, link, after) < 0) {
		text = NULL;
		owner_fail(owner, 500, "Internal error.", "out of memory");
		goto out;
	}
	if (owner_mail(owner, email, subject, text) != 0) {
		owner_fail(owner, 503, MAIL_FAILED, "the mail was not handed over");
		goto out;
	}
	rc = 0;
out:
	if (link != NULL)
		crypto_wipe(link, strlen(link));
	if (text != NULL)
		crypto_wipe(text, strlen(text));
	free(link);
	free(text);
	return rc;
}

/* Keep a mailed token, as its hash, valid for its kind's lifetime: within a transaction. */
static int
account_store_token(struct owner *owner, const char *token, long long owner_id,
    enum db_token_kind kind)
{
	char hash[SECRET_HASH_SIZE], expires[CLOCK_TIME_SIZE];

	secret_token_hash(token, hash);
	owner_time(owner, kind == DB_TOKEN_CONFIRM ? OWNER_CONFIRM_SECONDS : OWNER_RESET_SECONDS,
	    expires);
	return db_token_add(owner->db, hash, owner_id, kind, expires, owner->now_text);
}

/*
 * May owner_id be mailed another reset link (Forgot, or a sign-up with its
 * address)?  At most OWNER_RESET_MAILS within the hour a link works: whoever
 * asks for more can neither fill the owner's mailbox nor keep a link from
 * them, for the links already mailed still work.  1 if so; 0 if not, with a
 * log line; -1 on a fault, answered.
 */
static int
account_reset_mail_allowed(struct owner *owner, long long owner_id)
{
	long long sent = 0;

	if (db_token_count(owner->db, owner_id, DB_TOKEN_RESET, owner->now_text, &sent) != DB_OK) {
		owner_fault(owner);
		return -1;
	}
	if (sent < OWNER_RESET_MAILS)
		return 1;
	cgi_log(owner->request, "owner %lld: no reset link mailed, %lld still working ones were",
	    owner_id, sent);
	return 0;
}

/* text with its "{}" replaced by value, in a paragraph, escaped. */
static void
account_paragraph_filled(struct owner *owner, const char *text, const char *value)
{
	char *filled;

	if ((filled = config_text_fill(text, "{}", value)) == NULL)
		return;
	owner_paragraph(owner, filled);
	free(filled);
}

/* A new password twice, with the rule between: sign-up, reset and change ask the same. */
static void
account_new_password(struct owner *owner, const struct account_form *form, const char *label)
{
	struct owner_field password = { .name = "password", .label = label, .type = "password",
	    .autocomplete = "new-password", .error = form != NULL ? form->password_error : NULL,
	    .hint = PASSWORD_RULE };
	struct owner_field password2 = { .name = "password2", .label = "Repeat password",
	    .type = "password", .autocomplete = "new-password",
	    .error = form != NULL ? form->password2_error : NULL };

	owner_form_field(owner, &password);
	owner_form_field(owner, &password2);
}

/* ---- Sign up ---- */

static void
signup_render(struct owner *owner, const struct account_form *form, int status)
{
	struct owner_field email = { .name = "email", .label = "E-mail", .type = "email",
	    .autocomplete = "email", .value = form != NULL ? form->email : NULL,
	    .error = form != NULL ? form->email_error : NULL };

	if (owner_page_begin(owner, "Create an account") != 0)
		return;
	if (*owner->config->owner_domains == '\0') {
		owner_paragraph(owner, "Sign-up is closed on this server: ask its administrator"
		    " for an account.");
		owner_link(owner, "/login", "Log in");
		owner_page_end(owner, 200);
		return;
	}
	account_paragraph_filled(owner, "Sign up with your address at {}, and a password.",
	    owner->config->owner_domains);
	owner_form_begin(owner, "/signup");
	owner_form_field(owner, &email);
	account_new_password(owner, form, "Password");
	owner_form_end(owner, "Create account");
	owner_link(owner, "/login", "Log in");
	owner_page_end(owner, status);
}

static void
signup_get(struct owner *owner)
{
	signup_render(owner, NULL, 200);
}

/* What a sign-up answers, whether or not the address had an account. */
static void
signup_sent(struct owner *owner, const char *email)
{
	if (owner_page_begin(owner, "Check your mail") != 0)
		return;
	account_paragraph_filled(owner, "We sent a mail to {}. Open the link in it within 24 hours"
	    " to confirm your address; then you can log in.", email);
	owner_paragraph(owner, "No mail? Look in your spam folder, or sign up again.");
	owner_page_end(owner, 200);
}

/*
 * A taken address gets the same page, and its owner a note with a reset
 * link instead: nobody learns from the answer that the address has an account.
 */
static void
signup_taken(struct owner *owner, const struct db_owner *existing)
{
	char token[SECRET_TOKEN_SIZE];
	int allowed;

	if ((allowed = account_reset_mail_allowed(owner, existing->id)) < 0)
		return;
	if (!allowed) {
		signup_sent(owner, existing->email);
		return;
	}
	if (account_mail_link(owner, existing->email, DB_TOKEN_RESET,
	    "Someone tried to sign up with your address",
	    "Someone (perhaps you) tried to create a pinconf account with this address, which"
	    " already has one.\nIf you forgot your password, set a new one with this link"
	    " (it works for one hour):",
	    "If it was not you, ignore this mail: nothing changed.", token) != 0)
		return;
	if (db_begin(owner->db) != DB_OK ||
	    account_store_token(owner, token, existing->id, DB_TOKEN_RESET) != DB_OK ||
	    db_commit(owner->db) != DB_OK)
		owner_fault(owner);
	else
		signup_sent(owner, existing->email);
	crypto_wipe(token, sizeof(token));
}

static void
signup_post(struct owner *owner)
{
	struct account_form form;
	struct db_owner existing;
	char phc[SECRET_PHC_MAX], token[SECRET_TOKEN_SIZE];
	long long id;
	int rc;

	account_form_read(owner, &form);
	if (*owner->config->owner_domains == '\0') {
		owner_fail(owner, 403, "Sign-up is closed on this server.", "sign-up, owner_domains empty");
		goto out;
	}
	if (form.email == NULL || !config_owner_domain_ok(owner->config, form.email))
		form.email_error = "Use an e-mail address at one of the domains above.";
	account_check_new_password(&form);
	if (form.email_error != NULL || form.password_error != NULL || form.password2_error != NULL) {
		signup_render(owner, &form, 400);
		goto out;
	}
	if (!account_mail_ready(owner))
		goto out;
	/* Hashed whether or not the address is taken: both answers take as long. */
	if (secret_password_hash(form.password, phc) != 0) {
		owner_fail(owner, 500, "Internal error.", "cannot hash a password");
		goto out;
	}
	if ((rc = db_owner_find_by_email(owner->db, form.email, &existing)) == DB_FAULT) {
		owner_fault(owner);
		goto out;
	}
	if (rc == DB_OK) {
		signup_taken(owner, &existing);
		goto out;
	}
	/* The account and its link are written only once the mail was handed over. */
	if (account_mail_link(owner, form.email, DB_TOKEN_CONFIRM, "Confirm your pinconf account",
	    "Welcome to pinconf. Open this link within 24 hours to confirm your address:",
	    "If you did not sign up, ignore this mail: no account is made without the link.",
	    token) != 0)
		goto out;
	if (db_begin(owner->db) != DB_OK ||
	    (rc = db_owner_insert(owner->db, form.email, phc, 0, &id)) == DB_FAULT ||
	    (rc == DB_OK && account_store_token(owner, token, id, DB_TOKEN_CONFIRM) != DB_OK) ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	/* rc DB_NONE: taken since we looked; the mailed link leads nowhere, the answer is the same. */
	cgi_log(owner->request, "owner %s: signed up, confirmation mailed", form.email);
	signup_sent(owner, form.email);
out:
	crypto_wipe(phc, sizeof(phc));
	crypto_wipe(token, sizeof(token));
	account_form_free(&form);
}

/* ---- Links from mails: confirm, reset ---- */

/* The ?token= of a link, if shaped like ours; malloc'd. */
static char *
account_link_token(struct owner *owner)
{
	char *token = cgi_query_value(owner->request, "token");

	if (token != NULL && !secret_token_plausible(token)) {
		free(token);
		return NULL;
	}
	return token;
}

static void
account_bad_link(struct owner *owner, const char *why)
{
	if (owner_page_begin(owner, "This link does not work") != 0)
		return;
	owner_alert(owner, BAD_LINK);
	owner_link(owner, "/forgot", "Forgot your password?");
	owner_link(owner, "/signup", "Create an account");
	owner_page_end(owner, 400);
	cgi_log_refusal(owner->request, 400, why);
}

/* Opening the link changes nothing (mail scanners open links too): its button does. */
static void
confirm_get(struct owner *owner)
{
	char *token = account_link_token(owner);

	if (token == NULL) {
		account_bad_link(owner, "confirmation link without a usable token");
		return;
	}
	if (owner_page_begin(owner, "Confirm your address") == 0) {
		owner_paragraph(owner, "Confirm that this address is yours, and your account is ready.");
		owner_form_begin(owner, "/confirm");
		owner_form_hidden(owner, "token", token);
		owner_form_end(owner, "Confirm address");
		owner_page_end(owner, 200);
	}
	crypto_wipe(token, strlen(token));
	free(token);
}

static void
confirm_post(struct owner *owner)
{
	struct account_form form;
	char hash[SECRET_HASH_SIZE];
	long long id;
	int rc;

	account_form_read(owner, &form);
	if (form.token == NULL || !secret_token_plausible(form.token)) {
		account_bad_link(owner, "confirmation without a usable token");
		goto out;
	}
	secret_token_hash(form.token, hash);
	if (db_begin(owner->db) != DB_OK ||
	    (rc = db_token_take(owner->db, hash, DB_TOKEN_CONFIRM, owner->now_text, &id)) == DB_FAULT ||
	    (rc == DB_OK && db_owner_confirm(owner->db, id) != DB_OK) ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	if (rc == DB_NONE) {
		account_bad_link(owner, "unknown, used or expired confirmation token");
		goto out;
	}
	if (owner_page_begin(owner, "Address confirmed") != 0)
		goto out;
	owner_notice(owner, "Your address is confirmed. You can log in now.");
	owner_link(owner, "/login", "Log in");
	owner_page_end(owner, 200);
out:
	account_form_free(&form);
}

static void
reset_render(struct owner *owner, const struct account_form *form, const char *token, int status)
{
	if (owner_page_begin(owner, "Set a new password") != 0)
		return;
	owner_paragraph(owner, "Setting a password logs you out everywhere else.");
	owner_form_begin(owner, "/reset");
	owner_form_hidden(owner, "token", token);
	account_new_password(owner, form, "New password");
	owner_form_end(owner, "Set password");
	owner_page_end(owner, status);
}

static void
reset_get(struct owner *owner)
{
	char *token = account_link_token(owner);

	if (token == NULL) {
		account_bad_link(owner, "reset link without a usable token");
		return;
	}
	reset_render(owner, NULL, token, 200);
	crypto_wipe(token, strlen(token));
	free(token);
}

static void
reset_post(struct owner *owner)
{
	struct account_form form;
	char hash[SECRET_HASH_SIZE], phc[SECRET_PHC_MAX];
	long long id;
	int rc;

	account_form_read(owner, &form);
	if (form.token == NULL || !secret_token_plausible(form.token)) {
		account_bad_link(owner, "reset without a usable token");
		goto out;
	}
	/* A mistyped password does not use the link up. */
	if (account_check_new_password(&form) != 0) {
		reset_render(owner, &form, form.token, 400);
		goto out;
	}
	if (secret_password_hash(form.password, phc) != 0) {
		owner_fail(owner, 500, "Internal error.", "cannot hash a password");
		goto out;
	}
	secret_token_hash(form.token, hash);
	/* The link proves the mailbox, so it confirms the address too; every session ends. */
	if (db_begin(owner->db) != DB_OK ||
	    (rc = db_token_take(owner->db, hash, DB_TOKEN_RESET, owner->now_text, &id)) == DB_FAULT ||
	    (rc == DB_OK && (db_owner_set_password(owner->db, id, phc) != DB_OK ||
	    db_owner_confirm(owner->db, id) != DB_OK || db_sessions_end(owner->db, id, NULL) != DB_OK)) ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	if (rc == DB_NONE) {
		account_bad_link(owner, "unknown, used or expired reset token");
		goto out;
	}
	cgi_log(owner->request, "owner %lld: password reset, every session ended", id);
	if (owner_page_begin(owner, "Password set") != 0)
		goto out;
	owner_notice(owner, "Your new password is set, and every session of your account has ended."
	    " Log in with the new password.");
	owner_link(owner, "/login", "Log in");
	owner_page_end(owner, 200);
out:
	crypto_wipe(phc, sizeof(phc));
	account_form_free(&form);
}

/* ---- Log in, log out ---- */

static void
login_render(struct owner *owner, const struct account_form *form, const char *alert, int status)
{
	struct owner_field email = { .name = "email", .label = "E-mail", .type = "email",
	    .autocomplete = "username", .value = form != NULL ? form->email : NULL };
	struct owner_field password = { .name = "password", .label = "Password", .type = "password",
	    .autocomplete = "current-password" };

	if (owner_page_begin(owner, "Log in") != 0)
		return;
	if (alert != NULL) {
		/* The alert belongs to both fields: name it from the password's. */
		password.error = alert;
	}
	owner_form_begin(owner, "/login");
	owner_form_field(owner, &email);
	owner_form_field(owner, &password);
	owner_form_end(owner, "Log in");
	owner_link(owner, "/signup", "Create an account");
	owner_link(owner, "/forgot", "Forgot your password?");
	owner_page_end(owner, status);
}

static void
login_get(struct owner *owner)
{
	if (owner->logged_in) {
		owner_redirect(owner, "/");
		return;
	}
	login_render(owner, NULL, NULL, 200);
}

/* The e-mail's failure key: lower case, so that ANN@ and ann@ count together. */
static void
account_failure_key(const char *email, char *key, size_t size)
{
	size_t i;

	snprintf(key, size, "email:%s", email);
	for (i = 0; key[i] != '\0'; i++)
		key[i] = (char)tolower((unsigned char)key[i]);
}

/*
 * Is either key over its limit?  0 if not; else 1, with the page (429,
 * Retry-After, how long to wait) answered.
 */
static int
account_limited(struct owner *owner, const char *account_key, const char *source_key,
    int *fault)
{
	char since[CLOCK_TIME_SIZE], until[32], text[160], *header;
	time_t oldest, wait = 0;
	int rc;

	*fault = 0;
	owner_time(owner, -OWNER_FAILURE_WINDOW, since);
	if ((rc = db_login_limited(owner->db, account_key, since, OWNER_ACCOUNT_FAILURES,
	    until)) == DB_OK && clock_parse_utc(until, &oldest) == 0)
		wait = oldest + OWNER_FAILURE_WINDOW - owner->now;
	if (rc == DB_FAULT || (source_key != NULL && (rc = db_login_limited(owner->db, source_key,
	    since, OWNER_SOURCE_FAILURES, until)) == DB_FAULT)) {
		*fault = 1;
		return 0;
	}
	if (source_key != NULL && rc == DB_OK && clock_parse_utc(until, &oldest) == 0 &&
	    oldest + OWNER_FAILURE_WINDOW - owner->now > wait)
		wait = oldest + OWNER_FAILURE_WINDOW - owner->now;
	if (wait <= 0)
		return 0;
	snprintf(text, sizeof(text), "Too many failed log ins. Wait %ld minute%s, then try again.",
	    (long)(wait + 59) / 60, (wait + 59) / 60 == 1 ? "" : "s");
	if (owner_page_begin(owner, "Log in") == 0) {
		owner_alert(owner, text);
		owner_link(owner, "/forgot", "Forgot your password?");
		owner_page_end(owner, 429);
	}
	if (asprintf(&header, "Retry-After: %ld", (long)wait) < 0)
		header = NULL;
	cgi_response_add_owned_header(owner->response, header);
	cgi_log_refusal(owner->request, 429, "too many failed log ins for the account or source");
	return 1;
}

static int
account_record_failure(struct owner *owner, const char *account_key, const char *source_key)
{
	char old[CLOCK_TIME_SIZE];

	owner_time(owner, -OWNER_FAILURE_WINDOW, old);
	if (db_begin(owner->db) != DB_OK ||
	    db_login_failure_record(owner->db, account_key, owner->now_text, old) != DB_OK ||
	    (source_key != NULL && db_login_failure_record(owner->db, source_key, owner->now_text,
	    old) != DB_OK) || db_commit(owner->db) != DB_OK)
		return DB_FAULT;
	return DB_OK;
}

static void
login_post(struct owner *owner)
{
	struct account_form form;
	struct db_owner account;
	char address[ADDRESS_TEXT_MAX], source[ADDRESS_TEXT_MAX], key[300];
	char phc[SECRET_PHC_MAX];
	int rc, match, outdated, fault;

	account_form_read(owner, &form);
	if (form.email == NULL || form.password == NULL || *form.email == '\0' ||
	    strlen(form.email) > 254 || strlen(form.password) > SECRET_PASSWORD_MAX) {
		login_render(owner, &form, "Type your e-mail and your password.", 400);
		goto out;
	}
	/* Fail closed: a client we cannot place cannot be limited. */
	if (address_client(owner->request, owner->config->trusted_proxies, address) != 0 ||
	    address_guess_key(address, source) != 0) {
		owner_fail(owner, 403, "We cannot tell where this request comes from.",
		    "no usable client address (REMOTE_ADDR, or X-Forwarded-For from a trusted proxy)");
		goto out;
	}
	account_failure_key(form.email, key, sizeof(key));
	if (account_limited(owner, key, source, &fault) || fault) {
		if (fault)
			owner_fault(owner);
		goto out;
	}
	if ((rc = db_owner_find_by_email(owner->db, form.email, &account)) == DB_FAULT) {
		owner_fault(owner);
		goto out;
	}
	/* An unknown address pays the same Argon2 cost as a wrong password. */
	match = secret_password_verify(form.password, rc == DB_OK && *account.password != '\0' ?
	    account.password : NULL, &outdated);
	if (match < 0) {
		owner_fail(owner, 500, "Internal error.", "cannot check a password");
		goto out;
	}
	if (match != 1 || !account.confirmed) {
		if (account_record_failure(owner, key, source) != DB_OK) {
			owner_fault(owner);
			goto out;
		}
		cgi_log_refusal(owner->request, 403, "wrong e-mail or password, or not confirmed");
		login_render(owner, &form, WRONG_LOGIN, 403);
		goto out;
	}
	if (outdated && secret_password_hash(form.password, phc) != 0)
		outdated = 0;
	/* A new token at every log in: a cookie planted before it is never a session. */
	if (db_begin(owner->db) != DB_OK ||
	    (owner->session && db_session_end(owner->db, owner->cookie_hash) != DB_OK) ||
	    (outdated && db_owner_set_password(owner->db, account.id, phc) != DB_OK) ||
	    db_owner_logged_in(owner->db, account.id, owner->now_text) != DB_OK ||
	    owner_session_start(owner, account.id) != DB_OK || db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	owner_redirect(owner, "/");
out:
	crypto_wipe(phc, sizeof(phc));
	account_form_free(&form);
}

static void
logout_post(struct owner *owner)
{
	if (db_session_end(owner->db, owner->cookie_hash) != DB_OK) {
		owner_fault(owner);
		return;
	}
	/* Dropped at once; the next page gets a fresh pre-login token. */
	{
		char *header;

		if (asprintf(&header, "Set-Cookie: %s=; Path=%s; HttpOnly; SameSite=Lax%s; Max-Age=0",
		    owner->request->https ? "__Host-pinconf_owner" : "pinconf_owner",
		    owner->request->https ? "/" : OWNER_URL, owner->request->https ? "; Secure" : "") < 0)
			header = NULL;
		cgi_response_add_owned_header(owner->response, header);
	}
	owner_redirect(owner, "/login");
}

/* ---- Forgot, change password ---- */

static void
forgot_render(struct owner *owner, const struct account_form *form, int status)
{
	struct owner_field email = { .name = "email", .label = "E-mail", .type = "email",
	    .autocomplete = "email", .value = form != NULL ? form->email : NULL,
	    .error = form != NULL ? form->email_error : NULL };

	if (owner_page_begin(owner, "Forgot your password?") != 0)
		return;
	owner_paragraph(owner, "Type your address: we mail you a link to set a new password.");
	owner_form_begin(owner, "/forgot");
	owner_form_field(owner, &email);
	owner_form_end(owner, "Send reset link");
	owner_link(owner, "/login", "Log in");
	owner_page_end(owner, status);
}

static void
forgot_get(struct owner *owner)
{
	forgot_render(owner, NULL, 200);
}

static void
forgot_post(struct owner *owner)
{
	struct account_form form;
	struct db_owner account;
	char token[SECRET_TOKEN_SIZE];
	int rc, allowed = 0;

	account_form_read(owner, &form);
	if (form.email == NULL || *form.email == '\0' || strlen(form.email) > 254 ||
	    strchr(form.email, '@') == NULL) {
		form.email_error = "Type the e-mail address of your account.";
		forgot_render(owner, &form, 400);
		goto out;
	}
	if (!account_mail_ready(owner))
		goto out;
	if ((rc = db_owner_find_by_email(owner->db, form.email, &account)) == DB_FAULT) {
		owner_fault(owner);
		goto out;
	}
	/* No account, or enough links mailed to it: the same page, no mail. */
	if (rc == DB_OK && (allowed = account_reset_mail_allowed(owner, account.id)) < 0)
		goto out;
	if (rc == DB_OK && allowed) {
		if (account_mail_link(owner, account.email, DB_TOKEN_RESET,
		    "Set a new pinconf password",
		    "Someone (perhaps you) asked to set a new password for your pinconf account."
		    "\nOpen this link within one hour to set it:",
		    "If it was not you, ignore this mail: your password stays as it is.", token) != 0)
			goto out;
		if (db_begin(owner->db) != DB_OK ||
		    account_store_token(owner, token, account.id, DB_TOKEN_RESET) != DB_OK ||
		    db_commit(owner->db) != DB_OK) {
			owner_fault(owner);
			goto out;
		}
	}
	if (owner_page_begin(owner, "Check your mail") != 0)
		goto out;
	account_paragraph_filled(owner, "If {} has an account, we sent it a link to set a new"
	    " password. The link works for one hour.", form.email);
	owner_link(owner, "/login", "Log in");
	owner_page_end(owner, 200);
out:
	crypto_wipe(token, sizeof(token));
	account_form_free(&form);
}

static void
password_render(struct owner *owner, const struct account_form *form, int status)
{
	struct owner_field current = { .name = "current", .label = "Current password",
	    .type = "password", .autocomplete = "current-password",
	    .error = form != NULL ? form->current_error : NULL };

	if (owner_page_begin(owner, "Change password") != 0)
		return;
	owner_paragraph(owner, "Changing your password logs you out everywhere else.");
	owner_form_begin(owner, "/password");
	owner_form_field(owner, &current);
	account_new_password(owner, form, "New password");
	owner_form_end(owner, "Set password");
	owner_link(owner, "/", "Back");
	owner_page_end(owner, status);
}

static void
password_get(struct owner *owner)
{
	password_render(owner, NULL, 200);
}

static void
password_post(struct owner *owner)
{
	struct account_form form;
	char key[300], phc[SECRET_PHC_MAX];
	int match, outdated, fault;

	account_form_read(owner, &form);
	account_failure_key(owner->account.email, key, sizeof(key));
	/* A stolen session must not make a way around the log-in limits. */
	if (account_limited(owner, key, NULL, &fault) || fault) {
		if (fault)
			owner_fault(owner);
		goto out;
	}
	match = secret_password_verify(form.current != NULL ? form.current : "",
	    *owner->account.password != '\0' ? owner->account.password : NULL, &outdated);
	if (match < 0) {
		owner_fail(owner, 500, "Internal error.", "cannot check a password");
		goto out;
	}
	if (match != 1) {
		form.current_error = "This is not your current password.";
		if (account_record_failure(owner, key, NULL) != DB_OK) {
			owner_fault(owner);
			goto out;
		}
	}
	account_check_new_password(&form);
	if (form.current_error != NULL || form.password_error != NULL ||
	    form.password2_error != NULL) {
		password_render(owner, &form, 400);
		goto out;
	}
	if (secret_password_hash(form.password, phc) != 0) {
		owner_fail(owner, 500, "Internal error.", "cannot hash a password");
		goto out;
	}
	if (db_begin(owner->db) != DB_OK ||
	    db_owner_set_password(owner->db, owner->account.id, phc) != DB_OK ||
	    db_sessions_end(owner->db, owner->account.id, owner->cookie_hash) != DB_OK ||
	    db_commit(owner->db) != DB_OK) {
		owner_fault(owner);
		goto out;
	}
	cgi_log(owner->request, "owner %lld: password changed, other sessions ended",
	    owner->account.id);
	if (owner_page_begin(owner, "Password changed") != 0)
		goto out;
	owner_notice(owner, "Your password is changed, and your other sessions have ended.");
	owner_link(owner, "/", "Back");
	owner_page_end(owner, 200);
out:
	crypto_wipe(phc, sizeof(phc));
	account_form_free(&form);
}

const struct owner_page owner_account_pages[] = {
	{ "/signup", signup_get, signup_post, 0, 1 },
	{ "/confirm", confirm_get, confirm_post, 0, 1 },
	{ "/login", login_get, login_post, 0, 1 },
	{ "/logout", NULL, logout_post, 1, 1 },
	{ "/forgot", forgot_get, forgot_post, 0, 1 },
	{ "/reset", reset_get, reset_post, 0, 1 },
	{ "/password", password_get, password_post, 1, 1 },
	{ NULL, NULL, NULL, 0, 0 },
};
