/*
 * RFC 2136 dynamic update of one queued change, TSIG-signed (RFC 8945,
 * HMAC-SHA256), sent over TCP with ldns. The mapping of API actions to
 * update RRs (RFC 2136 section 2.5):
 *   set A/AAAA  -> delete RRset (class ANY, TTL 0, no RDATA) + add RR
 *   delete RRset -> class ANY, TTL 0, no RDATA
 *   add TXT     -> add RR (adding an identical RR is a no-op, 2.5.1)
 *   delete RR   -> class NONE, TTL 0, with RDATA (2.5.4)
 * One message per change, so each change is atomic on the server.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "mamori/mm_core.h"
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

int mm_ddns_push_send(const mm_ddns_zone *z, const mm_ddns_push_item *it)
{
    int rc = MM_EIO;
    ldns_rr_list *up = ldns_rr_list_new();
    ldns_resolver *res = ldns_resolver_new();
    ldns_pkt *pkt = NULL, *answer = NULL;
    char zname[MM_DDNS_HOSTNAME_MAX + 2];
    snprintf(zname, sizeof(zname), "%s.", z->name);
    ldns_rdf *zone = ldns_dname_new_frm_str(zname);
    ldns_rdf *ns = ldns_rdf_new_frm_str(strchr(z->server, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
                                        z->server);
    if (!up || !res || !zone || !ns) {
        rc = MM_ENOMEM;
        goto out;
    }
    if ((rc = build(it, up)) < 0)
        goto out;
    pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up, NULL);
    zone = NULL; /* owned by pkt (ldns update.h) */
    if (!pkt) {
        rc = MM_ENOMEM;
        goto out;
    }
    ldns_resolver_push_nameserver(res, ns);
    ldns_resolver_set_port(res, z->port);
    ldns_resolver_set_usevc(res, true); /* TCP: no truncation, one round trip */
    ldns_resolver_set_retry(res, 1);
    ldns_resolver_set_timeout(res, (struct timeval){3, 0});
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
    ldns_status st = ldns_resolver_send_pkt(&answer, res, pkt);
    if (st == LDNS_STATUS_CRYPTO_TSIG_BOGUS || st == LDNS_STATUS_CRYPTO_TSIG_ERR) {
        rc = MM_EPROTO;
    } else if (st != LDNS_STATUS_OK || !answer) {
        mm_log_warn("ddns-push-send", "zone=%s server=%s@%u err=\"%s\"", z->name, z->server,
                    z->port, ldns_get_errorstr_by_id(st));
        rc = MM_EIO;
    } else if (ldns_pkt_get_rcode(answer) != LDNS_RCODE_NOERROR) {
        mm_log_warn("ddns-push-rcode", "zone=%s name=%s rcode=%d", z->name, it->name,
                    (int)ldns_pkt_get_rcode(answer));
        rc = MM_EPROTO;
    } else {
        rc = 0;
    }
out:
    ldns_pkt_free(answer);
    ldns_pkt_free(pkt);
    ldns_rr_list_deep_free(up); /* ldns_update_pkt_new cloned it */
    ldns_rdf_deep_free(zone);
    if (res) {
        ldns_resolver_deep_free(res);
    } else {
        ldns_rdf_deep_free(ns);
    }
    return rc;
}
