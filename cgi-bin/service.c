/* service.c: what a program keeps between the requests it serves: config and database. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cgi.h"
#include "configfile.h"
#include "db.h"
#include "service.h"

const struct config *
service_config(struct service *service, char *why, size_t why_size)
{
	if (service->config_loaded)
		return &service->config;
	if (config_load(&service->config, config_path(), why, why_size) != 0)
		return NULL;
	service->config_loaded = 1;
	return &service->config;
}

int
service_database(struct service *service, enum db_mode mode, struct db **db)
{
	int rc;

	*db = &service->db;
	if (service->db_open && service->db_mode == mode)
		return DB_OK;
	if (service->db_open) {
		db_close(&service->db);
		service->db_open = 0;
	}
	if (!service->config_loaded) {
		memset(&service->db, 0, sizeof(service->db));
		snprintf(service->db.why, sizeof(service->db.why), "no configuration loaded");
		return DB_FAULT;
	}
	if ((rc = db_open(&service->db, service->config.database, mode,
	    service->config.busy_timeout)) != DB_OK)
		return rc;
	service->db_open = 1;
	service->db_mode = mode;
	return DB_OK;
}

void
service_request_done(struct service *service)
{
	if (service->db_open)
		db_rollback(&service->db);
	if (service->persistent)
		return;
	if (service->db_open)
		db_close(&service->db);
	service->db_open = 0;
	if (service->config_loaded)
		config_free(&service->config);
	service->config_loaded = 0;
}

int
service_main(const char *program, service_handler *handler)
{
	struct service service = { .program = program };
	struct cgi_request request;
	struct cgi_response response;
	int rc;

	cgi_response_init(&response);
	if (cgi_request_from_environment(&request, program) != 0)
		cgi_refuse(&request, &response, 500, "internal error", "out of memory");
	else
		handler(&service, &request, stdin, &response);
	service_request_done(&service);
	/* HEAD gets the headers GET would, Content-Length included, and no body. */
	response.omit_body = request.method != NULL && strcmp(request.method, "HEAD") == 0;
	cgi_request_drain(&request, stdin);
	rc = cgi_response_write(&response, stdout);
	cgi_request_free(&request);
	cgi_response_free(&response);
	return rc == 0 ? 0 : 1;
}
