/*
 * mamori-ddnsd - ApertoDNS server over HTTPS (draft-ferro-dnsop-apertodns-protocol).
 * Reads options, opens the state, binds, runs the loop; the logic lives in
 * src/ddns (engine) and ddnsd.c (transport, DNS push worker).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddnsd.h"
#include "knot.h"
#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"
#include "mamori/mm_event.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mamori-ddnsd [options]\n\n"
            "ApertoDNS dynamic DNS server over HTTPS (TLS 1.3, hybrid post-quantum group\n"
            "first), with dyndns2 /nic/update and RFC 2136 push to the zones' primaries.\n\n"
            "  --state-dir D       ddns.db, token.key, audit.log (default $MM_STATE_DIR/ddns\n"
            "                      or ./var/ddns)\n"
            "  --store S           PostgreSQL URI or conninfo (postgresql://..., host=...)\n"
            "                      shared by several instances (default: SQLite D/ddns.db)\n"
            "  --pki-dir D         certificates (default D/pki of the state dir; created if\n"
            "                      missing)\n"
            "  --listen A:P        address and port (default 127.0.0.1:8443; [::1]:8443)\n"
            "  --test-mode         conformance runs: documentation ranges count as public,\n"
            "                      \"auto\" from loopback is accepted, limits raised;\n"
            "                      refuses a non-loopback --listen\n"
            "  --max-connections N concurrent connections (default 1024)\n"
            "  --request-timeout S seconds for a whole request and for keep-alive idle\n"
            "                      (default 10)\n"
            "  --provider-name N   provider name in /info (default mamori)\n"
            "  --trusted-proxy P   believe X-Forwarded-For from this address or prefix\n"
            "                      (repeatable, up to 16; default none: the header is ignored)\n"
            "  --knot PORT         run Knot DNS (knotd) as a child on 127.0.0.1@PORT serving\n"
            "                      the zone, config generated in STATE/knot, every change\n"
            "                      pushed to it (RFC 2136 + TSIG)\n"
            "  --knot-zone Z       that zone (default " MM_DDNSD_KNOT_ZONE ")\n"
            "  --knot-control P    control socket of the Knot DNS primary of the zones\n"
            "                      (set by --knot): avoids Knot 3.2 holding an UPDATE\n"
            "                      up to 1 s (see docs/ddnsd.md)\n"
            "  --log-level L       error|warn|info|debug (default $MM_LOG_LEVEL or info)\n");
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"state-dir", required_argument, 0, 's'}, {"pki-dir", required_argument, 0, 'p'},
        {"store", required_argument, 0, 'S'},
        {"listen", required_argument, 0, 'l'},    {"test-mode", no_argument, 0, 't'},
        {"max-connections", required_argument, 0, 'm'},
        {"request-timeout", required_argument, 0, 'T'},
        {"provider-name", required_argument, 0, 'n'}, {"log-level", required_argument, 0, 'L'},
        {"trusted-proxy", required_argument, 0, 'P'},
        {"knot", required_argument, 0, 'K'}, {"knot-zone", required_argument, 0, 'Z'},
        {"knot-control", required_argument, 0, 'C'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    char state[1024], pki[1100];
    const char *env = getenv("MM_STATE_DIR");
    snprintf(state, sizeof(state), "%s", env && *env ? env : "./var");
    strncat(state, "/ddns", sizeof(state) - strlen(state) - 1);
    pki[0] = 0;
    mm_ddnsd_options o = {.listen = "127.0.0.1:8443", .provider_name = "mamori"};
    const char *level = getenv("MM_LOG_LEVEL") ? getenv("MM_LOG_LEVEL") : "info";
    static mm_ddns_prefix proxies[16];
    static char knot_zone[MM_DDNS_HOSTNAME_MAX + 1];
    size_t n_proxies = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 's': snprintf(state, sizeof(state), "%s", optarg); break;
        case 'p': snprintf(pki, sizeof(pki), "%s", optarg); break;
        case 'S': o.store = optarg; break;
        case 'l': o.listen = optarg; break;
        case 't': o.test_mode = true; break;
        case 'm': o.max_conns = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'T': o.req_timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': o.provider_name = optarg; break;
        case 'L': level = optarg; break;
        case 'K': {
            char *end = NULL;
            unsigned long kp = strtoul(optarg, &end, 10);
            if (!*optarg || *end || kp == 0 || kp > 65535) {
                fprintf(stderr, "mamori-ddnsd: bad --knot port '%s'\n", optarg);
                return 2;
            }
            o.knot_port = (uint16_t)kp;
            break;
        }
        case 'Z':
            if (mm_ddns_hostname_normalize(optarg, strlen(optarg), false, knot_zone) < 0) {
                fprintf(stderr, "mamori-ddnsd: bad --knot-zone '%s'\n", optarg);
                return 2;
            }
            o.knot_zone = knot_zone;
            break;
        case 'C': o.knot_control = optarg; break;
        case 'P':
            if (n_proxies >= sizeof(proxies) / sizeof(proxies[0]) ||
                mm_ddns_prefix_parse(optarg, &proxies[n_proxies]) < 0) {
                fprintf(stderr, "mamori-ddnsd: bad or too many --trusted-proxy '%s'\n", optarg);
                return 2;
            }
            n_proxies++;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mamori-ddnsd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!pki[0])
        snprintf(pki, sizeof(pki), "%s/pki", state);
    o.state_dir = state;
    o.trusted_proxies = proxies;
    o.n_trusted_proxies = n_proxies;
    o.pki_dir = pki;
    enum mm_log_level lvl = MM_LOG_INFO;
    if (mm_log_level_parse(level, &lvl) < 0) {
        fprintf(stderr, "mamori-ddnsd: bad log level '%s'\n", level);
        return 2;
    }
    mm_log_setup("mamori-ddnsd", MM_LOG_STDERR, lvl);
    struct event_base *base = event_base_new();
    mm_shutdown *sd = base ? mm_shutdown_install(base, NULL, NULL, true) : NULL;
    mm_ddnsd *d = NULL;
    int rc = sd ? mm_ddnsd_start(&o, base, &d) : MM_ESYS;
    if (rc == 0) {
        mm_log_info("ddnsd-ready", "port=%u", mm_ddnsd_port(d));
        event_base_dispatch(base);
    } else {
        mm_log_error("ddnsd-start", "err=\"%s\"", mm_strerror(rc));
    }
    mm_ddnsd_free(d);
    mm_shutdown_free(sd);
    if (base)
        event_base_free(base);
    return rc == 0 ? 0 : 1;
}
