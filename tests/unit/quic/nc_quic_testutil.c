/*
 * nc_quic_testutil.c - see nc_quic_testutil.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"
#include "nc_quic_testutil.h"

int ncq_setup(void **state)
{
    ncq_testsrv *t = calloc(1, sizeof(*t));
    ncq_testsrv_start(t, NULL);
    *state = t;
    return 0;
}

int ncq_teardown(void **state)
{
    ncq_testsrv_stop(*state);
    free(*state);
    return 0;
}

int ncq_client_as(ncq_testsrv *t, const char *name, mm_nc_client_io *io)
{
    char pki[96], crt[160], key[160];
    snprintf(pki, sizeof(pki), "%s/pki", t->pki.dir);
    snprintf(crt, sizeof(crt), "%s/clients/%s.crt", pki, name);
    snprintf(key, sizeof(key), "%s/clients/%s.key", pki, name);
    if (access(crt, R_OK) != 0)
        assert_int_equal(mm_pki_issue_client(pki, name, false), 0);
    return ncq_testsrv_client(t, crt, key, io);
}

void ncq_client_free(mm_nc_client **c, mm_nc_client_io *io)
{
    if (*c != NULL)
        mm_nc_client_free(*c);
    *c = NULL;
    mm_nc_quic_client_io_free(io);
}

char *ncq_rpc(mm_nc_client *c, const char *op)
{
    char *reply = NULL;
    if (mm_nc_client_rpc(c, op, &reply, NCQ_T) < 0)
        fail_msg("%s: %s", op, mm_nc_client_error(c));
    assert_non_null(reply);
    return reply;
}

char *ncq_expect(mm_nc_client *c, const char *op, const char *needle)
{
    char *r = ncq_rpc(c, op);
    if (strstr(r, needle) == NULL)
        fail_msg("op %s\nwanted %s\ngot %s", op, needle, r);
    return r;
}

bool ncq_wait_sessions(ncq_testsrv *t, size_t n, mm_nc_client *keep)
{
    for (int i = 0; i < 300; i++) {
        if (atomic_load(&t->sessions) == n)
            return true;
        if (keep != NULL)
            mm_nc_client_poll(keep, 10);
        else
            usleep(10000);
    }
    return false;
}
