/* detach.c: start a program that outlives the request and the web server's hold on it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "configfile.h"
#include "detach.h"

/* What of our environment the program may see: its config, and the sanitizers' options. */
static const char *const detach_kept[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};

#define DETACH_KEPT	(sizeof(detach_kept) / sizeof(detach_kept[0]))

/* In the child only: what it builds is never freed, it is exec'd or exits. */
static void
detach_environment(char **environment)
{
	const char *value;
	size_t i, used = 0;

	if (asprintf(&environment[used], "PINCONF_CONFIG=%s", config_path()) >= 0)
		used++;
	environment[used++] = "PATH=/usr/bin:/bin";
	for (i = 0; i < DETACH_KEPT; i++)
		if ((value = getenv(detach_kept[i])) != NULL &&
		    asprintf(&environment[used], "%s=%s", detach_kept[i], value) >= 0)
			used++;
	environment[used] = NULL;
}

/*
 * The grandchild: nothing of the request (the FastCGI socket, the database)
 * stays open in it.  It waits for the parent's answer to be out, then execs.
 */
static void
detach_run(const char *path, char *const argv[], int wait_fd)
{
	char *environment[DETACH_KEPT + 3], byte;
	long fd, max = sysconf(_SC_OPEN_MAX);
	int null;
	sigset_t none;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != wait_fd)
			close((int)fd);
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(127);
	if (null > 2)
		close(null);
	/* The FastCGI loop blocks SIGTERM; the program must not inherit that. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	while (read(wait_fd, &byte, 1) < 0 && errno == EINTR)
		;
	close(wait_fd);
	detach_environment(environment);
	execve(path, argv, environment);
	fprintf(stderr, "callback.cgi: %s: cannot run: %s\n", path, strerror(errno));
	_exit(127);
}

int
detach_start(const char *path, char *const argv[], int *release, char *why, size_t why_size)
{
	int gate[2], status;
	pid_t child, waited;

	*release = -1;
	if (pipe(gate) != 0) {
		snprintf(why, why_size, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	/* Flushed now, or both copies would write what is buffered. */
	fflush(stderr);
	if ((child = fork()) < 0) {
		snprintf(why, why_size, "cannot fork: %s", strerror(errno));
		close(gate[0]);
		close(gate[1]);
		return -1;
	}
	if (child == 0) {
		/* A session of its own: the web server kills our process group, not it. */
		close(gate[1]);
		if (setsid() < 0)
			_exit(1);
		if ((child = fork()) < 0)
			_exit(1);
		if (child == 0)
			detach_run(path, argv, gate[0]);
		_exit(0);
	}
	close(gate[0]);
	while ((waited = waitpid(child, &status, 0)) < 0 && errno == EINTR)
		;
	if (waited != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, why_size, "cannot start %s in a session of its own", path);
		close(gate[1]);
		return -1;
	}
	*release = gate[1];
	return 0;
}

void
detach_release(int *release)
{
	if (*release >= 0)
		close(*release);
	*release = -1;
}
