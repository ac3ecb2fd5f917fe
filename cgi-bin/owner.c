/* owner.c: owner.cgi: conference owners' pages, by PATH_INFO; sessions, form tokens, page helpers. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "cgi.h"
#include "clock.h"
#include "configfile.h"
#include "db.h"
#include "db-owner.h"
#include "html.h"
#include "mail.h"
#include "owner.h"
#include "secret.h"
#include "service.h"

#define COOKIE_NAME		"pinconf_owner"
#define COOKIE_NAME_HTTPS	"__Host-pinconf_owner"
/* A session's last_seen is rewritten at most this often: most pages write nothing. */
#define SESSION_TOUCH_SECONDS	300

static const struct owner_page *const owner_page_tables[] = { owner_account_pages,
    owner_conference_pages, owner_live_pages };

void
owner_time(const struct owner *owner, long seconds, char out[CLOCK_TIME_SIZE])
{
	clock_format_utc(owner->now + seconds, -1, out);
}

/* ---- Pages ---- */

int
owner_page_begin(struct owner *owner, const char *title)
{
	FILE *out;

	if ((owner->out = open_memstream(&owner->html, &owner->html_length)) == NULL) {
		owner_fail(owner, 500, "Internal error.", "out of memory");
		return -1;
	}
	out = owner->out;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
	html_text(out, title);
	fputs(" - pinconf</title>\n<link rel=\"icon\" href=\"data:,\">\n"
	    "<link rel=\"stylesheet\" href=\"/pinconf.css\">\n</head>\n<body>\n", out);
	if (owner->logged_in) {
		fputs("<header class=\"owner-header\">\n<p>Logged in as <strong>", out);
		html_text(out, owner->account.email);
		fputs("</strong></p>\n", out);
		if (owner->session) {
			fputs("<nav aria-label=\"Account\"><a href=\"" OWNER_URL "/password\">"
			    "Change password</a></nav>\n", out);
			owner_form_begin(owner, "/logout");
			owner_form_end(owner, "Log out");
		}
		fputs("</header>\n", out);
	}
	fputs("<main class=\"owner\">\n<h1>", out);
	html_text(out, title);
	fputs("</h1>\n", out);
	return 0;
}

void
owner_page_end(struct owner *owner, int status)
{
	fputs("</main>\n</body>\n</html>\n", owner->out);
	fclose(owner->out);
	owner->out = NULL;
	cgi_response_set_body(owner->response, status, "text/html; charset=utf-8", owner->html);
	owner->html = NULL;
}

static void
owner_text_block(struct owner *owner, const char *open, const char *text)
{
	fputs(open, owner->out);
	html_text(owner->out, text);
	fputs("</p>\n", owner->out);
}

void
owner_paragraph(struct owner *owner, const char *text)
{
	owner_text_block(owner, "<p>", text);
}

void
owner_notice(struct owner *owner, const char *text)
{
	owner_text_block(owner, "<p class=\"notice\" role=\"status\">", text);
}

void
owner_alert(struct owner *owner, const char *text)
{
	owner_text_block(owner, "<p class=\"notice owner-alert\" role=\"alert\">", text);
}

void
owner_link(struct owner *owner, const char *page, const char *text)
{
	fputs("<p><a href=\"" OWNER_URL, owner->out);
	html_text(owner->out, page);
	fputs("\">", owner->out);
	html_text(owner->out, text);
	fputs("</a></p>\n", owner->out);
}

void
owner_form_begin(struct owner *owner, const char *page)
{
	fputs("<form class=\"owner-form\" method=\"post\" action=\"" OWNER_URL, owner->out);
	html_text(owner->out, page);
	fputs("\">\n", owner->out);
	owner_form_hidden(owner, "form_token", owner->form_token);
}

void
owner_form_hidden(struct owner *owner, const char *name, const char *value)
{
	fputs("<input type=\"hidden\" name=\"", owner->out);
	html_text(owner->out, name);
	fputs("\" value=\"", owner->out);
	html_text(owner->out, value);
	fputs("\">\n", owner->out);
}

void
owner_form_field(struct owner *owner, const struct owner_field *field)
{
	FILE *out = owner->out;
	/* The error, if any, stands where the hint would: one text under the field. */
	const char *under = field->error != NULL ? field->error : field->hint;
	const char *kind = field->error != NULL ? "error" : "hint";

	fprintf(out, "<label for=\"%s\">", field->name);
	html_text(out, field->label);
	fprintf(out, "</label>\n<input id=\"%s\" name=\"%s\" type=\"%s\"", field->name, field->name,
	    field->type);
	if (field->autocomplete != NULL)
		fprintf(out, " autocomplete=\"%s\"", field->autocomplete);
	if (!field->optional)
		fputs(" required", out);
	/* A password is never sent back. */
	if (field->value != NULL && *field->value != '\0' && strcmp(field->type, "password") != 0) {
		fputs(" value=\"", out);
		html_text(out, field->value);
		fputs("\"", out);
	}
	if (field->error != NULL)
		fputs(" aria-invalid=\"true\"", out);
	if (under == NULL) {
		fputs(">\n", out);
		return;
	}
	fprintf(out, " aria-describedby=\"%s-%s\">\n<p id=\"%s-%s\" class=\"field-%s\">", field->name,
	    kind, field->name, kind, field->error != NULL ? "message" : "hint");
	html_text(out, under);
	fputs("</p>\n", out);
}

void
owner_form_end(struct owner *owner, const char *button)
{
	fputs("<button type=\"submit\">", owner->out);
	html_text(owner->out, button);
	fputs("</button>\n</form>\n", owner->out);
}

void
owner_redirect(struct owner *owner, const char *page)
{
	char *location;

	if (asprintf(&location, "Location: " OWNER_URL "%s", page) < 0)
		location = NULL;
	cgi_response_add_owned_header(owner->response, location);
	cgi_response_set_body(owner->response, 303, NULL, NULL);
}

void
owner_fail(struct owner *owner, int status, const char *message, const char *why)
{
	html_refuse(owner->request, owner->response, status, message, why);
}

void
owner_fault(struct owner *owner)
{
	db_rollback(owner->db);
	owner_fail(owner, 503, "The service is unavailable. Try again later.", owner->db->why);
}

char *
owner_posted(struct owner *owner, const char *name)
{
	return owner->request->body != NULL ? cgi_form_value(owner->request->body, name) : NULL;
}

/* ---- Cookies and sessions ---- */

static const char *
owner_cookie_name(const struct owner *owner)
{
	return owner->request->https ? COOKIE_NAME_HTTPS : COOKIE_NAME;
}

/* Set the cookie to token; lifetime 0 makes it last for the browser's session, -1 deletes it. */
static void
owner_set_cookie(struct owner *owner, const char *token, long lifetime)
{
	char *header, age[32] = "";

	if (lifetime != 0)
		snprintf(age, sizeof(age), "; Max-Age=%ld", lifetime > 0 ? lifetime : 0);
	/* Over HTTPS the __Host- prefix pins it to this host, Path=/ and Secure. */
	if (asprintf(&header, "Set-Cookie: %s=%s; Path=%s; HttpOnly; SameSite=Lax%s%s",
	    owner_cookie_name(owner), token, owner->request->https ? "/" : OWNER_URL,
	    owner->request->https ? "; Secure" : "", age) < 0)
		header = NULL;
	cgi_response_add_owned_header(owner->response, header);
}

/* The cookie's value if the browser sent one shaped like ours; 0 if so. */
static int
owner_read_cookie(struct owner *owner)
{
	const char *cookies = owner->request->cookie, *name = owner_cookie_name(owner), *at;
	size_t length = strlen(name), value;

	for (at = cookies; at != NULL && (at = strstr(at, name)) != NULL; at += length) {
		if ((at != cookies && at[-1] != ' ' && at[-1] != ';') || at[length] != '=')
			continue;
		value = strcspn(at + length + 1, "; ");
		if (value != SECRET_TOKEN_SIZE - 1)
			return -1;
		memcpy(owner->cookie, at + length + 1, value);
		owner->cookie[value] = '\0';
		return secret_token_plausible(owner->cookie) ? 0 : -1;
	}
	return -1;
}

static int
owner_use_token(struct owner *owner, const char *token)
{
	if (token != owner->cookie)
		snprintf(owner->cookie, sizeof(owner->cookie), "%s", token);
	secret_token_hash(owner->cookie, owner->cookie_hash);
	return secret_form_token(owner->cookie, owner->form_token);
}

int
owner_session_start(struct owner *owner, long long owner_id)
{
	char token[SECRET_TOKEN_SIZE], idle[CLOCK_TIME_SIZE], made[CLOCK_TIME_SIZE];

	if (secret_token_new(token) != 0 || owner_use_token(owner, token) != 0) {
		snprintf(owner->db->why, sizeof(owner->db->why), "cannot make a session token");
		return DB_FAULT;
	}
	owner_time(owner, -3600L * owner->config->session_idle_hours, idle);
	owner_time(owner, -86400L * owner->config->session_max_days, made);
	if (db_session_add(owner->db, owner->cookie_hash, owner_id, owner->now_text, idle,
	    made) != DB_OK)
		return DB_FAULT;
	owner_set_cookie(owner, token, 86400L * owner->config->session_max_days);
	return DB_OK;
}

/* Who the cookie's session belongs to, if it is live; a new pre-login cookie if none. */
static int
owner_find_session(struct owner *owner)
{
	char idle[CLOCK_TIME_SIZE], made[CLOCK_TIME_SIZE], stale[CLOCK_TIME_SIZE];
	char token[SECRET_TOKEN_SIZE];
	int rc;

	if (owner_read_cookie(owner) != 0) {
		if (secret_token_new(token) != 0 || owner_use_token(owner, token) != 0) {
			snprintf(owner->db->why, sizeof(owner->db->why), "cannot make a token");
			return DB_FAULT;
		}
		owner_set_cookie(owner, token, 0);
		return DB_OK;
	}
	if (owner_use_token(owner, owner->cookie) != 0)
		return DB_FAULT;
	owner_time(owner, -3600L * owner->config->session_idle_hours, idle);
	owner_time(owner, -86400L * owner->config->session_max_days, made);
	if ((rc = db_session_owner(owner->db, owner->cookie_hash, idle, made,
	    &owner->account)) == DB_FAULT)
		return DB_FAULT;
	if (rc == DB_NONE)
		return DB_OK;
	owner->logged_in = owner->session = 1;
	owner_time(owner, -SESSION_TOUCH_SECONDS, stale);
	return db_session_touch(owner->db, owner->cookie_hash, owner->now_text, stale);
}

/*
 * trust_remote_user: the server logged the person in, REMOTE_USER is their
 * e-mail; an owner of an allowed domain is made at the first visit.
 */
static int
owner_remote_user(struct owner *owner)
{
	const char *user = owner->request->remote_user;
	long long id;
	int rc;

	if (user == NULL || !config_owner_domain_ok(owner->config, user)) {
		owner_fail(owner, 403, "Your login is not an e-mail address of a domain that may"
		    " own conferences here.", user == NULL ? "trust_remote_user, but no REMOTE_USER"
		    : "REMOTE_USER is not in owner_domains");
		return -1;
	}
	if ((rc = db_owner_find_by_email(owner->db, user, &owner->account)) == DB_NONE) {
		if (db_begin(owner->db) != DB_OK ||
		    (rc = db_owner_insert(owner->db, user, NULL, 1, &id)) == DB_FAULT ||
		    db_commit(owner->db) != DB_OK ||
		    (rc = db_owner_find_by_email(owner->db, user, &owner->account)) != DB_OK) {
			owner_fault(owner);
			return -1;
		}
		cgi_log(owner->request, "owner %s: made at the first visit (REMOTE_USER)", user);
	} else if (rc == DB_FAULT) {
		owner_fault(owner);
		return -1;
	}
	owner->logged_in = 1;
	return 0;
}

/* ---- Mail ---- */

char *
owner_mail_link(const struct owner *owner, const char *page, const char *token)
{
	char *link;

	if (asprintf(&link, "%s" OWNER_URL "%s?token=%s", owner->config->public_url, page,
	    token) < 0)
		return NULL;
	return link;
}

int
owner_mail(struct owner *owner, const char *to, const char *subject, const char *text)
{
	struct mail mail = { owner->config->mail_from, to, subject, text, NULL, 0 };
	char *message, why[512];
	const char *reason;
	size_t length;
	int rc;

	if (mail_build(&mail, owner->now, &message, &length, &reason) != 0) {
		cgi_log(owner->request, "mail to %s: %s", to, reason);
		return -1;
	}
	rc = mail_send(owner->config->sendmail, message, length, why, sizeof(why));
	free(message);
	if (rc != 0)
		cgi_log(owner->request, "mail to %s: %s", to, why);
	return rc;
}

/* ---- The request ---- */

/* The page asked for: PATH_INFO, or what follows owner.cgi in the path. */
static const struct owner_page *
owner_find_page(const struct cgi_request *request)
{
	const char *path = request->path_info, *at;
	const struct owner_page *page;
	size_t i;

	if (path == NULL && request->path != NULL && (at = strstr(request->path, "owner.cgi")) != NULL)
		path = at + strlen("owner.cgi");
	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < sizeof(owner_page_tables) / sizeof(owner_page_tables[0]); i++)
		for (page = owner_page_tables[i]; page->path != NULL; page++)
			if (strcmp(page->path, path) == 0)
				return page;
	return NULL;
}

/* A POST: a form from our own page, carrying this browser's form token. */
static int
owner_post_allowed(struct owner *owner, FILE *in)
{
	struct cgi_request *request = owner->request;
	const char *why;
	char *token;
	int status, ok;

	if (cgi_cross_site_origin(request, owner->config->public_url, &why)) {
		owner_fail(owner, 403, "Forms from other sites are refused.", why);
		return -1;
	}
	if (!cgi_content_type_is(request, "application/x-www-form-urlencoded")) {
		owner_fail(owner, 415, "This page takes a form.", "content type is not a form");
		return -1;
	}
	if ((status = cgi_request_read_body(request, in, OWNER_BODY_MAX, &why)) != 0) {
		owner_fail(owner, status, "The form could not be read.", why);
		return -1;
	}
	token = owner_posted(owner, "form_token");
	ok = secret_form_token_ok(owner->cookie, token);
	free(token);
	if (!ok) {
		owner_fail(owner, 403, "This form has expired. Go back, reload the page and try again.",
		    "missing or wrong form token");
		return -1;
	}
	return 0;
}

static void
owner_headers(struct cgi_response *response)
{
	cgi_response_add_header(response, "Content-Security-Policy: default-src 'none'; "
	    "style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
	    "base-uri 'none'");
	cgi_response_add_header(response, "Cache-Control: no-store");
	cgi_response_add_header(response, "X-Content-Type-Options: nosniff");
	/*
	 * The links in mails carry a token: pass no URL to another site.  Not
	 * no-referrer: under it browsers send "Origin: null" with our own forms,
	 * which the cross-site check must refuse.
	 */
	cgi_response_add_header(response, "Referrer-Policy: same-origin");
}

static void
owner_handle(struct service *service, struct cgi_request *request, FILE *in,
    struct cgi_response *response)
{
	struct owner owner = { .service = service, .request = request, .response = response };
	const struct owner_page *page;
	int post = strcmp(request->method, "POST") == 0;
	char why[256], reason[512];

	owner.now = time(NULL);
	owner_time(&owner, 0, owner.now_text);
	owner_headers(response);
	if (!post && strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0) {
		owner_fail(&owner, 405, "This page answers GET and POST.", "method not allowed");
		cgi_response_add_header(response, "Allow: GET, HEAD, POST");
		return;
	}
	if ((owner.config = service_config(service, why, sizeof(why))) == NULL) {
		snprintf(reason, sizeof(reason), "config %s: %s", config_path(), why);
		owner_fail(&owner, 500, "The server is not configured correctly.", reason);
		return;
	}
	if ((page = owner_find_page(request)) == NULL ||
	    (page->password_page && owner.config->trust_remote_user)) {
		owner_fail(&owner, 404, "There is no such page.", "no such owner page");
		return;
	}
	if ((post ? page->post : page->get) == NULL) {
		owner_fail(&owner, 405, post ? "This page does not take a form." :
		    "This page only takes a form.", "method not allowed");
		cgi_response_add_header(response, post ? "Allow: GET, HEAD" : "Allow: POST");
		return;
	}
	if (service_database(service, DB_READ_WRITE, &owner.db) != DB_OK) {
		owner_fail(&owner, 503, "The service is unavailable. Try again later.", owner.db->why);
		return;
	}
	if (owner_find_session(&owner) != DB_OK) {
		owner_fault(&owner);
		return;
	}
	if (owner.config->trust_remote_user && owner_remote_user(&owner) != 0)
		return;
	if (post && owner_post_allowed(&owner, in) != 0)
		return;
	if (page->needs_login && !owner.logged_in) {
		if (post)
			owner_fail(&owner, 403, "Log in first.", "not logged in");
		else
			owner_redirect(&owner, "/login");
		return;
	}
	(post ? page->post : page->get)(&owner);
	if (owner.out != NULL)
		fclose(owner.out);
	free(owner.html);
}

int
main(void)
{
	return service_main("owner.cgi", owner_handle);
}
