/*
 * callhome_config.c - ietf-netconf-server's call-home container (RFC 8071
 * configured by the ietf-netconf-server module) read from running into the
 * dialer's netconf-client table.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/mm_core.h"
#include "netconfd_callhome.h"

#define CALL_HOME "/ietf-netconf-server:netconf-server/call-home/netconf-client"

static const char *child_value(const struct lyd_node *parent, const char *path)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(parent, path, 0, &n) != LY_SUCCESS || !n)
        return NULL;
    return lyd_get_value(n);
}

static bool has_child(const struct lyd_node *parent, const char *path)
{
    struct lyd_node *n = NULL;
    return lyd_find_path(parent, path, 0, &n) == LY_SUCCESS && n;
}

static unsigned long num(const struct lyd_node *parent, const char *path, unsigned long dflt)
{
    const char *v = child_value(parent, path);
    return v ? strtoul(v, NULL, 10) : dflt;
}

/*
 * anchor-time: yang:date-and-time restricted to whole minutes,
 * "YYYY-MM-DDTHH:MM:00" then "Z" or "+HH:MM" / "-HH:MM" (RFC 6991). 0 if
 * absent or unreadable (then the time of applying is the anchor).
 */
static int64_t anchor_time(const char *v)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int n = 0;
    if (!v || sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t t = (int64_t)timegm(&tm);
    const char *z = v + n;
    int oh = 0, om = 0;
    if (*z == '+' || *z == '-') {
        if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2)
            return 0;
        int64_t off = (int64_t)oh * 3600 + om * 60;
        t += *z == '+' ? -off : off; /* local = UTC + offset */
    } else if (*z && *z != 'Z') {
        return 0;
    }
    return t > 0 ? t : 0;
}

static int add_endpoints(const struct lyd_node *client, mm_netconfd_callhome_peer *p)
{
    struct ly_set *eps = NULL;
    if (lyd_find_xpath(client, "endpoints/endpoint", &eps) != LY_SUCCESS)
        return MM_ECONFIG;
    int rc = 0;
    for (uint32_t i = 0; i < eps->count && rc == 0; i++) {
        const struct lyd_node *ep = eps->dnodes[i];
        bool tls = has_child(ep, "tls");
        if (!tls && !has_child(ep, "ssh"))
            continue; /* a transport this server does not implement */
        if (p->n_ep == MM_NETCONFD_CALLHOME_MAX_EP) {
            rc = MM_ELIMIT;
            break;
        }
        mm_netconfd_callhome_client *e = &p->ep[p->n_ep];
        const char *name = child_value(ep, "name");
        const char *addr = child_value(ep, tls ? "tls/tcp-client-parameters/remote-address"
                                                : "ssh/tcp-client-parameters/remote-address");
        if (!addr || strlen(addr) >= sizeof(e->host))
            continue;
        snprintf(e->name, sizeof(e->name), "%s", name ? name : "?");
        snprintf(e->transport, sizeof(e->transport), "%s", tls ? "tls" : "ssh");
        snprintf(e->host, sizeof(e->host), "%s", addr);
        /* The module refines remote-port's default to the RFC 8071 ports. */
        e->port = (uint16_t)num(ep, tls ? "tls/tcp-client-parameters/remote-port"
                                         : "ssh/tcp-client-parameters/remote-port",
                                tls ? MM_NC_CALLHOME_TLS_PORT : MM_NC_CALLHOME_SSH_PORT);
        p->n_ep++;
    }
    ly_set_free(eps, NULL);
    return rc;
}

int mm_netconfd_callhome_from_running(const struct lyd_node *running,
                                      mm_netconfd_callhome_peer *peers, size_t max, size_t *n)
{
    struct ly_set *set = NULL;
    if (!running || lyd_find_xpath(running, CALL_HOME, &set) != LY_SUCCESS)
        return 0; /* no call-home in this schema or no data */
    int rc = 0;
    for (uint32_t i = 0; i < set->count && rc == 0; i++) {
        if (*n == max) {
            mm_log_error("netconfd-callhome", "err=\"more than %zu netconf-clients; the rest "
                         "are not dialed\"", max);
            rc = MM_ELIMIT;
            break;
        }
        const struct lyd_node *c = set->dnodes[i];
        mm_netconfd_callhome_peer *p = &peers[*n];
        memset(p, 0, sizeof(*p)); /* compared whole by mm_netconfd_callhome_apply */
        const char *name = child_value(c, "name");
        if (!name || strlen(name) >= sizeof(p->name))
            continue;
        snprintf(p->name, sizeof(p->name), "%s", name);
        rc = add_endpoints(c, p);
        p->periodic = has_child(c, "connection-type/periodic");
        p->period_s = (uint32_t)num(c, "connection-type/periodic/period", 60) * 60u;
        if (p->periodic)
            p->anchor = anchor_time(child_value(c, "connection-type/periodic/anchor-time"));
        else
            p->period_s = 0;
        const char *sw = child_value(c, "reconnect-strategy/start-with");
        p->start_with = !sw || !strcmp(sw, "first-listed") ? MM_CH_FIRST_LISTED
                        : !strcmp(sw, "last-connected")    ? MM_CH_LAST_CONNECTED
                                                           : MM_CH_RANDOM;
        p->max_wait_s = (uint16_t)num(c, "reconnect-strategy/max-wait", 5);
        p->max_attempts = (uint8_t)num(c, "reconnect-strategy/max-attempts", 3);
        if (rc == 0 && p->n_ep)
            (*n)++;
    }
    ly_set_free(set, NULL);
    return rc;
}
