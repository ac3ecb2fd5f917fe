/* unit-service.c: what a FastCGI process keeps between requests, and what it must not. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "configfile.h"
#include "db.h"
#include "service.h"
#include "tap.h"

#define SCRATCH	"t/tmp/unit-service"
#define TEXT(x)	TEXT_(x)
#define TEXT_(x)	#x

static char config_file[256], db_file[256], other_db_file[256];

static void
die(const char *what)
{
	fprintf(stderr, "unit-service: %s: %s\n", what, strerror(errno));
	exit(99);
}

static void
write_file(const char *path, const char *text)
{
	char temporary[300];
	FILE *out;

	snprintf(temporary, sizeof(temporary), "%s.new", path);
	if ((out = fopen(temporary, "w")) == NULL || fputs(text, out) == EOF || fclose(out) != 0)
		die(temporary);
	if (rename(temporary, path) != 0)
		die(path);
}

static void
write_config(const char *database, const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text), "application_key = 5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7b\n"
	    "application_secret = zLq1b3hJ9kQ2Zk5tM0c3dA==\ndatabase = %s\n%s", database, extra);
	write_file(config_file, text);
}

/* Run sql on path with a connection of the test's own, as an admin would. */
static int
admin(const char *path, const char *sql)
{
	sqlite3 *handle;
	int rc;

	if (sqlite3_open(path, &handle) != SQLITE_OK)
		die(path);
	sqlite3_busy_timeout(handle, 5000);
	rc = sqlite3_exec(handle, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "# admin: %s\n", sqlite3_errmsg(handle));
	sqlite3_close(handle);
	return rc;
}

/* One integer from sql on path, -1 on error. */
static long long
admin_count(const char *path, const char *sql)
{
	sqlite3 *handle;
	sqlite3_stmt *stmt;
	long long value = -1;

	if (sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die(path);
	if (sqlite3_prepare_v2(handle, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(handle);
	return value;
}

static void
make_db(const char *path, const char *pin)
{
	char schema_path[512], *schema, sql[200];
	const char *srcdir = getenv("PINCONF_SRCDIR");
	FILE *in;
	long size;

	snprintf(schema_path, sizeof(schema_path), "%s/db/schema.sql", srcdir ? srcdir : "..");
	if ((in = fopen(schema_path, "r")) == NULL)
		die(schema_path);
	fseek(in, 0, SEEK_END);
	size = ftell(in);
	rewind(in);
	if ((schema = calloc(1, (size_t)size + 1)) == NULL || fread(schema, 1, (size_t)size, in) != (size_t)size)
		die("schema.sql");
	fclose(in);
	unlink(path);
	if (admin(path, schema) != SQLITE_OK)
		die("schema.sql");
	free(schema);
	snprintf(sql, sizeof(sql), "INSERT INTO conference(name, pin) VALUES ('Weekly', '%s')", pin);
	if (admin(path, sql) != SQLITE_OK)
		die("conference");
}

static long
file_size(const char *path)
{
	struct stat status;

	return stat(path, &status) == 0 ? (long)status.st_size : -1;
}

/* The service as a FastCGI process has it: persistent. */
static void
service_start(struct service *service)
{
	memset(service, 0, sizeof(*service));
	service->program = "unit-service";
	service->persistent = 1;
}

static void
test_config_kept_and_reloaded(void)
{
	struct service service;
	const struct config *config;
	char why[256];

	write_config(db_file, "pin_attempts = 4\n");
	service_start(&service);
	config = service_config(&service, why, sizeof(why));
	tap_ok(config != NULL && config->pin_attempts == 4, "the config is loaded on the first request");
	service_request_done(&service);
	write_config(db_file, "pin_attempts = 5\n");
	config = service_config(&service, why, sizeof(why));
	tap_ok(config != NULL && config->pin_attempts == 5,
	    "the next request reads the changed config, with no second's wait");
	service_request_done(&service);
	tap_ok(service_config(&service, why, sizeof(why)) == config,
	    "an unchanged config is kept, not read again");
	service_request_done(&service);

	write_file(config_file, "application_key = nonsense\n");
	tap_ok(service_config(&service, why, sizeof(why)) == NULL,
	    "a config broken on disk is refused, not replaced by the good one kept");
	service_request_done(&service);
	tap_ok(service_config(&service, why, sizeof(why)) == NULL && !service.config_loaded,
	    "the broken config is not kept: the next request reads the file again");
	service_request_done(&service);
	write_config(db_file, "pin_attempts = 6\n");
	config = service_config(&service, why, sizeof(why));
	tap_ok(config != NULL && config->pin_attempts == 6,
	    "once repaired, the very next request loads the config (no second's wait)");
	service_request_done(&service);

	unlink(config_file);
	tap_ok(service_config(&service, why, sizeof(why)) == NULL && strstr(why, "No such file") != NULL,
	    "a config removed from disk is dropped, with the reason");
	service_request_done(&service);
	write_config(db_file, "");
	tap_ok(service_config(&service, why, sizeof(why)) != NULL, "a config put back is read at once");
	service_request_done(&service);
	service.persistent = 0;
	service_request_done(&service);
}

static void
test_database_kept_and_reopened(void)
{
	struct service service;
	struct db *db;
	struct db_conference conference;
	sqlite3 *first;
	char why[256];

	write_config(db_file, "");
	service_start(&service);
	service_config(&service, why, sizeof(why));
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_OK, "the database opens");
	first = db->handle;
	tap_ok(db_find_pin_holder(db, "1234", "UTC", time(NULL), &conference) == DB_OK,
	    "the conference of the first database is found");
	service_request_done(&service);
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_OK && db->handle == first,
	    "the next request reuses the open connection");
	tap_ok(db_call_started(db, "before-trigger", "pstn", "4670", NULL) == DB_OK,
	    "a call is written with the statement prepared now");
	service_request_done(&service);

	/* An admin adds a trigger: statements prepared before it must run it. */
	admin(db_file, "CREATE TABLE audit(callid TEXT);"
	    "CREATE TRIGGER call_audit AFTER INSERT ON call BEGIN"
	    " INSERT INTO audit VALUES (NEW.callid); END;");
	service_database(&service, DB_READ_WRITE, &db);
	tap_ok(db_call_started(db, "after-trigger", "pstn", "4670", NULL) == DB_OK,
	    "after a schema change by an admin the kept statement still runs");
	service_request_done(&service);
	tap_ok(admin_count(db_file, "SELECT count(*) FROM audit WHERE callid = 'after-trigger'") == 1,
	    "and it runs under the new schema: the admin's trigger fired");

	/* The file replaced as pinconf(7) says: old file and its -wal and -shm moved away together. */
	make_db(other_db_file, "5678");
	rename(db_file, SCRATCH "/old.db");
	unlink(SCRATCH "/pinconf.db-wal");
	unlink(SCRATCH "/pinconf.db-shm");
	rename(other_db_file, db_file);
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_OK, "a replaced database opens");
	tap_ok(db_find_pin_holder(db, "5678", "UTC", time(NULL), &conference) == DB_OK,
	    "the replacing file is used at the next request, not the old one kept open");
	tap_ok(db_find_pin_holder(db, "1234", "UTC", time(NULL), &conference) == DB_NONE,
	    "the old file's conference is gone with it");
	service_request_done(&service);

	admin(db_file, "PRAGMA user_version = 99");
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_WRONG_VERSION,
	    "a schema version changed under a running process is noticed at the next request");
	service_request_done(&service);
	admin(db_file, "PRAGMA user_version = " TEXT(DB_SCHEMA_VERSION));
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_OK,
	    "and once set back, the database opens again");
	service_request_done(&service);
	rename(db_file, SCRATCH "/gone.db");
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_FAULT && db->why[0] != '\0',
	    "a database removed under a running process fails the request with the reason");
	service_request_done(&service);
	rename(SCRATCH "/gone.db", db_file);
	tap_ok(service_database(&service, DB_READ_WRITE, &db) == DB_OK,
	    "a failed open is tried again at the next request");
	service_request_done(&service);
	service.persistent = 0;
	service_request_done(&service);
}

static void
test_request_leaves_nothing(void)
{
	struct service service;
	struct db *db;
	char why[256];

	write_config(db_file, "busy_timeout = 100\n");
	service_start(&service);
	service_config(&service, why, sizeof(why));
	service_database(&service, DB_READ_WRITE, &db);
	/* A request that fails half-way: a write inside a transaction, never committed. */
	tap_ok(db_begin(db) == DB_OK && db_call_started(db, "half-way", "pstn", "4670", NULL) == DB_OK,
	    "the first request writes inside a transaction");
	snprintf(db->why, sizeof(db->why), "database: something failed");
	service_request_done(&service);
	service_database(&service, DB_READ_WRITE, &db);
	tap_ok(sqlite3_get_autocommit(db->handle), "after it, no transaction is left open");
	tap_is(db->why, "", "after it, its error is forgotten");
	tap_ok(admin_count(db_file, "SELECT count(*) FROM call WHERE callid = 'half-way'") == 0,
	    "its half-done write was rolled back");
	tap_ok(db_begin(db) == DB_OK && db_call_started(db, "clean", "pstn", "4670", NULL) == DB_OK &&
	    db_commit(db) == DB_OK, "the second request in the same process writes and commits");
	service_request_done(&service);
	tap_ok(admin_count(db_file, "SELECT count(*) FROM call WHERE callid = 'clean'") == 1,
	    "and its write is there");

	/* A locked database: the error of one request does not stick to the next. */
	{
		sqlite3 *holder;

		sqlite3_open(db_file, &holder);
		sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		service_database(&service, DB_READ_WRITE, &db);
		tap_ok(db_begin(db) == DB_FAULT && strstr(db->why, "locked") != NULL,
		    "while an admin holds the write lock the request fails with 'locked'");
		service_request_done(&service);
		sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(holder);
	}
	service_database(&service, DB_READ_WRITE, &db);
	tap_ok(db->why[0] == '\0' && db_begin(db) == DB_OK && db_commit(db) == DB_OK,
	    "once the lock is gone the next request writes, no error left over");
	service_request_done(&service);
	service.persistent = 0;
	service_request_done(&service);
}

/* As a CGI: open, write, close, over and over; the WAL must neither vanish nor grow. */
static void
test_wal_kept_and_bounded(void)
{
	struct service service;
	struct db *db;
	char why[256], callid[40];
	long largest = 0, size;
	int i;

	write_config(db_file, "");
	for (i = 0; i < 3000; i++) {
		memset(&service, 0, sizeof(service));
		service.program = "unit-service";
		service_config(&service, why, sizeof(why));
		snprintf(callid, sizeof(callid), "wal-%d", i);
		if (service_database(&service, DB_READ_WRITE, &db) != DB_OK || db_begin(db) != DB_OK ||
		    db_call_started(db, callid, "pstn", "46700000000", NULL) != DB_OK || db_commit(db) != DB_OK)
			break;
		service_request_done(&service);
		if ((size = file_size(SCRATCH "/pinconf.db-wal")) > largest)
			largest = size;
	}
	tap_ok(i == 3000, "3000 CGI-style requests each wrote a call");
	tap_ok(file_size(SCRATCH "/pinconf.db-wal") >= 0 && file_size(SCRATCH "/pinconf.db-shm") >= 0,
	    "the last CGI's close leaves the -wal and -shm files (no checkpoint, no unlink)");
	tap_ok(largest > 0 && largest < 2 * 1024 * 1024,
	    "the WAL stays under 2 MiB: checkpoints run and the WAL starts over");
	if (largest >= 2 * 1024 * 1024)
		printf("#   largest WAL: %ld bytes\n", largest);
	tap_ok(admin_count(db_file, "SELECT count(*) FROM call WHERE callid LIKE 'wal-%'") == 3000,
	    "every write is in the database");
}

int
main(void)
{
	mkdir("t", 0755);
	mkdir("t/tmp", 0755);
	mkdir(SCRATCH, 0755);
	snprintf(config_file, sizeof(config_file), "%s/pinconf.conf", SCRATCH);
	snprintf(db_file, sizeof(db_file), "%s/pinconf.db", SCRATCH);
	snprintf(other_db_file, sizeof(other_db_file), "%s/other.db", SCRATCH);
	setenv("PINCONF_CONFIG", config_file, 1);
	make_db(db_file, "1234");

	test_config_kept_and_reloaded();
	test_database_kept_and_reopened();
	test_request_leaves_nothing();
	test_wal_kept_and_bounded();
	return tap_done();
}
