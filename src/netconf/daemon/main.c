/*
 * mamori-netconfd - NETCONF server over TLS (RFC 7589).
 *
 * Reads its options, makes sure the PKI exists, starts the engine on its
 * datastore (seeding a secure default configuration on first start), binds
 * the TLS endpoints configured in ietf-netconf-server, and runs the loop.
 * Changes to ietf-netconf-server over NETCONF re-bind endpoints and replace
 * the cert-to-name map at once.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_event.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_tls.h"
#include "netconfd.h"

struct opts {
    char state_dir[1024], pki_dir[1024], module_dir[1024];
    const char *address, *crl_file, *recovery_user, *log_level;
    uint16_t port, quic_port, ssh_port, metrics_port;
    bool ssh, metrics;
    const char *ssh_keys_dir, *metrics_address;
    mm_netconfd_callhome_client call_home[MM_NETCONFD_CALLHOME_MAX];
    size_t n_call_home;
    uint32_t call_home_retry_ms;
    uint32_t verify_ms, idle_timeout_ms, notif_grace_ms;
    size_t max_message, max_queue;
    uint32_t max_elements, max_attributes, max_depth;
};


static void usage(FILE *f)
{
    fprintf(f,
            "usage: mamori-netconfd [options]\n\n"
            "NETCONF server over TLS 1.3 (RFC 7589) with mutual X.509, cert-to-name,\n"
            "NACM and hybrid post-quantum key exchange.\n\n"
            "  --state-dir D      datastores and audit log (default $MM_STATE_DIR/netconf\n"
            "                     or ./var/netconf)\n"
            "  --pki-dir D        the local PKI (default $MM_PKI_DIR or ./var/pki; created\n"
            "                     if missing)\n"
            "  --module-dir D     serve every YANG module in D, besides the NETCONF ones\n"
            "  --address A[,A]... first-start listen addresses (default ::1,127.0.0.1)\n"
            "  --port P           first-start listen port (default %d)\n"
            "  --quic-port P      first-start NETCONF-over-QUIC UDP port (default: no QUIC\n"
            "                     endpoint; the draft's port is 831)\n"
            "  --crl FILE         PEM CRL checked for every client, re-read when it changes\n"
            "  --verify-ms N      continuous verification period (default %d)\n"
            "  --recovery-user U  user that bypasses NACM (RFC 8341 recovery session)\n"
            "  --max-message N    largest NETCONF message accepted, bytes\n"
            "  --max-elements N   elements one message may have (default 10000)\n"
            "  --max-attributes N attributes one element may have (default 64)\n"
            "  --max-depth N      element nesting one message may have (default 64)\n"
            "                     (over a limit: rpc-error too-big, before any parsing)\n"
            "  --max-queue N      unsent reply and notification bytes per session: over\n"
            "                     it the session's input is paused, and a subscriber\n"
            "                     gets --notif-grace-ms to catch up; at twice it the\n"
            "                     subscriber's session is closed (default 4 MiB)\n"
            "  --notif-grace-ms N how long a subscriber may stay over --max-queue before\n"
            "                     its session is closed, audited (default 10000)\n"
            "  --idle-timeout-ms N  dead-peer detection: TLS keep-alive and user\n"
            "                     timeout, QUIC idle timeout where running sets none\n"
            "                     (defaults 120000 for both)\n"
            "  --ssh-port P       also serve NETCONF over SSH (RFC 6242) on the listen\n"
            "                     addresses, port P (830 is the standard port; 0: any\n"
            "                     free port). Host key <state-dir>/ssh_host_ed25519_key\n"
            "                     (created on first run); public-key authentication only\n"
            "                     by the users and keys of ietf-netconf-server's ssh\n"
            "                     client-authentication in running\n"
            "  --ssh-keys-dir D   bootstrap fallback: also accept the keys in D/<user>\n"
            "                     (OpenSSH authorized_keys lines; default: none)\n"
            "  --metrics-port P   Prometheus /metrics on loopback port P (0: any free port)\n"
            "  --metrics-address A  loopback address for /metrics (default 127.0.0.1)\n"
            "  --call-home T:H[:P]  bootstrap call home (RFC 8071): dial client H (T =\n"
            "                     tls or ssh; P defaults to 4335 for tls, 4334 for ssh)\n"
            "                     besides the call-home clients configured in running;\n"
            "                     redial when it ends (repeatable, up to 16)\n"
            "  --call-home-retry-ms N  first redial delay, doubling up to 60 s (1000)\n"
            "  --log-level L      error|warn|info|debug (default $MM_LOG_LEVEL or info)\n\n"
            "After the first start the listen endpoints, trust anchors and cert-to-name\n"
            "maps are configuration data (ietf-netconf-server) managed over NETCONF.\n",
            MM_NC_TLS_PORT, MM_NC_TLS_DEFAULT_VERIFY_MS);
}

static void env_default(char *out, size_t len, const char *env, const char *sub,
                        const char *fallback)
{
    const char *v = getenv(env);
    if (v && *v)
        snprintf(out, len, "%s%s", v, sub);
    else
        snprintf(out, len, "%s", fallback);
}

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"state-dir", required_argument, 0, 's'}, {"pki-dir", required_argument, 0, 'p'},
        {"module-dir", required_argument, 0, 'm'}, {"address", required_argument, 0, 'a'},
        {"port", required_argument, 0, 'P'},      {"crl", required_argument, 0, 'c'},
        {"verify-ms", required_argument, 0, 'v'}, {"recovery-user", required_argument, 0, 'r'},
        {"max-message", required_argument, 0, 'M'}, {"log-level", required_argument, 0, 'l'},
        {"quic-port", required_argument, 0, 'Q'}, {"help", no_argument, 0, 'h'},
        {"idle-timeout-ms", required_argument, 0, 'I'}, {"max-queue", required_argument, 0, 'q'},
        {"max-elements", required_argument, 0, 'E'}, {"max-attributes", required_argument, 0, 'B'},
        {"max-depth", required_argument, 0, 'D'},
        {"ssh-port", required_argument, 0, 'S'}, {"ssh-keys-dir", required_argument, 0, 'K'},
        {"metrics-port", required_argument, 0, 'T'},
        {"metrics-address", required_argument, 0, 'A'},
        {"call-home", required_argument, 0, 'C'},
        {"call-home-retry-ms", required_argument, 0, 'R'},
        {"notif-grace-ms", required_argument, 0, 'G'},
        {0, 0, 0, 0}};
    env_default(o->state_dir, sizeof(o->state_dir), "MM_STATE_DIR", "/netconf", "./var/netconf");
    env_default(o->pki_dir, sizeof(o->pki_dir), "MM_PKI_DIR", "", "./var/pki");
    o->address = MM_NETCONFD_DEFAULT_ADDRESSES;
    o->port = MM_NC_TLS_PORT;
    o->log_level = getenv("MM_LOG_LEVEL") ? getenv("MM_LOG_LEVEL") : "info";
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 's': snprintf(o->state_dir, sizeof(o->state_dir), "%s", optarg); break;
        case 'p': snprintf(o->pki_dir, sizeof(o->pki_dir), "%s", optarg); break;
        case 'm': snprintf(o->module_dir, sizeof(o->module_dir), "%s", optarg); break;
        case 'a': o->address = optarg; break;
        case 'c': o->crl_file = optarg; break;
        case 'r': o->recovery_user = optarg; break;
        case 'l': o->log_level = optarg; break;
        case 'K': o->ssh_keys_dir = optarg; break;
        case 'C':
            if (o->n_call_home >= MM_NETCONFD_CALLHOME_MAX ||
                mm_netconfd_callhome_parse(optarg, &o->call_home[o->n_call_home]) < 0) {
                fprintf(stderr, "mamori-netconfd: bad --call-home '%s' (tls:HOST[:PORT] or "
                                "ssh:HOST[:PORT], at most %d)\n", optarg,
                        MM_NETCONFD_CALLHOME_MAX);
                return 2;
            }
            o->n_call_home++;
            break;
        case 'R': o->call_home_retry_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'A': o->metrics_address = optarg; break;
        case 'P':
        case 'Q':
        case 'S':
        case 'T': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v > 65535) {
                fprintf(stderr, "mamori-netconfd: bad port '%s'\n", optarg);
                return 2;
            }
            uint16_t *dst = c == 'P' ? &o->port : c == 'Q' ? &o->quic_port
                            : c == 'S' ? &o->ssh_port : &o->metrics_port;
            *dst = (uint16_t)v;
            if (c == 'S')
                o->ssh = true;
            if (c == 'T')
                o->metrics = true;
            break;
        }
        case 'v': o->verify_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'M': o->max_message = strtoul(optarg, NULL, 10); break;
        case 'I': o->idle_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'q': o->max_queue = strtoul(optarg, NULL, 10); break;
        case 'G': o->notif_grace_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'E':
        case 'B':
        case 'D': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > 100000000ul) {
                fprintf(stderr, "mamori-netconfd: bad limit '%s' (a number from 1)\n", optarg);
                return 2;
            }
            *(c == 'E' ? &o->max_elements : c == 'B' ? &o->max_attributes : &o->max_depth) =
                (uint32_t)v;
            break;
        }
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mamori-netconfd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

static mm_netconfd_options to_options(const struct opts *o)
{
    mm_netconfd_options d = {.state_dir = o->state_dir, .pki_dir = o->pki_dir,
                             .module_dir = o->module_dir, .address = o->address,
                             .port = o->port, .quic_port = o->quic_port,
                             .crl_file = o->crl_file,
                             .verify_ms = o->verify_ms, .recovery_user = o->recovery_user,
                             .max_message = o->max_message,
                             .idle_timeout_ms = o->idle_timeout_ms, .max_queue = o->max_queue,
                             .notif_grace_ms = o->notif_grace_ms,
                             .max_elements = o->max_elements,
                             .max_attributes = o->max_attributes, .max_depth = o->max_depth,
                             .ssh_port = o->ssh_port, .ssh_enabled = o->ssh,
                             .ssh_keys_dir = o->ssh_keys_dir, .metrics_port = o->metrics_port,
                             .metrics_enabled = o->metrics,
                             .metrics_address = o->metrics_address};
    memcpy(d.call_home, o->call_home, sizeof(d.call_home));
    d.n_call_home = o->n_call_home;
    d.call_home_retry_ms = o->call_home_retry_ms;
    return d;
}

int main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof(o));
    int prc = parse(argc, argv, &o);
    if (prc)
        return prc == 1 ? 0 : 2;
    enum mm_log_level lvl = MM_LOG_INFO;
    if (mm_log_level_parse(o.log_level, &lvl) < 0) {
        fprintf(stderr, "mamori-netconfd: bad log level '%s'\n", o.log_level);
        return 2;
    }
    mm_log_setup("mamori-netconfd", MM_LOG_STDERR, lvl);
    ly_log_level(lvl >= MM_LOG_DEBUG ? LY_LLWRN : LY_LLERR); /* yuma modules warn harmlessly */
    struct event_base *base = event_base_new();
    mm_shutdown *sd = base ? mm_shutdown_install(base, NULL, NULL, true) : NULL;
    mm_netconfd *d = NULL;
    mm_netconfd_options opts = to_options(&o);
    int rc = sd ? mm_netconfd_start(&opts, base, &d) : MM_ESYS;
    if (rc == 0) {
        mm_nc_tls_server *tls = mm_netconfd_tls(d);
        for (size_t i = 0; mm_nc_tls_server_port(tls, i); i++)
            mm_log_info("netconfd-ready", "port=%u", mm_nc_tls_server_port(tls, i));
        if (mm_netconfd_metrics_port(d))
            mm_log_info("netconfd-ready", "metrics=http://%s:%u/metrics",
                        o.metrics_address ? o.metrics_address : "127.0.0.1",
                        mm_netconfd_metrics_port(d));
        for (size_t i = 0; mm_netconfd_ssh_port(d, i); i++)
            mm_log_info("netconfd-ready", "transport=ssh port=%u hostkey=%s",
                        mm_netconfd_ssh_port(d, i), mm_netconfd_ssh_fingerprint(d));
        event_base_dispatch(base);
    } else {
        mm_log_error("netconfd-start", "err=\"%s\"", mm_strerror(rc));
    }
    mm_netconfd_free(d);
    /* Deferred bufferevent callbacks hold their bufferevent until they run
     * (with the callbacks cleared by bufferevent_free): one pass frees them. */
    if (base)
        event_base_loop(base, EVLOOP_NONBLOCK);
    mm_shutdown_free(sd);
    if (base)
        event_base_free(base);
    return rc == 0 ? 0 : 1;
}
