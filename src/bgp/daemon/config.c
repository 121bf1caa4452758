/*
 * config.c - mamori-bgpd's JSON configuration (the shape of
 * yang/mamori-bgp.yang), checked member by member: unknown members,
 * wrong types and out-of-range values are refused with the member's path,
 * so a typo never silently changes behaviour.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"

static const char *const fam_names[BGPD_NFAM] = {"ipv4-unicast", "ipv6-unicast", "ipv4-flowspec",
                                                 "ipv6-flowspec"};
static const char *const fam_short[BGPD_NFAM] = {"v4", "v6", "flow4", "flow6"};

const char *bgpd_fam_name(int fam) { return fam >= 0 && fam < BGPD_NFAM ? fam_names[fam] : "?"; }
const char *bgpd_fam_short(int fam) { return fam >= 0 && fam < BGPD_NFAM ? fam_short[fam] : "?"; }

int bgpd_fam_parse(const char *s)
{
    for (int i = 0; i < BGPD_NFAM; i++)
        if (strcmp(s, fam_names[i]) == 0 || strcmp(s, fam_short[i]) == 0)
            return i;
    return -1;
}

int bgpd_fam_of(uint16_t afi, uint8_t safi)
{
    if (safi == MM_BGP_SAFI_UNICAST)
        return afi == MM_BGP_AFI_IPV4 ? BGPD_V4U : afi == MM_BGP_AFI_IPV6 ? BGPD_V6U : -1;
    if (safi == MM_BGP_SAFI_FLOWSPEC)
        return afi == MM_BGP_AFI_IPV4 ? BGPD_FLOW4 : afi == MM_BGP_AFI_IPV6 ? BGPD_FLOW6 : -1;
    return -1;
}

void bgpd_fam_afisafi(int fam, uint16_t *afi, uint8_t *safi)
{
    *afi = (fam == BGPD_V6U || fam == BGPD_FLOW6) ? MM_BGP_AFI_IPV6 : MM_BGP_AFI_IPV4;
    *safi = fam >= BGPD_FLOW4 ? MM_BGP_SAFI_FLOWSPEC : MM_BGP_SAFI_UNICAST;
}

__attribute__((format(printf, 3, 4))) static int cerr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return MM_ECONFIG;
}

/* Refuse members not in allowed (NULL-terminated). */
static int only(json_t *o, const char *where, const char *const *allowed, char *err, size_t errlen)
{
    if (!json_is_object(o))
        return cerr(err, errlen, "%s: must be an object", where);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed[i])
            return cerr(err, errlen, "%s: unknown member '%s'", where, k);
    }
    return 0;
}

static int get_uint(json_t *o, const char *key, const char *where, uint64_t min, uint64_t max,
                    uint64_t dflt, uint64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
        (uint64_t)json_integer_value(v) > max)
        return cerr(err, errlen, "%s/%s: must be an integer in %llu..%llu", where, key,
                    (unsigned long long)min, (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_str(json_t *o, const char *key, const char *where, const char *dflt, char *out,
                   size_t outlen, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        snprintf(out, outlen, "%s", dflt);
        return 0;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) >= outlen)
        return cerr(err, errlen, "%s/%s: must be a string shorter than %zu", where, key, outlen);
    snprintf(out, outlen, "%s", json_string_value(v));
    return 0;
}

static int get_bool(json_t *o, const char *key, const char *where, bool dflt, bool *out, char *err,
                    size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_boolean(v))
        return cerr(err, errlen, "%s/%s: must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

static int parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *len = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof(*a6);
        return 0;
    }
    return MM_EINVAL;
}

int bgpd_rule_compile(int fam, const char *match, json_t *then, uint8_t *rule, size_t *rule_len,
                      uint8_t *ecomm, size_t *ecomm_len, char *err, size_t errlen)
{
    if (fam != BGPD_FLOW4 && fam != BGPD_FLOW6)
        return cerr(err, errlen, "family must be ipv4-flowspec or ipv6-flowspec");
    uint16_t afi = fam == BGPD_FLOW4 ? MM_BGP_AFI_IPV4 : MM_BGP_AFI_IPV6;
    char e[192];
    if (mm_bgp_fs_parse(afi, match, rule, MM_BGP_FS_MAX_LEN, rule_len, e, sizeof(e)) < 0)
        return cerr(err, errlen, "match '%s': %s", match, e);
    *ecomm_len = 0;
    if (!then)
        return 0;
    if (!json_is_array(then) || json_array_size(then) > BGPD_MAX_ACTIONS)
        return cerr(err, errlen, "then: must be a list of at most %d actions", BGPD_MAX_ACTIONS);
    size_t i;
    json_t *a;
    json_array_foreach(then, i, a) {
        if (!json_is_string(a))
            return cerr(err, errlen, "then[%zu]: must be a string", i);
        if (mm_bgp_fs_action_parse(json_string_value(a), ecomm + *ecomm_len, e, sizeof(e)) < 0)
            return cerr(err, errlen, "then[%zu]: %s", i, e);
        *ecomm_len += 8;
    }
    return 0;
}

static int peer_load(json_t *p, size_t idx, bgpd_config *c, bgpd_peer_cfg *pc, char *err, size_t errlen)
{
    static const char *const allowed[] = {"address", "remote-as", "port", "local-address",
                                          "description", "passive", "gtsm", "validate", "install",
                                          "md5-password", "tcp-ao", "hold-time", "families",
                                          "max-prefix", NULL};
    char where[64];
    snprintf(where, sizeof(where), "/neighbors[%zu]", idx);
    MM_GUARD(only(p, where, allowed, err, errlen));
    uint64_t v;
    memset(pc, 0, sizeof(*pc));
    MM_GUARD(get_str(p, "address", where, "", pc->address, sizeof(pc->address), err, errlen));
    MM_GUARD(get_uint(p, "remote-as", where, 1, 0xffffffffu, 0, &v, err, errlen));
    pc->remote_as = (uint32_t)v;
    if (!pc->remote_as)
        return cerr(err, errlen, "%s/remote-as: required", where);
    MM_GUARD(get_uint(p, "port", where, 1, 65535, 179, &v, err, errlen));
    pc->port = (uint16_t)v;
    if (parse_addr(pc->address, pc->port, &pc->sa, &pc->salen) < 0)
        return cerr(err, errlen, "%s/address: '%s' is not an IPv4 or IPv6 address", where, pc->address);
    MM_GUARD(get_str(p, "local-address", where, "", pc->local_address, sizeof(pc->local_address),
                     err, errlen));
    struct sockaddr_storage tmp;
    socklen_t tl;
    if (pc->local_address[0] && parse_addr(pc->local_address, 0, &tmp, &tl) < 0)
        return cerr(err, errlen, "%s/local-address: not an address", where);
    MM_GUARD(get_str(p, "description", where, "", pc->description, sizeof(pc->description), err, errlen));
    MM_GUARD(get_bool(p, "passive", where, false, &pc->passive, err, errlen));
    MM_GUARD(get_bool(p, "gtsm", where, false, &pc->gtsm, err, errlen));
    MM_GUARD(get_bool(p, "validate", where, false, &pc->validate, err, errlen));
    MM_GUARD(get_bool(p, "install", where, false, &pc->install, err, errlen));
    MM_GUARD(get_str(p, "md5-password", where, "", pc->md5, sizeof(pc->md5), err, errlen));
    json_t *ao = json_object_get(p, "tcp-ao");
    if (ao) {
        /* RFC 5925: one Master Key Tuple; RFC 5926's two MACs (and HMAC-SHA-256). */
        static const char *const ao_allowed[] = {"key", "send-id", "recv-id", "algorithm",
                                                 "mac-length", NULL};
        static const char *const algs[] = {"hmac(sha1)", "cmac(aes128)", "hmac(sha256)", NULL};
        char aw[96];
        snprintf(aw, sizeof(aw), "%s/tcp-ao", where);
        if (!json_is_object(ao))
            return cerr(err, errlen, "%s: an object", aw);
        if (pc->md5[0])
            return cerr(err, errlen, "%s: md5-password and tcp-ao are mutually exclusive (RFC 5925 §1)",
                        where);
        MM_GUARD(only(ao, aw, ao_allowed, err, errlen));
        MM_GUARD(get_str(ao, "key", aw, "", pc->ao_key, sizeof(pc->ao_key), err, errlen));
        if (!pc->ao_key[0])
            return cerr(err, errlen, "%s/key: required (1..80 characters)", aw);
        MM_GUARD(get_uint(ao, "send-id", aw, 0, 255, 0, &v, err, errlen));
        pc->ao_sndid = (uint8_t)v;
        MM_GUARD(get_uint(ao, "recv-id", aw, 0, 255, 0, &v, err, errlen));
        pc->ao_rcvid = (uint8_t)v;
        MM_GUARD(get_str(ao, "algorithm", aw, "hmac(sha1)", pc->ao_alg, sizeof(pc->ao_alg), err,
                         errlen));
        bool known = false;
        for (size_t i = 0; algs[i]; i++)
            known = known || strcmp(algs[i], pc->ao_alg) == 0;
        if (!known)
            return cerr(err, errlen, "%s/algorithm: one of hmac(sha1), cmac(aes128), hmac(sha256)", aw);
        MM_GUARD(get_uint(ao, "mac-length", aw, 4, 32, 12, &v, err, errlen));
        pc->ao_maclen = (uint8_t)v;
        pc->ao = true;
    }
    MM_GUARD(get_uint(p, "hold-time", where, 0, 65535, c->hold_time, &v, err, errlen));
    if (v == 1 || v == 2)
        return cerr(err, errlen, "%s/hold-time: 0 or at least 3 (RFC 4271 §4.2)", where);
    pc->hold_time = (uint16_t)v;
    json_t *fams = json_object_get(p, "families");
    if (!fams) {
        pc->fam[BGPD_FLOW4] = pc->fam[BGPD_FLOW6] = true;
    } else {
        if (!json_is_array(fams) || json_array_size(fams) == 0)
            return cerr(err, errlen, "%s/families: a non-empty list", where);
        size_t i;
        json_t *f;
        json_array_foreach(fams, i, f) {
            int fam = json_is_string(f) ? bgpd_fam_parse(json_string_value(f)) : -1;
            if (fam < 0)
                return cerr(err, errlen, "%s/families[%zu]: unknown family", where, i);
            pc->fam[fam] = true;
        }
    }
    json_t *mp = json_object_get(p, "max-prefix");
    if (mp) {
        if (!json_is_object(mp))
            return cerr(err, errlen, "%s/max-prefix: an object of family: limit", where);
        const char *k;
        json_t *lim;
        json_object_foreach(mp, k, lim) {
            int fam = bgpd_fam_parse(k);
            if (fam < 0 || !json_is_integer(lim) || json_integer_value(lim) < 1 ||
                json_integer_value(lim) > 100000000)
                return cerr(err, errlen, "%s/max-prefix/%s: known family and 1..100000000", where, k);
            pc->max_prefix[fam] = (uint32_t)json_integer_value(lim);
        }
    }
    for (size_t i = 0; i < idx; i++)
        if (strcmp(c->peers[i].address, pc->address) == 0)
            return cerr(err, errlen, "%s/address: %s is configured twice", where, pc->address);
    return 0;
}

int bgpd_config_from_json(json_t *root, bgpd_config *c, char *err, size_t errlen)
{
    static const char *const allowed[] = {"local-as", "router-id", "listen-address", "listen-port",
                                          "listen", "control-socket", "audit-log", "hold-time",
                                          "connect-retry", "max-output-bytes", "neighbors",
                                          "flowspec", "ifit-codepoints", "nft-table", "bmp-collectors",
                                          "bmp-stats-interval", NULL};
    memset(c, 0, sizeof(*c));
    MM_GUARD(only(root, "", allowed, err, errlen));
    uint64_t v;
    MM_GUARD(get_uint(root, "local-as", "", 1, 0xffffffffu, 0, &v, err, errlen));
    if (!v)
        return cerr(err, errlen, "/local-as: required");
    c->local_as = (uint32_t)v;
    char rid[64];
    MM_GUARD(get_str(root, "router-id", "", "", rid, sizeof(rid), err, errlen));
    struct in_addr ra;
    if (inet_pton(AF_INET, rid, &ra) != 1 || ra.s_addr == 0)
        return cerr(err, errlen, "/router-id: a non-zero dotted quad is required");
    c->router_id = ntohl(ra.s_addr);
    /* Loopback by default (the suite's rule): a routable listener is an explicit choice. */
    MM_GUARD(get_str(root, "listen-address", "", "127.0.0.1", c->listen_address,
                     sizeof(c->listen_address), err, errlen));
    struct sockaddr_storage tmp;
    socklen_t tl;
    if (parse_addr(c->listen_address, 0, &tmp, &tl) < 0)
        return cerr(err, errlen, "/listen-address: not an address");
    MM_GUARD(get_uint(root, "listen-port", "", 1, 65535, 179, &v, err, errlen));
    c->listen_port = (uint16_t)v;
    MM_GUARD(get_bool(root, "listen", "", true, &c->listen, err, errlen));
    MM_GUARD(get_str(root, "control-socket", "", "", c->control_socket, sizeof(c->control_socket),
                     err, errlen));
    MM_GUARD(get_str(root, "audit-log", "", "", c->audit_path, sizeof(c->audit_path), err, errlen));
    MM_GUARD(get_str(root, "nft-table", "", "mamori_bgp", c->nft_table, sizeof(c->nft_table), err, errlen));
    for (const char *q = c->nft_table; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
            return cerr(err, errlen, "/nft-table: lower-case letters, digits and '_' only");
    MM_GUARD(get_uint(root, "hold-time", "", 0, 65535, MM_BGP_DEFAULT_HOLD, &v, err, errlen));
    if (v == 1 || v == 2)
        return cerr(err, errlen, "/hold-time: 0 or at least 3 (RFC 4271 §4.2)");
    c->hold_time = (uint16_t)v;
    MM_GUARD(get_uint(root, "connect-retry", "", 1, 3600, 30, &v, err, errlen));
    c->connect_retry = (uint16_t)v;
    MM_GUARD(get_uint(root, "max-output-bytes", "", 65536, 1u << 30, 8u << 20, &v, err, errlen));
    c->max_out_bytes = (uint32_t)v;

    MM_GUARD(get_uint(root, "bmp-stats-interval", "", 5, 3600, 30, &v, err, errlen));
    c->bmp_stats_interval = (uint32_t)v;
    json_t *bmps = json_object_get(root, "bmp-collectors");
    if (bmps) {
        static const char *const b_allowed[] = {"address", "port", NULL};
        if (!json_is_array(bmps) || json_array_size(bmps) > 4)
            return cerr(err, errlen, "/bmp-collectors: a list of at most 4");
        size_t i;
        json_t *b;
        json_array_foreach(bmps, i, b) {
            char where[48];
            snprintf(where, sizeof(where), "/bmp-collectors[%zu]", i);
            MM_GUARD(only(b, where, b_allowed, err, errlen));
            MM_GUARD(get_str(b, "address", where, "127.0.0.1", c->bmp[i].address,
                             sizeof(c->bmp[i].address), err, errlen));
            if (parse_addr(c->bmp[i].address, 0, &tmp, &tl) < 0)
                return cerr(err, errlen, "%s/address: not an address", where);
            MM_GUARD(get_uint(b, "port", where, 1, 65535, 0, &v, err, errlen));
            if (!v)
                return cerr(err, errlen, "%s/port: required", where);
            c->bmp[i].port = (uint16_t)v;
            c->n_bmp = i + 1;
        }
    }

    json_t *cps = json_object_get(root, "ifit-codepoints");
    mm_bgp_ifit_codepoints_reset();
    if (cps) {
        static const char *const cp_allowed[] = {"method", "type", "sub-type", NULL};
        if (!json_is_array(cps))
            return cerr(err, errlen, "/ifit-codepoints: a list");
        size_t i;
        json_t *cp;
        json_array_foreach(cps, i, cp) {
            char where[48];
            snprintf(where, sizeof(where), "/ifit-codepoints[%zu]", i);
            MM_GUARD(only(cp, where, cp_allowed, err, errlen));
            json_t *m = json_object_get(cp, "method");
            const mm_bgp_ifit_desc *d = json_is_string(m) ? mm_bgp_ifit_desc_by_name(json_string_value(m)) : NULL;
            if (!d)
                return cerr(err, errlen, "%s/method: unknown IFIT method", where);
            uint64_t ty, st;
            MM_GUARD(get_uint(cp, "type", where, 0, 255, 256, &ty, err, errlen));
            MM_GUARD(get_uint(cp, "sub-type", where, 0, 255, 256, &st, err, errlen));
            if (ty > 255 || st > 255)
                return cerr(err, errlen, "%s: type and sub-type are required", where);
            int rc = mm_bgp_ifit_codepoint_set(d->method, (uint8_t)ty, (uint8_t)st);
            if (rc == MM_EEXIST)
                return cerr(err, errlen, "%s: type/sub-type already used by another method", where);
            if (rc < 0)
                return cerr(err, errlen, "%s: the type must be transitive (0x40 bit clear)", where);
        }
    }

    json_t *ns = json_object_get(root, "neighbors");
    if (ns) {
        if (!json_is_array(ns) || json_array_size(ns) > BGPD_MAX_PEERS)
            return cerr(err, errlen, "/neighbors: a list of at most %d", BGPD_MAX_PEERS);
        size_t i;
        json_t *p;
        json_array_foreach(ns, i, p) {
            MM_GUARD(peer_load(p, i, c, &c->peers[i], err, errlen));
            c->n_peers = i + 1;
        }
    }
    json_t *fs = json_object_get(root, "flowspec");
    if (fs) {
        static const char *const r_allowed[] = {"family", "match", "then", NULL};
        if (!json_is_array(fs))
            return cerr(err, errlen, "/flowspec: a list");
        size_t i;
        json_t *r;
        json_array_foreach(fs, i, r) {
            char where[48];
            snprintf(where, sizeof(where), "/flowspec[%zu]", i);
            MM_GUARD(only(r, where, r_allowed, err, errlen));
            json_t *fam = json_object_get(r, "family"), *m = json_object_get(r, "match");
            int f = json_is_string(fam) ? bgpd_fam_parse(json_string_value(fam)) : BGPD_FLOW4;
            if (!json_is_string(m))
                return cerr(err, errlen, "%s/match: required string", where);
            uint8_t rule[MM_BGP_FS_MAX_LEN], ec[8 * BGPD_MAX_ACTIONS];
            size_t rl, el;
            char e2[256];
            if (bgpd_rule_compile(f, json_string_value(m), json_object_get(r, "then"), rule, &rl, ec,
                                  &el, e2, sizeof(e2)) < 0)
                return cerr(err, errlen, "%s: %s", where, e2);
        }
        c->flowspec = json_incref(fs);
    }
    return 0;
}

int bgpd_config_load(const char *path, bgpd_config *c, char *err, size_t errlen)
{
    /* Three encodings: the plain object (the original form), and the YANG
     * module's JSON (RFC 7951) and XML, which libyang validates first. */
    FILE *f = fopen(path, "rb");
    if (!f)
        return cerr(err, errlen, "%s: cannot open", path);
    mm_buf b;
    mm_buf_init(&b, 16u << 20);
    int rc = mm_buf_read_stream(&b, f);
    fclose(f);
    if (rc < 0) {
        mm_buf_free(&b);
        return cerr(err, errlen, "%s: %s", path, rc == MM_ELIMIT ? "larger than 16 MiB" : "read error");
    }
    const char *text = mm_buf_cstr(&b);
    const char *q = text;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
        q++;
    json_t *root = NULL;
    if (*q == '<') {
        rc = bgpd_config_yang_plain(path, text, true, &root, err, errlen);
    } else {
        json_error_t je;
        root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
        if (!root)
            rc = cerr(err, errlen, "%s:%d: %s", path, je.line, je.text);
        else if (json_is_object(root) && json_object_get(root, "mamori-bgp:bgp")) {
            json_decref(root);
            root = NULL;
            rc = bgpd_config_yang_plain(path, text, false, &root, err, errlen);
        }
    }
    mm_buf_free(&b);
    if (rc < 0)
        return rc;
    rc = bgpd_config_from_json(root, c, err, errlen);
    json_decref(root);
    return rc;
}

void bgpd_config_free(bgpd_config *c)
{
    json_decref(c->flowspec);
    c->flowspec = NULL;
}
