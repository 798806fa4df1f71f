/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP request parser and the request head writer: see fuzz_http.h.
 * Run: build-fuzz/tests/fuzz/fuzz_http_request -dict=tests/fuzz/http.dict scratch/ \
 *      tests/fuzz/corpus/http_request
 */
#include "tests/fuzz/fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_http(SL_HTTP_REQUEST, data, size);
}
