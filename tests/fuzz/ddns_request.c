/*
 * libFuzzer harness: the ApertoDNS request engine end to end (routing,
 * authentication, scopes, rate limits, JSON bodies, validation order,
 * dyndns2 query strings, TXT) on a real store in a temp dir.
 * Input: byte 0 = method (low 3 bits) and credentials (next 3 bits);
 * byte 1 = peer address; then the request-target up to the first '\n';
 * the rest is the body. MM_FUZZ_VERBOSE=1 prints each input's status and
 * error code (to show the seeds reach the code under test).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static struct {
    char dir[128];
    mm_ddns_store *store;
    mm_audit *audit;
    mm_ddns_service *svc;
    char token[MM_DDNS_TOKEN_MAX];
    char bearer[200], apikey[200], basic[400];
    bool verbose;
} g;

static int64_t fixed_now(void *arg)
{
    (void)arg;
    return 1768478400000LL;
}

static void cleanup(void)
{
    char cmd[200];
    mm_ddns_service_free(g.svc);
    mm_audit_close(g.audit);
    mm_ddns_store_close(g.store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", g.dir);
}

static void setup(void)
{
    uint8_t key[MM_DDNS_KEY_LEN] = {7}, h[MM_DDNS_HASH_LEN];
    char p[256];
    snprintf(g.dir, sizeof(g.dir), "/tmp/mm-fuzz-ddns.XXXXXX");
    if (!mkdtemp(g.dir))
        abort();
    snprintf(p, sizeof(p), "%s/ddns.db", g.dir);
    if (mm_ddns_store_open(p, &g.store) < 0)
        abort();
    snprintf(p, sizeof(p), "%s/audit.log", g.dir);
    if (mm_audit_open(p, &g.audit) < 0)
        abort();
    mm_log_setup("fuzz", MM_LOG_STDERR, MM_LOG_ERROR);
    mm_ddns_store_host_add(g.store, "home.example.net", 1);
    mm_ddns_store_host_add(g.store, "b.example.net", 1);
    int64_t id;
    snprintf(g.token, sizeof(g.token), "mamori_test_FUZZFUZZFUZZFUZZFUZZFUZZFUZZFUZZ");
    mm_ddns_token_hash(key, g.token, strlen(g.token), h);
    mm_ddns_store_token_add(g.store, h, "fuzz", MM_DDNS_SCOPE_ALL, 0, &id);
    mm_ddns_store_grant_add(g.store, id, "host", "home.example.net");
    mm_ddns_store_grant_add(g.store, id, "zone", "example.net");
    mm_ddns_service_config cfg = {.store = g.store, .audit = g.audit, .test_mode = true,
                                  .now_ms = fixed_now};
    memcpy(cfg.key, key, sizeof(key));
    g.svc = mm_ddns_service_new(&cfg);
    if (!g.svc)
        abort();
    snprintf(g.bearer, sizeof(g.bearer), "Bearer %s", g.token);
    char raw[200];
    unsigned char enc[300];
    snprintf(raw, sizeof(raw), "user:%s", g.token);
    EVP_EncodeBlock(enc, (const unsigned char *)raw, (int)strlen(raw));
    snprintf(g.basic, sizeof(g.basic), "Basic %s", enc);
    g.verbose = getenv("MM_FUZZ_VERBOSE") != NULL;
    atexit(cleanup);
}

struct hdr {
    unsigned mode;
};

static const char *header(void *arg, const char *name)
{
    const struct hdr *h = arg;
    if (strcasecmp(name, "Authorization") == 0) {
        switch (h->mode) {
        case 0: return g.bearer;
        case 2: return g.basic;
        case 3: return "Bearer mamori_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        case 4: return "InvalidBearer x";
        default: return NULL;
        }
    }
    if (strcasecmp(name, "X-API-Key") == 0 && h->mode == 1)
        return g.token;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "DELETE", "OPTIONS", "PUT", "POST",
                                          "GET", "HEAD"};
    if (!g.svc)
        setup();
    if (size < 2)
        return 0;
    struct hdr h = {.mode = (data[0] >> 3) & 7};
    const char *method = methods[data[0] & 7];
    mm_ddns_http_req rq = {.method = method, .header = header, .header_arg = &h};
    const char *peer = data[1] & 1 ? "127.0.0.1" : data[1] & 2 ? "2001:db8::7" : "203.0.113.9";
    mm_ddns_addr_parse(peer, strlen(peer), &rq.peer);
    const uint8_t *rest = data + 2;
    size_t rl = size - 2;
    const uint8_t *nl = memchr(rest, '\n', rl);
    size_t tl = nl ? (size_t)(nl - rest) : rl;
    char *target = malloc(tl + 1);
    if (!target)
        return 0;
    memcpy(target, rest, tl);
    target[tl] = 0;
    rq.target = target;
    rq.body = nl ? nl + 1 : NULL;
    rq.body_len = nl ? rl - tl - 1 : 0;
    mm_ddns_http_resp rs;
    mm_ddns_resp_init(&rs);
    mm_ddns_service_handle(g.svc, &rq, &rs);
    if (rs.status < 200 || rs.status > 599)
        abort();
    if (g.verbose)
        printf("%s %.60s -> %d %.90s\n", method, target, rs.status, mm_buf_cstr(&rs.body));
    mm_ddns_resp_free(&rs);
    free(target);
    return 0;
}
