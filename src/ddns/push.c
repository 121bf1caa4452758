/*
 * RFC 2136 dynamic update of one queued change, TSIG-signed (RFC 8945,
 * HMAC-SHA256), sent over TCP with ldns. The mapping of API actions to
 * update RRs (RFC 2136 section 2.5):
 *   set A/AAAA  -> delete RRset (class ANY, TTL 0, no RDATA) + add RR
 *   delete RRset -> class ANY, TTL 0, no RDATA
 *   add TXT     -> add RR (adding an identical RR is a no-op, 2.5.1)
 *   delete RR   -> class NONE, TTL 0, with RDATA (2.5.4)
 * A message carries one change, or several queued changes of one zone
 * coalesced (mm_ddns_push_send_many): the server applies a message as a
 * whole, in order (3.4.2), so a name's last state wins as it would have with
 * one message per change.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns_push.h"

/* An RR with no RDATA (an RRset deletion). */
static ldns_rr *rr_empty(const char *name, uint16_t type, ldns_rr_class cls)
{
    ldns_rr *rr = ldns_rr_new();
    ldns_rdf *owner = ldns_dname_new_frm_str(name);
    if (!rr || !owner) {
        ldns_rr_free(rr);
        ldns_rdf_deep_free(owner);
        return NULL;
    }
    ldns_rr_set_owner(rr, owner);
    ldns_rr_set_type(rr, (ldns_rr_type)type);
    ldns_rr_set_class(rr, cls);
    ldns_rr_set_ttl(rr, 0);
    return rr;
}

/* An RR with the item's data; TXT values are quoted with '"' and '\' escaped. */
static ldns_rr *rr_data(const char *name, uint16_t type, uint32_t ttl, const char *data,
                        ldns_rr_class cls)
{
    char text[1024], val[MM_DDNS_TXT_VALUE_MAX * 2 + 3];
    if (type == LDNS_RR_TYPE_TXT) {
        size_t n = 0;
        val[n++] = '"';
        for (const char *p = data; *p && n + 3 < sizeof(val); p++) {
            if (*p == '"' || *p == '\\')
                val[n++] = '\\';
            val[n++] = *p;
        }
        val[n++] = '"';
        val[n] = 0;
    } else {
        snprintf(val, sizeof(val), "%s", data);
    }
    int w = snprintf(text, sizeof(text), "%s. %u IN %s %s", name, ttl,
                     type == LDNS_RR_TYPE_A ? "A" : type == LDNS_RR_TYPE_AAAA ? "AAAA" : "TXT", val);
    if (w < 0 || (size_t)w >= sizeof(text))
        return NULL;
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
        return NULL;
    ldns_rr_set_class(rr, cls);
    if (cls == LDNS_RR_CLASS_NONE)
        ldns_rr_set_ttl(rr, 0);
    return rr;
}

static int build(const mm_ddns_push_item *it, ldns_rr_list *up)
{
    ldns_rr *a = NULL, *b = NULL;
    switch (it->op) {
    case MM_DDNS_PUSH_SET:
        a = rr_empty(it->name, it->rtype, LDNS_RR_CLASS_ANY);
        b = rr_data(it->name, it->rtype, it->ttl, it->data, LDNS_RR_CLASS_IN);
        if (!a || !b)
            goto fail;
        break;
    case MM_DDNS_PUSH_DELETE_RRSET:
        a = rr_empty(it->name, it->rtype, LDNS_RR_CLASS_ANY);
        break;
    case MM_DDNS_PUSH_ADD:
        a = rr_data(it->name, it->rtype, it->ttl, it->data, LDNS_RR_CLASS_IN);
        break;
    case MM_DDNS_PUSH_DELETE_RR:
        a = rr_data(it->name, it->rtype, 0, it->data, LDNS_RR_CLASS_NONE);
        break;
    default:
        return MM_EINVAL;
    }
    if (!a)
        goto fail;
    ldns_rr_list_push_rr(up, a);
    if (b)
        ldns_rr_list_push_rr(up, b);
    return 0;
fail:
    ldns_rr_free(a);
    ldns_rr_free(b);
    return MM_EINVAL;
}

/*
 * One TCP connection to a primary, kept across updates (RFC 7766 6.2.1:
 * several messages may share a connection). With a new connection per
 * update, about one update in a hundred spent 0.99 s in the exchange
 * (bench/ddns, loopback Knot): the length of TCP's initial retransmission
 * timeout, as when a SYN goes unanswered because an ephemeral port is
 * reused against a connection still in TIME_WAIT. A kept connection has no
 * handshake to lose.
 */
struct mm_ddns_push_conn {
    int fd;
    char server[64];
    uint16_t port;
};

mm_ddns_push_conn *mm_ddns_push_conn_new(void)
{
    mm_ddns_push_conn *c = calloc(1, sizeof(*c));
    if (c)
        c->fd = -1;
    return c;
}

static void conn_close(mm_ddns_push_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void mm_ddns_push_conn_free(mm_ddns_push_conn *c)
{
    if (!c)
        return;
    conn_close(c);
    free(c);
}

#define IO_TIMEOUT_MS 3000

static int conn_open(mm_ddns_push_conn *c, const mm_ddns_zone *z)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, z->server, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(z->port);
        sl = sizeof(*s4);
    } else if (inet_pton(AF_INET6, z->server, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(z->port);
        sl = sizeof(*s6);
    } else {
        return MM_EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return MM_ESYS;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t el = sizeof(err);
        if (errno != EINPROGRESS || poll(&pf, 1, IO_TIMEOUT_MS) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
            close(fd);
            return MM_EIO;
        }
    }
    c->fd = fd;
    mm_log_debug("ddns-push-connect", "server=%s@%u", z->server, z->port);
    snprintf(c->server, sizeof(c->server), "%s", z->server);
    c->port = z->port;
    return 0;
}

/* All of len bytes, within the I/O timeout. */
static int io_full(int fd, uint8_t *p, size_t len, bool wr)
{
    int64_t deadline = mm_monotonic_ms() + IO_TIMEOUT_MS;
    while (len) {
        ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return MM_EIO;
        int64_t left = deadline - mm_monotonic_ms();
        struct pollfd pf = {.fd = fd, .events = wr ? POLLOUT : POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) < 0)
            return MM_ETIMEOUT;
    }
    return 0;
}

/* One query/answer over c (RFC 1035 4.2.2: two-octet length, then the message). */
static int exchange(mm_ddns_push_conn *c, const uint8_t *q, size_t ql, uint8_t *ans, size_t *al)
{
    uint8_t hdr[2] = {(uint8_t)(ql >> 8), (uint8_t)ql}, msg[2 + 65535];
    if (ql > 65535)
        return MM_EINVAL;
    memcpy(msg, hdr, 2);
    memcpy(msg + 2, q, ql);
    MM_GUARD(io_full(c->fd, msg, ql + 2, true));
    MM_GUARD(io_full(c->fd, hdr, 2, false));
    mm_cursor cur;
    mm_cursor_init_read(&cur, hdr, sizeof(hdr));
    size_t n = mm_cursor_read_u16(&cur);
    if (n < 12) /* shorter than a DNS header */
        return MM_EPROTO;
    MM_GUARD(io_full(c->fd, ans, n, false));
    *al = n;
    return 0;
}

/* An A/AAAA set or RRset deletion replaces the whole RRset: what came before is moot. */
static bool superseded(const mm_ddns_push_item *items, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++)
        if (items[j].rtype == items[i].rtype &&
            (items[j].op == MM_DDNS_PUSH_SET || items[j].op == MM_DDNS_PUSH_DELETE_RRSET) &&
            strcasecmp(items[j].name, items[i].name) == 0)
            return true;
    return false;
}

/* Upper bound of an item's wire size: two RRs, owner uncompressed, data as text. */
static size_t item_wire_max(const mm_ddns_push_item *it)
{
    return 2 * (strlen(it->name) + 2 + 10) + strlen(it->data) + 16;
}

size_t mm_ddns_push_fit(const mm_ddns_push_item *items, size_t n)
{
    size_t total = 12 + MM_DDNS_HOSTNAME_MAX + 6 + 200, k = 0; /* header, zone, TSIG */
    for (; k < n && k < MM_DDNS_PUSH_BATCH_MAX; k++) {
        total += item_wire_max(&items[k]);
        if (total > MM_DDNS_PUSH_MSG_MAX)
            break;
    }
    return k ? k : (n ? 1 : 0);
}

int mm_ddns_push_send(mm_ddns_push_conn *pc, const mm_ddns_zone *z, const mm_ddns_push_item *it)
{
    return mm_ddns_push_send_many(pc, z, it, 1, NULL);
}

int mm_ddns_push_send_many(mm_ddns_push_conn *pc, const mm_ddns_zone *z,
                           const mm_ddns_push_item *items, size_t n, size_t *rrs)
{
    const mm_ddns_push_item *it = &items[0];
    if (n == 0 || n > MM_DDNS_PUSH_BATCH_MAX)
        return MM_EINVAL;
    int rc = MM_EIO;
    ldns_rr_list *up = ldns_rr_list_new();
    ldns_resolver *res = ldns_resolver_new();
    ldns_pkt *pkt = NULL, *answer = NULL;
    char zname[MM_DDNS_HOSTNAME_MAX + 2];
    snprintf(zname, sizeof(zname), "%s.", z->name);
    ldns_rdf *zone = ldns_dname_new_frm_str(zname);
    if (!up || !res || !zone) {
        rc = MM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (n > 1 && superseded(items, n, i))
            continue;
        if ((rc = build(&items[i], up)) < 0)
            goto out;
    }
    if (rrs)
        *rrs = ldns_rr_list_rr_count(up);
    pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up, NULL);
    zone = NULL; /* owned by pkt (ldns update.h) */
    if (!pkt) {
        rc = MM_ENOMEM;
        goto out;
    }
    /* The resolver object only carries the TSIG settings; we send ourselves. */
    ldns_pkt_set_random_id(pkt); /* before signing: the MAC covers the ID */
    if (z->key_name[0]) {
        char kn[80];
        snprintf(kn, sizeof(kn), "%s.", z->key_name);
        ldns_resolver_set_tsig_keyname(res, kn);
        ldns_resolver_set_tsig_keydata(res, z->key_secret);
        ldns_resolver_set_tsig_algorithm(res, z->key_alg[0] ? z->key_alg : "hmac-sha256.");
        if (ldns_update_pkt_tsig_add(pkt, res) != LDNS_STATUS_OK) {
            rc = MM_ECRYPTO;
            goto out;
        }
    }
    uint8_t *wire = NULL, ans[65535];
    size_t wl = 0, al = 0;
    if (ldns_pkt2wire(&wire, pkt, &wl) != LDNS_STATUS_OK) {
        rc = MM_ENOMEM;
        goto out;
    }
    if (wl > MM_DDNS_PUSH_MSG_MAX + 1024) { /* mm_ddns_push_fit keeps it below */
        free(wire);
        rc = MM_EINVAL;
        goto out;
    }
    mm_ddns_push_conn one = {.fd = -1};
    mm_ddns_push_conn *c = pc ? pc : &one;
    if (c->fd >= 0 && (strcmp(c->server, z->server) != 0 || c->port != z->port))
        conn_close(c); /* another zone's primary */
    bool reused = c->fd >= 0;
    rc = c->fd >= 0 ? 0 : conn_open(c, z);
    if (rc == 0)
        rc = exchange(c, wire, wl, ans, &al);
    if (rc < 0 && reused) {
        /* The server may have closed an idle connection: one fresh try (updates are idempotent). */
        conn_close(c);
        rc = conn_open(c, z);
        if (rc == 0)
            rc = exchange(c, wire, wl, ans, &al);
    }
    free(wire);
    if (rc < 0 || !pc)
        conn_close(c);
    if (rc < 0) {
        mm_log_warn("ddns-push-send", "zone=%s server=%s@%u err=\"%s\"", z->name, z->server, z->port,
                    mm_strerror(rc));
        rc = rc == MM_EPROTO ? MM_EPROTO : MM_EIO;
        goto out;
    }
    if (ldns_wire2pkt(&answer, ans, al) != LDNS_STATUS_OK || ldns_pkt_id(answer) != ldns_pkt_id(pkt)) {
        conn_close(c); /* out of step with the server */
        rc = MM_EIO;
        goto out;
    }
    /* The answer must carry a valid TSIG over our request's MAC (RFC 8945 5.3). */
    if (z->key_name[0] && ldns_pkt_tsig(pkt)) {
        char kn[80];
        snprintf(kn, sizeof(kn), "%s.", z->key_name);
        if (!ldns_pkt_tsig(answer) ||
            !ldns_pkt_tsig_verify(answer, ans, al, kn, z->key_secret,
                                  ldns_rr_rdf(ldns_pkt_tsig(pkt), 3))) {
            mm_log_warn("ddns-push-tsig", "zone=%s name=%s err=\"answer not signed with the key\"",
                        z->name, it->name);
            rc = MM_EPROTO;
            goto out;
        }
    }
    if (ldns_pkt_get_rcode(answer) != LDNS_RCODE_NOERROR) {
        mm_log_warn("ddns-push-rcode", "zone=%s name=%s changes=%zu rcode=%d", z->name, it->name,
                    n, (int)ldns_pkt_get_rcode(answer));
        rc = MM_EPROTO;
    } else {
        rc = 0;
    }
out:
    ldns_pkt_free(answer);
    ldns_pkt_free(pkt);
    ldns_rr_list_deep_free(up); /* ldns_update_pkt_new cloned it */
    ldns_rdf_deep_free(zone);
    if (res)
        ldns_resolver_deep_free(res);
    return rc;
}
