/*
 * libFuzzer harness: one server, a fresh session per input; the input
 * follows a base:1.1 hello (so it is decoded as chunked messages, RPCs,
 * edits, filters, subscriptions...). A second session must still work
 * after every input: bad input never affects other sessions.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

static nct_server srv;
static bool ready;

static void init(void)
{
    mm_log_set_level(MM_LOG_ERROR);
    if (nct_server_start(&srv, NULL, "admin") != 0)
        abort();
    ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        init();
    nct_conn c, probe;
    if (nct_open(&srv, &c, size && (data[0] & 1) ? "admin" : "guest", !(size && (data[0] & 2))))
        abort();
    nct_input(&c, data, size);
    while (c.s) {
        char *m = nct_recv(&c);
        if (!m)
            break;
        free(m);
    }
    nct_drop(&c);
    if (nct_open(&srv, &probe, "admin", true))
        abort();
    char *r = nct_rpc(&probe, "<get-config><source><running/></source></get-config>");
    if (!r || !strstr(r, "<data"))
        abort();
    free(r);
    free(nct_rpc(&probe, "<discard-changes/>"));
    nct_drop(&probe);
    return 0;
}
