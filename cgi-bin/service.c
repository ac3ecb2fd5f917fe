/* service.c: what a program keeps between the requests it serves: config and database. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "cgi.h"
#include "configfile.h"
#include "db.h"
#include "detach.h"
#include "service.h"

/*
 * The one piece of state outside struct service: a signal handler can reach
 * nothing else.  Set by SIGTERM; the loop stops before its next wait.
 */
static volatile sig_atomic_t service_stopping;

/* Whether the config file is another file, or was written, since it was read. */
static int
service_config_changed(const struct service *service, const struct stat *now)
{
	return now->st_dev != service->config_device || now->st_ino != service->config_inode ||
	    now->st_size != service->config_size ||
	    now->st_mtim.tv_sec != service->config_mtime.tv_sec ||
	    now->st_mtim.tv_nsec != service->config_mtime.tv_nsec;
}

static void
service_close_database(struct service *service)
{
	if (service->db_open)
		db_close(&service->db);
	service->db_open = 0;
}

/* Forget the config, and the database it named (db.path points into it). */
static void
service_forget_config(struct service *service)
{
	service_close_database(service);
	if (service->config_loaded)
		config_free(&service->config);
	service->config_loaded = 0;
	free(service->config_file);
	service->config_file = NULL;
}

/*
 * Under FastCGI a kept config is checked against its file at every request:
 * a stat (the database gets one too), and a reload when the file was replaced
 * or written, so a change shows at the next request.  The file is stat'ed
 * before it is read, so a write during the read shows next time.
 * A config that fails to load is never kept: the next request tries again.
 */
const struct config *
service_config(struct service *service, char *why, size_t why_size)
{
	const char *path = config_path();
	struct stat now;

	if (service->config_loaded && strcmp(path, service->config_file) != 0)
		service_forget_config(service);
	if (service->config_loaded) {
		if (!service->persistent)
			return &service->config;
		if (stat(path, &now) == 0 && !service_config_changed(service, &now))
			return &service->config;
		service_forget_config(service);
	}
	if (stat(path, &now) != 0) {
		snprintf(why, why_size, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if ((service->config_file = strdup(path)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	if (config_load(&service->config, path, why, why_size) != 0) {
		free(service->config_file);
		service->config_file = NULL;
		return NULL;
	}
	service->config_loaded = 1;
	service->config_device = now.st_dev;
	service->config_inode = now.st_ino;
	service->config_size = now.st_size;
	service->config_mtime = now.st_mtim;
	return &service->config;
}

/*
 * Whether the kept database must be opened again: its path now names another
 * file (an admin restored a backup over it) or none, or its schema version
 * changed under us (pinconf-upgrade ran).  A schema change within a version
 * needs nothing: prepare_v2 statements prepare themselves again.
 */
static int
service_database_stale(struct service *service)
{
	struct stat now;

	if (stat(service->config.database, &now) != 0)
		return 1;
	if (now.st_dev != service->db_device || now.st_ino != service->db_inode)
		return 1;
	return db_check_version(&service->db) != DB_OK;
}

int
service_database(struct service *service, enum db_mode mode, struct db **db)
{
	struct stat before;
	int rc;

	*db = &service->db;
	if (service->db_open && service->db_mode == mode &&
	    (!service->persistent || !service_database_stale(service)))
		return DB_OK;
	service_close_database(service);
	if (!service->config_loaded) {
		memset(&service->db, 0, sizeof(service->db));
		snprintf(service->db.why, sizeof(service->db.why), "no configuration loaded");
		return DB_FAULT;
	}
	/* Before the open: a file replaced in between is seen, and opened, next time. */
	if (stat(service->config.database, &before) != 0)
		memset(&before, 0, sizeof(before));
	if ((rc = db_open(&service->db, service->config.database, mode,
	    service->config.busy_timeout)) != DB_OK)
		return rc;
	service->db_open = 1;
	service->db_mode = mode;
	if (service->persistent)
		service->db.checkpoint_frames = DB_CHECKPOINT_FRAMES_KEPT;
	service->db_device = before.st_dev;
	service->db_inode = before.st_ino;
	return DB_OK;
}

void
service_request_done(struct service *service)
{
	service->requests++;
	if (service->db_open)
		db_request_done(&service->db);
	if (service->persistent)
		return;
	service_forget_config(service);
}

/* Serve request, whose body comes from in, and write the response to out. */
static int
service_serve(struct service *service, service_handler *handler,
    struct cgi_request *request, int parsed, FILE *in, FILE *out)
{
	struct cgi_response response;
	int rc;

	cgi_response_init(&response);
	if (parsed != 0)
		cgi_refuse(request, &response, 500, "internal error", "out of memory");
	else
		handler(service, request, in, &response);
	service_request_done(service);
	/* HEAD gets the headers GET would, Content-Length included, and no body. */
	response.omit_body = request->method != NULL && strcmp(request->method, "HEAD") == 0;
	cgi_request_drain(request, in);
	rc = cgi_response_write(&response, out);
	cgi_request_free(request);
	cgi_response_free(&response);
	return rc;
}

int
service_after_answer(struct service *service, const char *path, char *const argv[],
    char *why, size_t why_size)
{
	if (service->after_answer >= 0) {
		snprintf(why, why_size, "a program is already waiting for this answer");
		return -1;
	}
	return detach_start(path, argv, &service->after_answer, why, why_size);
}

static int
service_serve_cgi(struct service *service, service_handler *handler)
{
	struct cgi_request request;
	int parsed, rc;

	parsed = cgi_request_from_environment(&request, service->program);
	rc = service_serve(service, handler, &request, parsed, stdin, stdout) == 0 ? 0 : 1;
	/* The answer is out before the detached program may start. */
	fflush(stdout);
	detach_release(&service->after_answer);
	return rc;
}

/* FastCGI streams as stdio, so that handlers and cgi.c keep their FILE *. */
static ssize_t
service_stream_read(void *cookie, char *buffer, size_t size)
{
	int got = FCGX_GetStr(buffer, size > INT_MAX ? INT_MAX : (int)size, cookie);

	return got >= 0 ? got : -1;
}

static ssize_t
service_stream_write(void *cookie, const char *buffer, size_t size)
{
	int put = FCGX_PutStr(buffer, size > INT_MAX ? INT_MAX : (int)size, cookie);

	return put >= 0 ? put : -1;
}

static const char *
service_fastcgi_parameter(void *context, const char *name)
{
	return FCGX_GetParam(name, context);
}

/*
 * mod_fcgid gives a FastCGI program the variables of SetEnv, all that a
 * .htaccess can set, as request parameters, never as its environment
 * (FcgidInitialEnv is for the server config only).  So when PINCONF_CONFIG
 * was not in the environment at start, the request's value is put there,
 * where config_path() and every log line read it.  Parameters come from
 * the server's configuration; a client cannot set this one.
 */
static void
service_config_from_request(struct service *service, FCGX_ParamArray parameters)
{
	const char *wanted, *current;

	if (service->config_from_environment)
		return;
	wanted = FCGX_GetParam("PINCONF_CONFIG", parameters);
	current = getenv("PINCONF_CONFIG");
	if (wanted == NULL || *wanted == '\0') {
		if (current != NULL)
			unsetenv("PINCONF_CONFIG");
	} else if (current == NULL || strcmp(current, wanted) != 0)
		setenv("PINCONF_CONFIG", wanted, 1);
}

static void
service_on_sigterm(int signal_number)
{
	(void)signal_number;
	service_stopping = 1;
}

/*
 * SIGTERM is blocked all the time but in the wait for a connection, so that
 * no read, write or sleep of a request is cut short.  *waiting is the mask
 * to wait with: the process's, with SIGTERM let through.
 */
static int
service_signals(sigset_t *waiting)
{
	struct sigaction action;
	sigset_t term;

	memset(&action, 0, sizeof(action));
	action.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &action, NULL) != 0)
		return -1;
	action.sa_handler = service_on_sigterm;
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGTERM, &action, NULL) != 0)
		return -1;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, waiting) != 0)
		return -1;
	return sigdelset(waiting, SIGTERM);
}

/*
 * Wait for the next request; -1 when SIGTERM came or accept failed.
 * SIGTERM gets through only inside ppoll, which lets it in atomically: one
 * that came before ends the wait at once.  (Checking a flag and then
 * blocking in accept left a moment in which a SIGTERM was spent on the flag,
 * and the process slept in accept until a request came, to drop it.)
 * accept runs with SIGTERM blocked, on a listening socket that never blocks:
 * when another process took the connection, wait again.  So a request that
 * is accepted is always served, and a stop waits for none.
 */
static int
service_accept(FCGX_Request *fastcgi, const sigset_t *waiting)
{
	struct pollfd listener = { .fd = FCGI_LISTENSOCK_FILENO, .events = POLLIN };
	int rc;

	for (;;) {
		if (service_stopping)
			return -1;
		if (ppoll(&listener, 1, NULL, waiting) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		rc = FCGX_Accept_r(fastcgi);
		if (rc != -EAGAIN && rc != -EWOULDBLOCK)
			return rc;
	}
}

/* The listening socket, shared by every process of the program, never blocks an accept. */
static int
service_listener_nonblocking(void)
{
	int flags = fcntl(FCGI_LISTENSOCK_FILENO, F_GETFL);

	return flags < 0 ? -1 : fcntl(FCGI_LISTENSOCK_FILENO, F_SETFL, flags | O_NONBLOCK);
}

/*
 * libfcgi closes a connection by shutting down its side and waiting until
 * the server closes the other, so that no unread input turns into a reset;
 * the process idles for a round trip through the server's event loop at
 * every request.  cgi_request_drain() has read what it would of the body:
 * when nothing is left but the end of the input, a plain close is safe, and
 * the next request is accepted at once.
 */
static void
service_finish(FCGX_Request *fastcgi)
{
	char probe;

	if (FCGX_GetStr(&probe, 1, fastcgi->in) == 0 && FCGX_HasSeenEOF(fastcgi->in) == EOF &&
	    FCGX_GetError(fastcgi->in) == 0)
		FCGX_Detach(fastcgi);
	FCGX_Finish_r(fastcgi);
	FCGX_Attach(fastcgi);
}

static int
service_serve_fastcgi(struct service *service, service_handler *handler)
{
	cookie_io_functions_t reader = { .read = service_stream_read };
	cookie_io_functions_t writer = { .write = service_stream_write };
	struct cgi_parameters parameters = { service_fastcgi_parameter, NULL };
	struct cgi_request request;
	FCGX_Request fastcgi;
	FILE *in, *out;
	sigset_t waiting;
	int parsed;

	service->persistent = 1;
	/*
	 * Each request frees what it allocated, and glibc would hand the top of
	 * the heap back to the kernel every time, only to fault it in again at
	 * the next request: keep up to 4 MiB.
	 */
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	service->config_from_environment = getenv("PINCONF_CONFIG") != NULL &&
	    *getenv("PINCONF_CONFIG") != '\0';
	if (service_signals(&waiting) != 0 || service_listener_nonblocking() != 0 ||
	    FCGX_InitRequest(&fastcgi, FCGI_LISTENSOCK_FILENO, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "%s: cannot start FastCGI: %s\n", service->program, strerror(errno));
		return 1;
	}
	while (service_accept(&fastcgi, &waiting) >= 0) {
		parameters.context = fastcgi.envp;
		service_config_from_request(service, fastcgi.envp);
		in = fopencookie(fastcgi.in, "r", reader);
		out = fopencookie(fastcgi.out, "w", writer);
		if (in == NULL || out == NULL) {
			fprintf(stderr, "%s: out of memory\n", service->program);
			FCGX_PutS("Status: 500 Internal Server Error\r\n\r\n", fastcgi.out);
		} else {
			parsed = cgi_request_from_parameters(&request, service->program, &parameters);
			service_serve(service, handler, &request, parsed, in, out);
		}
		if (in != NULL)
			fclose(in);
		if (out != NULL)
			fclose(out);
		service_finish(&fastcgi);
		detach_release(&service->after_answer);
	}
	FCGX_Free(&fastcgi, 1);
	service_forget_config(service);
	return 0;
}

int
service_main(const char *program, service_handler *handler)
{
	struct service service = { .program = program, .after_answer = -1 };

	if (FCGX_IsCGI())
		return service_serve_cgi(&service, handler);
	return service_serve_fastcgi(&service, handler);
}
