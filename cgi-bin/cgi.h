/* cgi.h: one CGI request in (RFC 3875 environment and body), one response out. */
#ifndef PINCONF_CGI_H
#define PINCONF_CGI_H

#include <stddef.h>
#include <stdio.h>

#define CGI_HEADERS_MAX	16
#define CGI_OWNED_HEADERS_MAX	4

struct cgi_request {
	const char	*program;	/* for log lines: "callback.cgi" */
	const char	*method;
	const char	*content_type;	/* exactly as sent, or NULL */
	const char	*content_length;
	const char	*query;		/* never NULL */
	const char	*remote_address;
	const char	*forwarded_for;	/* X-Forwarded-For; see address_client() */
	const char	*origin;	/* Origin and Sec-Fetch-Site: cross-site checks */
	const char	*fetch_site;
	const char	*host;
	const char	*authorization;
	const char	*timestamp;	/* X-Timestamp header */
	const char	*cookie;	/* Cookie header, or NULL */
	const char	*path_info;	/* PATH_INFO: owner.cgi's page */
	const char	*remote_user;	/* REMOTE_USER: set by the server's authentication */
	int		 https;		/* HTTPS=on (or REQUEST_SCHEME=https): the request came encrypted */
	char		*path;		/* path as the client asked for it, no query */
	char		*body;		/* NUL-terminated, owned */
	size_t		 body_length;
};

struct cgi_response {
	int		 status;
	const char	*content_type;
	const char	*headers[CGI_HEADERS_MAX];	/* "Name: value", static strings */
	char		*extra_header;			/* one owned "Name: value" */
	char		*owned_headers[CGI_OWNED_HEADERS_MAX];	/* more owned ones */
	char		*body;				/* owned */
	size_t		 body_length;
	int		 headers_overflowed;		/* cgi_response_write() then answers 500 */
	int		 omit_body;			/* HEAD: headers only */
};

/*
 * Where a request's RFC 3875 meta-variables come from: the environment of a
 * CGI, or a FastCGI request's parameters.  lookup returns NULL when absent;
 * what it returns must outlive the request.
 */
struct cgi_parameters {
	const char	*(*lookup)(void *context, const char *name);
	void		*context;
};

/* Fill request from the CGI environment; body is read later. 0, or -1 on ENOMEM. */
int	 cgi_request_from_environment(struct cgi_request *, const char *program);
/* The same from any source of meta-variables (FastCGI parameters). */
int	 cgi_request_from_parameters(struct cgi_request *, const char *program,
	    const struct cgi_parameters *);
void	 cgi_request_free(struct cgi_request *);

/*
 * Read exactly CONTENT_LENGTH bytes of body from in, refusing more than cap.
 * Returns 0, or an HTTP status (400, 411, 413) with a reason in *why.
 */
int	 cgi_request_read_body(struct cgi_request *, FILE *in, size_t cap,
	    const char **why);

/* 1 if text is 1 to max bytes of printable UTF-8: no control characters, no bad bytes. */
int	 cgi_text_ok(const char *text, size_t max);
/*
 * Is the character at text a control (C0, DEL, C1), a bidirectional control
 * or an invisible format character, or not valid UTF-8?  *length: its bytes
 * (1 if invalid), *code: its code point (-1 if invalid).
 */
int	 cgi_character_unsafe(const char *text, size_t *length, long *code);
/* A name people see (display and attendee names): 1 to max_characters, none unsafe. */
int	 cgi_name_ok(const char *name, size_t max_characters);

/*
 * 1 if a browser sent this request from another site (Sec-Fetch-Site other
 * than same-origin or none, or an Origin that is not this host), with why.
 * A request with neither header (a script, not a browser) is not.
 */
int	 cgi_cross_site(const struct cgi_request *, const char **why);

/*
 * The same, and with public_url set ("https://conf.example.com", the origin
 * pinconf is reached at) an Origin must equal it: the Host header, which
 * DNS rebinding controls, is then not trusted.
 */
int	 cgi_cross_site_origin(const struct cgi_request *, const char *public_url,
	    const char **why);

/* 1 if the request's media type (parameters aside) is type, any case. */
int	 cgi_content_type_is(const struct cgi_request *, const char *type);

/* Value of query parameter name, URL-decoded, malloc'd; NULL if absent or bad. */
char	*cgi_query_value(const struct cgi_request *, const char *name);

/* The same for any application/x-www-form-urlencoded text, such as a POST body. */
char	*cgi_form_value(const char *encoded, const char *name);

void	 cgi_response_init(struct cgi_response *);
void	 cgi_response_free(struct cgi_response *);
/* 0, or -1 when full: then the response is spoiled and written as a bare 500. */
int	 cgi_response_add_header(struct cgi_response *, const char *header);
/* The same for a malloc'd header, owned from now on (freed if it does not fit). */
int	 cgi_response_add_owned_header(struct cgi_response *, char *header);
/* Take ownership of body (a NUL-terminated string). */
void	 cgi_response_set_body(struct cgi_response *, int status,
	    const char *content_type, char *body);
/* A {"error": message} JSON body with status. */
void	 cgi_response_json_error(struct cgi_response *, int status, const char *message);
/* Write it; without a body for HEAD, as a bare 500 if a header did not fit. */
int	 cgi_response_write(const struct cgi_response *, FILE *out);

/* One line on stderr, which the web server puts in its error log: "program: ...". */
void	 cgi_log(const struct cgi_request *, const char *format, ...)
	    __attribute__((format(printf, 2, 3)));

/* The one log line of a refused request: "program: METHOD PATH: STATUS why". */
void	 cgi_log_refusal(const struct cgi_request *, int status, const char *why);

/* Log why, and answer status with {"error": message}: the one path for refusals. */
void	 cgi_refuse(const struct cgi_request *, struct cgi_response *, int status,
	    const char *message, const char *why);

const char *cgi_status_text(int status);

/* Read and discard what a refused request sent, up to a bound (mod_cgid resets otherwise). */
void	 cgi_request_drain(const struct cgi_request *, FILE *in);

#endif
