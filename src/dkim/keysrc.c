/*
 * keysrc.c - where key records come from: a key file ("name rdata" lines, the
 * format of opendkim's TestPublicKeys), a DNS master file (parsed by ldns),
 * or DNS (ldns resolver with a per-try timeout). RFC 6376 3.6.2.2: the
 * character-strings of one TXT RR are joined without separator.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "dkim_int.h"

struct entry {
    char *name;
    char *rdata;
};

/* Parsed keys by (name, record): a changed record is a miss, so any source may use it. */
#define KEY_CACHE 64
struct kcache {
    char *qname, *rdata;
    mm_dkim_pubkey key;
};

struct mm_dkim_keysrc {
    struct kcache cache[KEY_CACHE];
    size_t cache_next;
    enum mm_dkim_keysrc_kind kind;
    struct entry *e;
    size_t n, cap;
    ldns_resolver *res;
    pthread_mutex_t lock; /* ldns resolvers are not shared between threads */
};

/* Compare two DNS names ignoring case and one trailing dot. */
static bool name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static int add_entry(mm_dkim_keysrc *s, const char *name, size_t nl, const char *rd, size_t rl)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        struct entry *ne = realloc(s->e, nc * sizeof(*ne));
        if (!ne)
            return MM_ENOMEM;
        s->e = ne;
        s->cap = nc;
    }
    char *n = strndup(name, nl), *r = strndup(rd, rl);
    if (!n || !r) {
        free(n);
        free(r);
        return MM_ENOMEM;
    }
    s->e[s->n].name = n;
    s->e[s->n].rdata = r;
    s->n++;
    return 0;
}

/* Join "a" "b" into ab; unquoted text is kept as it is. */
static size_t unquote(char *s)
{
    if (s[0] != '"')
        return strlen(s);
    size_t o = 0;
    bool in = false;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '"') {
            in = !in;
            continue;
        }
        if (in && s[i] == '\\' && s[i + 1])
            i++;
        if (in)
            s[o++] = s[i];
    }
    s[o] = 0;
    return o;
}

static int load_file(mm_dkim_keysrc *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return MM_ENOENT;
    char line[8192];
    int rc = 0;
    while (!rc && fgets(line, sizeof(line), f)) {
        size_t l = strlen(line);
        while (l && isspace((unsigned char)line[l - 1]))
            line[--l] = 0;
        char *p = line;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        char *sp = p;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        char *rd = sp;
        while (*rd && isspace((unsigned char)*rd))
            rd++;
        size_t rl = unquote(rd);
        rc = add_entry(s, p, (size_t)(sp - p), rd, rl);
    }
    fclose(f);
    return rc;
}

/* The TXT RR's strings joined (each rdf: length octet + text). */
static int txt_join(const ldns_rr *rr, mm_buf *out)
{
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *rd = ldns_rr_rdf(rr, i);
        const uint8_t *d = ldns_rdf_data(rd);
        size_t sz = ldns_rdf_size(rd);
        if (sz < 1 || (size_t)d[0] + 1 > sz)
            return MM_EMALFORMED;
        MM_GUARD(mm_buf_append(out, d + 1, d[0]));
    }
    return 0;
}

static int load_zone(mm_dkim_keysrc *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return MM_ENOENT;
    ldns_zone *z = NULL;
    int line = 0;
    ldns_status st = ldns_zone_new_frm_fp_l(&z, f, NULL, 300, LDNS_RR_CLASS_IN, &line);
    fclose(f);
    if (st != LDNS_STATUS_OK)
        return MM_EMALFORMED;
    int rc = 0;
    ldns_rr_list *rrs = ldns_zone_rrs(z);
    for (size_t i = 0; !rc && i < ldns_rr_list_rr_count(rrs); i++) {
        ldns_rr *rr = ldns_rr_list_rr(rrs, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        char *owner = ldns_rdf2str(ldns_rr_owner(rr));
        mm_buf b;
        mm_buf_init(&b, 65536);
        rc = owner ? txt_join(rr, &b) : MM_ENOMEM;
        if (!rc)
            rc = add_entry(s, owner, strlen(owner), b.data ? (char *)b.data : "", b.len);
        mm_buf_free(&b);
        free(owner);
    }
    ldns_zone_deep_free(z);
    return rc;
}

/* "ip" or "ip@port" */
static int open_dns(mm_dkim_keysrc *s, const char *ns, int timeout_ms)
{
    if (!ns) {
        if (ldns_resolver_new_frm_file(&s->res, NULL) != LDNS_STATUS_OK)
            return MM_ECONFIG;
    } else {
        s->res = ldns_resolver_new();
        if (!s->res)
            return MM_ENOMEM;
        char host[128];
        const char *at = strchr(ns, '@');
        size_t hl = at ? (size_t)(at - ns) : strlen(ns);
        if (hl == 0 || hl >= sizeof(host))
            return MM_ECONFIG;
        memcpy(host, ns, hl);
        host[hl] = 0;
        ldns_rdf *a = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host);
        if (!a)
            a = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host);
        if (!a)
            return MM_ECONFIG;
        ldns_status st = ldns_resolver_push_nameserver(s->res, a);
        ldns_rdf_deep_free(a);
        if (st != LDNS_STATUS_OK)
            return MM_ECONFIG;
        if (at) {
            long port = strtol(at + 1, NULL, 10);
            if (port <= 0 || port > 65535)
                return MM_ECONFIG;
            ldns_resolver_set_port(s->res, (uint16_t)port);
        }
    }
    if (timeout_ms <= 0)
        timeout_ms = 5000;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ldns_resolver_set_timeout(s->res, tv);
    ldns_resolver_set_retry(s->res, 1);
    ldns_resolver_set_retrans(s->res, 1);
    ldns_resolver_set_recursive(s->res, true);
    ldns_resolver_set_dnsrch(s->res, false);
    ldns_resolver_set_defnames(s->res, false);
    return 0;
}

int mm_dkim_keysrc_open(enum mm_dkim_keysrc_kind kind, const char *arg, int timeout_ms,
                        mm_dkim_keysrc **out)
{
    mm_dkim_keysrc *s = calloc(1, sizeof(*s));
    if (!s)
        return MM_ENOMEM;
    s->kind = kind;
    pthread_mutex_init(&s->lock, NULL);
    int rc;
    switch (kind) {
    case MM_DKIM_KEYS_FILE: rc = arg ? load_file(s, arg) : MM_EINVAL; break;
    case MM_DKIM_KEYS_ZONE: rc = arg ? load_zone(s, arg) : MM_EINVAL; break;
    case MM_DKIM_KEYS_DNS: rc = open_dns(s, arg, timeout_ms); break;
    default: rc = MM_EINVAL;
    }
    if (rc < 0) {
        mm_dkim_keysrc_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mm_dkim_keysrc_close(mm_dkim_keysrc *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].name);
        free(s->e[i].rdata);
    }
    free(s->e);
    if (s->res)
        ldns_resolver_deep_free(s->res);
    for (size_t i = 0; i < KEY_CACHE; i++) {
        free(s->cache[i].qname);
        free(s->cache[i].rdata);
        mm_dkim_pubkey_free(&s->cache[i].key);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int lookup_dns(mm_dkim_keysrc *s, const char *qname, mm_buf *out)
{
    ldns_rdf *name = ldns_dname_new_frm_str(qname);
    if (!name)
        return MM_ENOENT; /* not a valid domain name: no key can exist */
    ldns_pkt *pkt = NULL;
    ldns_status st = ldns_resolver_send(&pkt, s->res, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN,
                                        LDNS_RD);
    ldns_rdf_deep_free(name);
    if (st != LDNS_STATUS_OK || !pkt) {
        ldns_pkt_free(pkt);
        return MM_ETIMEOUT; /* 6.1.2: temporary failure */
    }
    int rc = MM_ENOENT;
    ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt);
    if (rcode == LDNS_RCODE_NOERROR) {
        ldns_rr_list *l = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER);
        if (l && ldns_rr_list_rr_count(l) > 0)
            rc = txt_join(ldns_rr_list_rr(l, 0), out);
        ldns_rr_list_deep_free(l);
    } else if (rcode != LDNS_RCODE_NXDOMAIN) {
        rc = MM_EAGAIN; /* SERVFAIL, REFUSED...: temperror */
    }
    ldns_pkt_free(pkt);
    return rc;
}

int mm_dkim_keysrc_lookup(mm_dkim_keysrc *s, const char *qname, mm_buf *out)
{
    if (s->kind == MM_DKIM_KEYS_DNS) {
        pthread_mutex_lock(&s->lock);
        int rc = lookup_dns(s, qname, out);
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++)
        if (name_eq(s->e[i].name, qname))
            return mm_buf_append_str(out, s->e[i].rdata);
    return MM_ENOENT;
}

int dkim_keysrc_pubkey(mm_dkim_keysrc *s, const char *qname, const uint8_t *rd, size_t rl,
                       mm_dkim_pubkey *out, const char **why)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < KEY_CACHE; i++) {
        struct kcache *c = &s->cache[i];
        if (c->qname && strcmp(c->qname, qname) == 0 && strlen(c->rdata) == rl &&
            memcmp(c->rdata, rd, rl) == 0 && EVP_PKEY_up_ref(c->key.pkey) == 1) {
            *out = c->key;
            pthread_mutex_unlock(&s->lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
    MM_GUARD(mm_dkim_pubkey_parse(rd, rl, out, why));
    char *q = strdup(qname), *r = strndup((const char *)rd, rl);
    if (!q || !r || memchr(rd, 0, rl) || EVP_PKEY_up_ref(out->pkey) != 1) {
        free(q);
        free(r);
        return 0; /* not cached; the key itself is fine */
    }
    pthread_mutex_lock(&s->lock);
    struct kcache *c = &s->cache[s->cache_next];
    s->cache_next = (s->cache_next + 1) % KEY_CACHE;
    free(c->qname);
    free(c->rdata);
    mm_dkim_pubkey_free(&c->key);
    c->qname = q;
    c->rdata = r;
    c->key = *out;
    pthread_mutex_unlock(&s->lock);
    return 0;
}
