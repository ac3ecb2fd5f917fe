/* join.c: renders the join page: a form for name and PIN, the in-call controls, dial-in numbers. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgi.h"
#include "configfile.h"
#include "db.h"
#include "html.h"
#include "service.h"

struct join {
	struct cgi_request	*request;
	struct cgi_response	*response;
	struct service		*service;
	const struct config	*config;
	struct db		*db;
	char			*pin;		/* prefilled from ?pin=, digits only */
	FILE			*dial_in;	/* the dial-in list, rendered first */
	char			*dial_in_html;
	size_t			 dial_in_length;
	int			 dial_in_count;
};

/*
 * Keep ?pin= only if the form would take it (its pattern [0-9]{4,8}, which
 * pinconf.js checks too): anything else is ignored, not echoed.
 */
static int
join_pin_plausible(const char *pin)
{
	size_t i;

	for (i = 0; pin[i] != '\0'; i++)
		if (!isdigit((unsigned char)pin[i]))
			return 0;
	return i >= 4 && i <= 8;
}

static void
join_dial_in_row(void *context, const char *label, const char *number)
{
	struct join *join = context;

	fputs("<li>", join->dial_in);
	html_text(join->dial_in, label != NULL ? label : "");
	fputs(": <a href=\"tel:", join->dial_in);
	html_text(join->dial_in, number != NULL ? number : "");
	fputs("\">", join->dial_in);
	html_text(join->dial_in, number != NULL ? number : "");
	fputs("</a></li>\n", join->dial_in);
	join->dial_in_count++;
}

/*
 * The CSP source for the SDK's URL: its origin with the scheme in lower case,
 * just the host for a scheme-relative //host/..., or "" on our own origin.
 */
static void
join_sdk_origin(const char *url, char *origin, size_t size)
{
	const char *host, *end, *p, *scheme = "";

	*origin = '\0';
	if (strncasecmp(url, "https://", 8) == 0) {
		scheme = "https://";
		host = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		scheme = "http://";
		host = url + 7;
	} else if (strncmp(url, "//", 2) == 0)
		host = url + 2;
	else
		return;
	end = host + strcspn(host, "/?#");
	if (end == host)
		return;
	/* Anything else could end the CSP directive or add one. */
	for (p = host; p < end; p++)
		if (!isalnum((unsigned char)*p) && strchr(".:-", *p) == NULL)
			return;
	if (strlen(scheme) + (size_t)(end - host) < size)
		snprintf(origin, size, "%s%.*s", scheme, (int)(end - host), host);
	for (; *origin != '\0'; origin++)
		*origin = (char)tolower((unsigned char)*origin);
}

static int
join_set_headers(struct join *join)
{
	char origin[256];

	join_sdk_origin(join->config->sinch_js_url, origin, sizeof(origin));
	/*
	 * Scripts only from us and the SDK, never inline.  The current SDK talks
	 * to its environment host and to a messaging host it learns at run time,
	 * over https and wss (sinch-api.md 4b), so connect-src cannot list them all.
	 */
	if (asprintf(&join->response->extra_header, "Content-Security-Policy: "
	    "default-src 'none'; script-src 'self'%s%s; connect-src 'self' %s https: wss:; "
	    "media-src 'self' blob: mediastream:; img-src 'self' data:; "
	    "style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
	    *origin != '\0' ? " " : "", origin, join->config->sinch_environment) < 0) {
		join->response->extra_header = NULL;
		return -1;
	}
	if (cgi_response_add_header(join->response, "X-Content-Type-Options: nosniff") != 0 ||
	    cgi_response_add_header(join->response, "Referrer-Policy: same-origin") != 0 ||
	    cgi_response_add_header(join->response, "Cache-Control: no-cache") != 0)
		return -1;
	return 0;
}

static void
join_render_form(struct join *join, FILE *out)
{
	/*
	 * POST keeps the name and PIN out of URLs and access logs.  No maxlength
	 * on the name: it counts UTF-16 units, the rule counts characters, and
	 * pinconf.js checks the rule itself.
	 */
	fputs("<form id=\"join-form\" method=\"post\" action=\"/cgi-bin/join.cgi\">\n"
	    "<label for=\"name\">Your name</label>\n"
	    "<input id=\"name\" name=\"name\" type=\"text\" required autocomplete=\"name\">\n"
	    "<label for=\"pin\">Conference PIN</label>\n"
	    "<input id=\"pin\" name=\"pin\" type=\"text\" required inputmode=\"numeric\""
	    " pattern=\"[0-9]{4,8}\" maxlength=\"8\" autocomplete=\"off\"", out);
	if (join->pin != NULL) {
		fputs(" value=\"", out);
		html_text(out, join->pin);
		fputs("\"", out);
	}
	fputs(">\n<button id=\"join\" type=\"submit\">Join conference</button>\n</form>\n", out);
}

static void
join_render(struct join *join, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Join a conference</title>\n"
	    "<link rel=\"icon\" href=\"data:,\">\n"
	    "<link rel=\"stylesheet\" href=\"/pinconf.css\">\n</head>\n<body>\n"
	    "<main id=\"pinconf\" data-application-key=\"", out);
	html_text(out, join->config->application_key);
	fputs("\" data-sdk-url=\"", out);
	html_text(out, join->config->sinch_js_url);
	fputs("\" data-environment=\"", out);
	html_text(out, join->config->sinch_environment);
	fputs("\" data-ticket-url=\"/cgi-bin/getticket.cgi\""
	    " data-roster-url=\"/cgi-bin/roster.cgi\">\n"
	    "<h1>Join a conference</h1>\n"
	    "<noscript><p class=\"notice\">This page needs JavaScript to call from the browser.", out);
	fputs(join->dial_in_count > 0 ? " Turn it on, or dial in by phone with a number below."
	    : " Turn it on in your browser's settings.", out);
	fputs("</p></noscript>\n", out);
	join_render_form(join, out);
	fputs("<section id=\"in-call\" hidden aria-labelledby=\"in-call-title\">\n"
	    "<h2 id=\"in-call-title\">In call</h2>\n"
	    "<p id=\"call-who\"></p>\n"
	    "<p id=\"call-state\">Connecting</p>\n"
	    "<p>Duration <time id=\"timer\">00:00:00</time></p>\n"
	    "<button id=\"mute\" type=\"button\" aria-pressed=\"false\">Mute</button>\n"
	    "<button id=\"hangup\" type=\"button\">Hang up</button>\n"
	    "<section id=\"roster\" aria-labelledby=\"roster-title\">"
	    "<h3 id=\"roster-title\">In this conference</h3>\n"
	    "<ul id=\"roster-list\" aria-live=\"polite\"></ul></section>\n"
	    "</section>\n"
	    "<div id=\"status\" role=\"status\" aria-live=\"polite\"></div>\n"
	    "<div id=\"error\" role=\"alert\" hidden></div>\n"
	    "<section id=\"log\" aria-labelledby=\"log-title\"><h2 id=\"log-title\">Call log</h2>"
	    "<ol id=\"call-log\"></ol></section>\n", out);
	if (join->dial_in_count > 0) {
		fputs("<p id=\"dial-in-note\">Prefer the phone? <a href=\"#dial-in\""
		    " id=\"dial-in-link\">Dial-in numbers</a></p>\n"
		    "<dialog id=\"dial-in\" aria-labelledby=\"dial-in-title\">"
		    "<h2 id=\"dial-in-title\">Dial in by phone</h2>\n<ul>\n", out);
		fwrite(join->dial_in_html, 1, join->dial_in_length, out);
		fputs("</ul>\n<button id=\"dial-in-close\" type=\"button\">Close</button>"
		    "</dialog>\n", out);
	}
	fputs("<audio id=\"remote-audio\" autoplay></audio>\n</main>\n"
	    "<script src=\"/pinconf.js\" defer></script>\n</body>\n</html>\n", out);
}

/* Read the dial-in numbers: the only thing the page needs from the database. */
static int
join_read_dial_in(struct join *join)
{
	int rc;

	if (service_database(join->service, DB_READ_ONLY, &join->db) != DB_OK)
		return DB_FAULT;
	if ((join->dial_in = open_memstream(&join->dial_in_html, &join->dial_in_length)) == NULL) {
		snprintf(join->db->why, sizeof(join->db->why), "out of memory");
		return DB_FAULT;
	}
	rc = db_dial_in_each(join->db, join_dial_in_row, join);
	fclose(join->dial_in);
	join->dial_in = NULL;
	return rc;
}

static void
join_handle(struct service *service, struct cgi_request *request, FILE *in,
    struct cgi_response *response)
{
	struct join join = { .service = service, .request = request, .response = response };
	char why[256], reason[512], *page = NULL;
	size_t length;
	FILE *out;

	(void)in;
	if (strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0) {
		html_refuse(request, response, 405, "This page only answers GET.", "method not allowed");
		cgi_response_add_header(response, "Allow: GET, HEAD");
		return;
	}
	if ((join.config = service_config(service, why, sizeof(why))) == NULL) {
		snprintf(reason, sizeof(reason), "config %s: %s", config_path(), why);
		html_refuse(request, response, 500, "The server is not configured correctly.", reason);
		goto out;
	}
	if (join_read_dial_in(&join) != DB_OK) {
		html_refuse(request, response, 503,
		    "The conference service is unavailable. Try again later.", join.db->why);
		goto out;
	}
	join.pin = cgi_query_value(request, "pin");
	if (join.pin != NULL && !join_pin_plausible(join.pin)) {
		free(join.pin);
		join.pin = NULL;
	}
	if ((out = open_memstream(&page, &length)) == NULL || join_set_headers(&join) != 0) {
		if (out != NULL)
			fclose(out);
		free(page);
		html_refuse(request, response, 500, "Internal error.", "out of memory");
		goto out;
	}
	join_render(&join, out);
	fclose(out);
	cgi_response_set_body(response, 200, "text/html; charset=utf-8", page);
out:
	free(join.dial_in_html);
	free(join.pin);
}

int
main(void)
{
	return service_main("join.cgi", join_handle);
}
