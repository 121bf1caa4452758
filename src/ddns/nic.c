/*
 * dyndns2 compatibility: GET /nic/update (spec 7.8). Basic credentials whose
 * password is the token (any user name); HTTP 200 and one text line per
 * hostname whatever happens; never a token from the query string.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "ddns_internal.h"
#include "mamori/mm_core.h"

/* myip / myipv6 into the request: "", "auto", v4, v6 or "v4,v6" (newer ddclient). */
static int nic_addresses(struct ctx *c, mm_ddns_update_req *r, mm_ddns_fail *f)
{
    char myip[128] = "", myip6[64] = "";
    int rc = mm_ddns_query_get(c->query, "myip", myip, sizeof(myip));
    if (rc < 0 && rc != MM_ENOENT)
        return f->err = MM_DDNS_INVALID_IP, -1;
    rc = mm_ddns_query_get(c->query, "myipv6", myip6, sizeof(myip6));
    if (rc < 0 && rc != MM_ENOENT)
        return f->err = MM_DDNS_INVALID_IP, -1;
    if (!myip[0] || strcmp(myip, "auto") == 0) {
        if (!myip6[0])
            r->v4 = MM_DDNS_AUTO; /* the family of the connection decides below */
    } else {
        char *save = NULL;
        for (char *t = strtok_r(myip, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            mm_ddns_addr a;
            if (mm_ddns_addr_parse(t, strlen(t), &a) < 0)
                return f->err = MM_DDNS_INVALID_IP, -1;
            if (a.family == AF_INET) {
                r->v4 = MM_DDNS_SET;
                r->a4 = a;
            } else {
                r->v6 = MM_DDNS_SET;
                r->a6 = a;
            }
        }
    }
    if (myip6[0]) {
        if (mm_ddns_addr_parse(myip6, strlen(myip6), &r->a6) < 0 || r->a6.family != AF_INET6)
            return f->err = MM_DDNS_INVALID_IP, -1;
        r->v6 = MM_DDNS_SET;
    }
    /* auto over IPv6 means the IPv6 address for a dyndns2 client */
    mm_ddns_addr peer = c->client;
    mm_ddns_addr_unmap(&peer);
    if (r->v4 == MM_DDNS_AUTO && peer.family == AF_INET6) {
        r->v4 = MM_DDNS_ABSENT;
        r->v6 = MM_DDNS_AUTO;
    }
    if ((r->v4 == MM_DDNS_SET && !mm_ddns_addr_publishable(&r->a4, c->s->pol.allow_doc)) ||
        (r->v6 == MM_DDNS_SET && !mm_ddns_addr_publishable(&r->a6, c->s->pol.allow_doc)))
        return f->err = MM_DDNS_INVALID_IP, -1;
    return mm_ddns_update_resolve_auto(r, &c->client, &c->s->pol, f);
}

/* One hostname: the dyndns2 line for it. */
static void nic_one(struct ctx *c, const char *raw, const mm_ddns_update_req *tmpl, mm_buf *out)
{
    mm_ddns_update_req r = *tmpl;
    if (mm_ddns_hostname_normalize(raw, strlen(raw), false, r.hostname) < 0) {
        mm_buf_append_str(out, "notfqdn");
        return;
    }
    enum mm_ddns_err e = ddns_owner_check(c, r.hostname);
    mm_ddns_host b, a;
    if (e == MM_DDNS_OK) {
        int rc = mm_ddns_store_host_get(c->s->cfg.store, r.hostname, &b);
        e = rc == MM_ENOENT ? MM_DDNS_NOT_FOUND : rc < 0 ? MM_DDNS_SERVER_ERROR : MM_DDNS_OK;
    }
    char what[128], a4[46] = "-", a6[46] = "-";
    if (r.v4 == MM_DDNS_SET)
        mm_ddns_addr_format(&r.a4, a4, sizeof(a4));
    if (r.v6 == MM_DDNS_SET)
        mm_ddns_addr_format(&r.a6, a6, sizeof(a6));
    snprintf(what, sizeof(what), "dyndns2 ipv4=%s ipv6=%s", a4, a6);
    if (ddns_audit(c, "update", r.hostname, e == MM_DDNS_OK,
                   e == MM_DDNS_OK ? what : mm_ddns_err_code(e)) < 0)
        e = MM_DDNS_SERVER_ERROR;
    bool changed = false;
    if (e == MM_DDNS_OK &&
        mm_ddns_store_host_update(c->s->cfg.store, &r, c->now_ms, &b, &a, &changed) < 0)
        e = MM_DDNS_SERVER_ERROR;
    if (e != MM_DDNS_OK) {
        mm_buf_append_str(out, mm_ddns_err_dyndns(e));
        return;
    }
    if (a.zone[0] && c->s->cfg.on_push)
        c->s->cfg.on_push(c->s->cfg.push_arg);
    mm_buf_printf(out, "%s %s", changed ? "good" : "nochg", a.ipv4[0] ? a.ipv4 : a.ipv6);
}

void ddns_ep_nic_update(struct ctx *c)
{
    const mm_ddns_http_req *rq = c->rq;
    if (!ddns_rate(c, "nic", c->who.peer, c->s->cfg.limits.nic, true)) {
        ddns_reply_text(c, "abuse");
        return;
    }
    char tok[MM_DDNS_TOKEN_MAX + 1];
    enum mm_ddns_err e = MM_DDNS_UNAUTHORIZED;
    const char *authz = rq->header(rq->header_arg, "Authorization");
    if (authz && mm_ddns_basic_password(authz, tok, sizeof(tok)) == 0) {
        e = ddns_authenticate(c, tok, strlen(tok));
        OPENSSL_cleanse(tok, sizeof(tok));
    }
    if (e == MM_DDNS_OK && !(c->who.tok.scopes & MM_DDNS_SCOPE(MM_DDNS_SCOPE_DNS_UPDATE_BIT)))
        e = MM_DDNS_FORBIDDEN;
    if (e != MM_DDNS_OK) {
        if (ddns_audit(c, "authenticate", "/nic/update", false, mm_ddns_err_code(e)) < 0)
            e = MM_DDNS_SERVER_ERROR;
        ddns_reply_text(c, mm_ddns_err_dyndns(e));
        return;
    }
    char hosts[MM_DDNS_NIC_HOSTS_MAX * (MM_DDNS_HOSTNAME_MAX + 1) + 1];
    int rc = mm_ddns_query_get(c->query, "hostname", hosts, sizeof(hosts));
    if (rc == MM_ELIMIT) {
        ddns_reply_text(c, "numhost");
        return;
    }
    if (rc < 0 || !hosts[0]) {
        ddns_reply_text(c, "notfqdn");
        return;
    }
    size_t n = 1;
    for (const char *p = hosts; *p; p++)
        n += *p == ',';
    if (n > MM_DDNS_NIC_HOSTS_MAX) {
        ddns_reply_text(c, "numhost");
        return;
    }
    mm_ddns_update_req tmpl;
    memset(&tmpl, 0, sizeof(tmpl));
    mm_ddns_fail f = {0};
    if (nic_addresses(c, &tmpl, &f) < 0) {
        ddns_audit(c, "update", hosts, false, mm_ddns_err_code(f.err));
        ddns_reply_text(c, mm_ddns_err_dyndns(f.err));
        return;
    }
    mm_buf out;
    mm_buf_init(&out, 64 * 1024);
    char *save = NULL;
    size_t i = 0;
    for (char *h = strtok_r(hosts, ",", &save); h; h = strtok_r(NULL, ",", &save), i++) {
        if (i)
            mm_buf_append_str(&out, "\n");
        nic_one(c, h, &tmpl, &out);
    }
    ddns_reply_text(c, i ? mm_buf_cstr(&out) : "notfqdn");
    mm_buf_free(&out);
}
