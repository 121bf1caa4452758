/*
 * nc_test_cmocka.c - the parts of nc_test.h that fail a cmocka test; kept
 * out of nc_test.c, which programs without cmocka (persist_server, the
 * netconf_rpc fuzz target) link too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nc_test.h"

char *nct_expect(nct_conn *c, const char *op, const char *want)
{
    char *r = nct_rpc(c, op);
    if (!r || !strstr(r, want))
        fail_msg("op %s\nwanted %s\ngot %s", op, want, r ? r : "(none)");
    return r;
}

void nct_ok(nct_conn *c, const char *op)
{
    free(nct_expect(c, op, "<ok/>"));
}
