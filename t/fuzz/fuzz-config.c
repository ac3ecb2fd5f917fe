/* fuzz-config.c: pinconf.conf, through the parser every CGI runs at start-up. */
#include "config.h"

#include <stdio.h>

#include "configfile.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config config;
	char why[512];
	FILE *file;

	if (size == 0 || (file = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	if (config_read(&config, file, why, sizeof(why)) == 0)
		config_free(&config);
	fclose(file);
	return 0;
}
