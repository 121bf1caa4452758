/*
 * libFuzzer harness for the NETCONF engine's message handling (sessions,
 * RPC parsing, edits, filters, NACM, partial locks, subscriptions, commit).
 *
 * An input is the byte stream of one client, fed to a session as a
 * transport would: the client <hello> (EOM-framed) first, then RPCs in the
 * framing the hellos agree on. The harness adds nothing to it.
 *
 * Every input runs on the same state, so a crash reproduces from its saved
 * input alone: before each input the datastore files are rewritten from a
 * template made once at start-up, and mm_nc_server_reset() drops sessions,
 * candidate, locks, confirmed commit and replay log. No event loop runs, so
 * no timer fires in the middle of an input.
 *
 * The session's user is "guest", a member of NACM group "fuzz" that may
 * read and write nc-test except /top/item/note (write) and /top/rule (all),
 * so inputs reach both permitted and denied paths. After every input a
 * second session ("admin", the recovery user) must still get its data.
 *
 * MM_NC_FUZZ_DEBUG=1: print every message the server sends, and a summary
 * per input. MM_NC_FUZZ_CHECK=1 (the seed check test): abort unless the
 * input got at least one reply without an rpc-error.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

#define ACM "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-acm\""

static nct_server srv;
static char *tmpl; /* running.xml every input starts from */
static size_t tmpl_len;
static bool ready, debug, check;

static const char policy[] =
    "<edit-config><target><running/></target><config>"
    "<nacm " ACM "><groups><group><name>fuzz</name><user-name>guest</user-name></group>"
    "</groups><rule-list><name>fuzz</name><group>fuzz</group>"
    "<rule><name>no-note-write</name><module-name>nc-test</module-name>"
    "<path xmlns:t=\"urn:mamori:test:nc\">/t:top/t:item/t:note</path>"
    "<access-operations>create update delete</access-operations><action>deny</action></rule>"
    "<rule><name>no-rules</name><module-name>nc-test</module-name>"
    "<path xmlns:t=\"urn:mamori:test:nc\">/t:top/t:rule</path><action>deny</action></rule>"
    "<rule><name>nc-test</name><module-name>nc-test</module-name><action>permit</action>"
    "</rule><rule><name>netconf-ops</name><module-name>ietf-netconf</module-name>"
    "<access-operations>exec</access-operations><action>permit</action></rule>"
    "</rule-list></nacm>"
    "<top xmlns=\"urn:mamori:test:nc\"><name>fuzz</name><item><id>1</id><value>1</value>"
    "<note>n1</note></item><item><id>2</id><value>2</value></item><tag>a</tag><tag>b</tag>"
    "<rule><name>r1</name><action>a</action></rule><hop>h1</hop><hop>h2</hop></top>"
    "</config></edit-config>";

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1u << 20, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0)
        n += r;
    fclose(f);
    if (b && n == cap) { /* a template this large is not expected */
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

static void write_all(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len)
        abort();
    fclose(f);
}

static void init(void)
{
    mm_log_set_level(MM_LOG_ERROR);
#ifdef MM_NC_FUZZ_YANG_DIR
    setenv("MM_NC_TEST_YANG", MM_NC_FUZZ_YANG_DIR, 0); /* nc-test, unless given */
#endif
    debug = getenv("MM_NC_FUZZ_DEBUG") != NULL;
    check = getenv("MM_NC_FUZZ_CHECK") != NULL;
    if (nct_server_start(&srv, NULL, "admin") != 0)
        abort();
    nct_conn c;
    if (nct_open(&srv, &c, "admin", true))
        abort();
    char *r = nct_rpc(&c, policy);
    if (!r || !strstr(r, "<ok/>"))
        abort();
    free(r);
    nct_drop(&c);
    char p[512];
    snprintf(p, sizeof(p), "%s/running.xml", srv.dir);
    tmpl = read_all(p, &tmpl_len);
    if (!tmpl)
        abort();
    ready = true;
}

/* The state every input starts from. */
static void reset(void)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/running.xml", srv.dir);
    write_all(p, tmpl, tmpl_len);
    snprintf(p, sizeof(p), "%s/startup.xml", srv.dir);
    write_all(p, tmpl, tmpl_len);
    /* The audit log would grow with every input of a long run; nobody reads it here. */
    snprintf(p, sizeof(p), "%s/audit.log", srv.dir);
    if (truncate(p, 0) != 0)
        abort();
    if (mm_nc_server_reset(srv.srv) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        init();
    reset();
    nct_conn c, probe;
    if (nct_open_ex(&srv, &c, "guest", false, false))
        abort();
    /* The server framing switches with the client's hello, as a client's would. */
    const char *eom = size ? memmem(data, size, "]]>]]>", 6) : NULL;
    bool base11 = eom && memmem(data, (size_t)((const uint8_t *)eom - data),
                                "urn:ietf:params:netconf:base:1.1", 32);
    c.base11 = base11;
    nct_input(&c, data, size);
    if (base11)
        mm_nc_framer_set_mode(&c.rx, MM_NC_FRAMING_CHUNKED);
    unsigned replies = 0, good = 0, errors = 0, notifs = 0;
    for (char *m; (m = nct_recv(&c)) != NULL; free(m)) {
        if (debug)
            fprintf(stderr, "netconf_rpc: << %s\n", m);
        if (strstr(m, "<notification")) {
            notifs++;
        } else if (strstr(m, "<rpc-reply")) {
            replies++;
            if (strstr(m, "<rpc-error>"))
                errors++;
            else
                good++;
        }
    }
    if (debug)
        fprintf(stderr, "netconf_rpc: input of %zu bytes: replies=%u ok=%u errors=%u "
                        "notifications=%u session=%s\n",
                size, replies, good, errors, notifs, c.closed ? "ended" : "open");
    if (check && good == 0) {
        fprintf(stderr, "netconf_rpc: an input got no reply without an rpc-error\n");
        abort();
    }
    nct_drop(&c);
    /* Bad input never affects another session. */
    if (nct_open(&srv, &probe, "admin", true))
        abort();
    char *r = nct_rpc(&probe, "<get-config><source><running/></source></get-config>");
    if (!r || !strstr(r, "<data"))
        abort();
    free(r);
    nct_drop(&probe);
    return 0;
}
