/* detach.h: start a program that outlives the request and the web server's hold on it. */
#ifndef PINCONF_DETACH_H
#define PINCONF_DETACH_H

#include <stddef.h>

#define DETACH_ARGUMENTS_MAX	8

/*
 * Start path with argv (NULL-terminated, at most DETACH_ARGUMENTS_MAX)
 * in a session of its own, with an environment of only PINCONF_CONFIG and
 * the sanitizers' options, stdin and stdout on /dev/null, stderr kept (the
 * web server's log).  It waits, before exec, until detach_release() closes
 * *release (or this process ends): so it runs only once the answer is out.
 * The intermediate child is reaped here: no zombie is left.  0, or -1 with why.
 */
int	 detach_start(const char *path, char *const argv[], int *release, char *why,
	    size_t why_size);

/* Let the program started with release run now; release becomes -1. */
void	 detach_release(int *release);

#endif
