/* service.h: what a program keeps between the requests it serves: config and database. */
#ifndef PINCONF_SERVICE_H
#define PINCONF_SERVICE_H

#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "cgi.h"
#include "configfile.h"
#include "db.h"

/*
 * One per process.  As a CGI it lives for one request; under FastCGI for
 * many, and then the config and the open database are reused, never anything
 * that belongs to a request.
 */
struct service {
	const char	*program;
	int		 persistent;	/* FastCGI: keep config and database between requests */
	struct config	 config;
	int		 config_loaded;
	char		*config_file;	/* the path it was read from (owned) */
	int		 config_from_environment;	/* PINCONF_CONFIG set at start */
	dev_t		 config_device;	/* the identity of the file config was read from */
	ino_t		 config_inode;
	struct timespec	 config_mtime;
	off_t		 config_size;
	struct db	 db;
	int		 db_open;
	enum db_mode	 db_mode;
	dev_t		 db_device;	/* the identity of the file db has open */
	ino_t		 db_inode;
	unsigned long	 requests;	/* served by this process */
	int		 after_answer;	/* this request's detached program's gate; -1 none */
};

/* The config, loaded now or kept; NULL with a one-line reason in why (no secret in it). */
const struct config *service_config(struct service *, char *why, size_t why_size);

/*
 * The database, opened now or kept, in mode; needs service_config() first.
 * *db is always set, so (*db)->why says what failed.  DB_OK, or a fault.
 */
int	 service_database(struct service *, enum db_mode, struct db **db);

/*
 * Run path with argv once this request's answer is out, detached from the
 * web server (detach.h); at most one a request.  0, or -1 with why.
 */
int	 service_after_answer(struct service *, const char *path, char *const argv[],
	    char *why, size_t why_size);

/* After each request: roll back what it left open; as a CGI, close everything. */
void	 service_request_done(struct service *);

typedef void service_handler(struct service *, struct cgi_request *, FILE *in,
	    struct cgi_response *);

/*
 * The whole of a program's main(): serve one request as a CGI, or, when
 * standard input is a listening socket (a FastCGI process manager started
 * us), serve FastCGI requests until SIGTERM.
 */
int	 service_main(const char *program, service_handler *handler);

#endif
