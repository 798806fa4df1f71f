/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration loader: any byte string must load or fail cleanly
 * (no crash, leak or undefined behaviour), and whatever loads must survive the JSON round trip:
 * the JSON of a configuration is itself a configuration that loads to the same JSON.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_config *cfg = NULL, *again = NULL;
	struct sl_config_error err;
	char line[1024];
	char *json, *json2;

	if (sl_config_load_buffer("fuzz.yaml", (const char *)data, size, &cfg, &err) < 0) {
		/* the message must be a complete, formattable sentence */
		sl_config_error_format(&err, line, sizeof(line));
		if (!err.msg[0])
			abort();
		return 0;
	}
	json = sl_config_to_json(cfg);
	if (!json)
		abort();
	if (sl_config_load_buffer("fuzz.json", json, strlen(json), &again, &err) < 0) {
		sl_config_error_format(&err, line, sizeof(line));
		fprintf(stderr, "JSON of a valid configuration does not load: %s\n%s\n", line,
			json);
		abort();
	}
	json2 = sl_config_to_json(again);
	if (!json2 || strcmp(json, json2)) {
		fprintf(stderr, "JSON round trip differs:\n%s\n---\n%s\n", json,
			json2 ? json2 : "(null)");
		abort();
	}
	free(json2);
	free(json);
	sl_config_free(again);
	sl_config_free(cfg);
	return 0;
}
