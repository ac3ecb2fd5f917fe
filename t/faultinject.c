/*
 * faultinject.c: an LD_PRELOAD library for t/callback-faults-injected.t.
 * PINCONF_FAULT=N:CODE makes the Nth sqlite3_step() the program calls return
 * CODE (BUSY, IOERR, FULL, READONLY, CORRUPT) without running, and
 * sqlite3_errcode()/sqlite3_errmsg() of that connection say so until its
 * next step, as SQLite itself would.  PINCONF_SIGTERM_BEFORE_ACCEPT=1 (for
 * t/fastcgi.t) makes the first accept() send the process SIGTERM just before
 * it accepts: the moment between "stopping?" and the wait.  Test code only,
 * never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <sqlite3.h>

static const struct {
	const char	*name;
	int		 code;
} fault_codes[] = {
	{ "BUSY", SQLITE_BUSY },
	{ "IOERR", SQLITE_IOERR },
	{ "FULL", SQLITE_FULL },
	{ "READONLY", SQLITE_READONLY },
	{ "CORRUPT", SQLITE_CORRUPT },
};

/* One process, one request: plain statics are what a preloaded test library can have. */
static long	 fault_step = -1;
static int	 fault_code;
static int	 fault_parsed;
static long	 step_count;
static sqlite3	*fault_db;

static void
fault_parse(void)
{
	const char *spec = getenv("PINCONF_FAULT"), *colon;
	size_t i;

	fault_parsed = 1;
	if (spec == NULL || (colon = strchr(spec, ':')) == NULL)
		return;
	for (i = 0; i < sizeof(fault_codes) / sizeof(fault_codes[0]); i++) {
		if (strcmp(colon + 1, fault_codes[i].name) == 0) {
			fault_step = strtol(spec, NULL, 10);
			fault_code = fault_codes[i].code;
		}
	}
}

int
sqlite3_step(sqlite3_stmt *stmt)
{
	static int (*real_step)(sqlite3_stmt *);
	const char *sql;
	Dl_info caller;

	if (real_step == NULL)
		real_step = (int (*)(sqlite3_stmt *))dlsym(RTLD_NEXT, "sqlite3_step");
	if (!fault_parsed)
		fault_parse();
	/* SQLite steps its own statements (the schema, sqlite3_exec): not ours to count. */
	if (dladdr(__builtin_return_address(0), &caller) != 0 && caller.dli_fname != NULL &&
	    strstr(caller.dli_fname, "libsqlite3") != NULL)
		return real_step(stmt);
	if (fault_db == sqlite3_db_handle(stmt))
		fault_db = NULL;
	if (++step_count == fault_step) {
		sql = sqlite3_sql(stmt);
		fprintf(stderr, "faultinject: step %ld (%.60s) -> %s\n", step_count,
		    sql != NULL ? sql : "?", sqlite3_errstr(fault_code));
		fault_db = sqlite3_db_handle(stmt);
		return fault_code;
	}
	return real_step(stmt);
}

int
sqlite3_errcode(sqlite3 *db)
{
	static int (*real_errcode)(sqlite3 *);

	if (db != NULL && db == fault_db)
		return fault_code;
	if (real_errcode == NULL)
		real_errcode = (int (*)(sqlite3 *))dlsym(RTLD_NEXT, "sqlite3_errcode");
	return real_errcode(db);
}

const char *
sqlite3_errmsg(sqlite3 *db)
{
	static const char *(*real_errmsg)(sqlite3 *);

	if (db != NULL && db == fault_db)
		return sqlite3_errstr(fault_code);
	if (real_errmsg == NULL)
		real_errmsg = (const char *(*)(sqlite3 *))dlsym(RTLD_NEXT, "sqlite3_errmsg");
	return real_errmsg(db);
}

int
accept(int listener, struct sockaddr *address, socklen_t *length)
{
	static int (*real_accept)(int, struct sockaddr *, socklen_t *);
	static int raised;
	const char *wanted = getenv("PINCONF_SIGTERM_BEFORE_ACCEPT");

	if (real_accept == NULL)
		real_accept = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
	if (!raised && wanted != NULL && strcmp(wanted, "1") == 0) {
		raised = 1;
		fprintf(stderr, "faultinject: SIGTERM before accept\n");
		raise(SIGTERM);
	}
	return real_accept(listener, address, length);
}
