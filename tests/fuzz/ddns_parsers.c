/*
 * libFuzzer harness: the small ApertoDNS parsers of untrusted text --
 * hostnames, addresses (round trip through the canonical form), percent-
 * decoding and query strings, Basic credentials, update objects, and the
 * client's HTTP response reader, X-Forwarded-For behind trusted proxies,
 * the request header-section screen of ddnsd's input filter, the answer
 * read from Knot's control socket (knotctl.c).
 * Byte 0 picks the parser.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"
#include "mamori/mm_ddns_push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0] % 10;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *z = malloc(n + 1); /* NUL-terminated copy for the string APIs */
    if (!z)
        return 0;
    memcpy(z, s, n);
    z[n] = 0;
    char out[1024];
    switch (sel) {
    case 0:
    case 1: {
        char a[MM_DDNS_HOSTNAME_MAX + 1], b[MM_DDNS_HOSTNAME_MAX + 1];
        if (mm_ddns_hostname_normalize(s, n, sel == 1, a) == 0) {
            /* normal form is a fixed point */
            if (mm_ddns_hostname_normalize(a, strlen(a), sel == 1, b) != 0 || strcmp(a, b))
                abort();
            mm_ddns_txt_owner_base(a, b, sizeof(b));
        }
        break;
    }
    case 2: {
        mm_ddns_addr a, b;
        if (mm_ddns_addr_parse(s, n, &a) == 0) {
            mm_ddns_addr_format(&a, out, sizeof(out));
            if (mm_ddns_addr_parse(out, strlen(out), &b) != 0 || memcmp(&a, &b, sizeof(a)))
                abort();
            mm_ddns_addr_classify(&a);
        }
        break;
    }
    case 3:
        mm_ddns_query_get(z, "hostname", out, sizeof(out));
        mm_ddns_query_get(z, "myip", out, sizeof(out));
        mm_ddns_pct_decode(s, n, true, out, sizeof(out));
        break;
    case 4:
        mm_ddns_basic_password(z, out, sizeof(out));
        break;
    case 5: {
        json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
        mm_ddns_policy pol = {.allow_doc = true, .allow_loopback_auto = true, .txt_enabled = true};
        mm_ddns_update_req r;
        mm_ddns_fail f;
        mm_ddns_addr peer;
        mm_ddns_addr_parse("127.0.0.1", 9, &peer);
        if (j && mm_ddns_update_parse(j, NULL, &pol, &r, &f) == 0)
            mm_ddns_update_resolve_auto(&r, &peer, &pol, &f);
        json_decref(j);
        break;
    }
    case 6: {
        mm_ddns_http_response r;
        if (mm_ddns_http_response_parse((const uint8_t *)s, n, &r) == 0 &&
            r.body_off + r.body_len > n)
            abort();
        break;
    }
    case 8: {
        uint64_t cl = 0;
        const char *why = NULL;
        enum mm_ddns_err e = mm_ddns_http_head_check((const uint8_t *)s, n, &cl, &why);
        if ((e == MM_DDNS_OK && cl > MM_DDNS_BODY_MAX) || (e != MM_DDNS_OK && !why))
            abort();
        break;
    }
    case 9: {
        char err[64];
        int rc = mm_ddns_knotctl_reply_parse(data + 1, n, err, sizeof(err));
        if (rc != 0 && rc != MM_EAGAIN && rc != MM_EPROTO)
            abort();
        if (strlen(err) >= sizeof(err))
            abort();
        break;
    }
    case 7: {
        mm_ddns_prefix t[2];
        mm_ddns_prefix_parse("127.0.0.0/8", &t[0]);
        mm_ddns_prefix_parse("2001:db8::/32", &t[1]);
        mm_ddns_addr peer, c;
        mm_ddns_addr_parse("127.0.0.1", 9, &peer);
        mm_ddns_client_addr(&peer, z, t, 2, &c);
        if (c.family != AF_INET && c.family != AF_INET6) /* always an address */
            abort();
        break;
    }
    }
    free(z);
    return 0;
}
