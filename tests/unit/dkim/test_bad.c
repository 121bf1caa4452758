/*
 * Bad input never passes: malformed/duplicate tags, bad base64, oversized
 * headers and header counts, CR/LF oddities, 8-bit headers, missing From,
 * garbage key records, DNS timeouts, l= policy.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dkim_test.h"
#include "dkim_int.h"

static EVP_PKEY *ed;
static mm_buf rec;
static uint8_t *good;
static size_t good_len;

static const char *const hdrs[] = {"from", "to", "subject", NULL};
static const char *const none[] = {NULL};

static int setup(void **state)
{
    (void)state;
    mm_buf_init(&rec, 1 << 16);
    ed = t_key(MM_DKIM_ALG_ED25519_SHA256, 0, "ed", &rec);
    mm_dkim_sign_opts o = {.pkey = ed, .alg = MM_DKIM_ALG_ED25519_SHA256, .domain = "example.test",
                           .selector = "ed", .hc = MM_DKIM_RELAXED, .bc = MM_DKIM_RELAXED,
                           .t = -1, .headers = hdrs, .oversign = none};
    good = t_sign(&o, T_MSG, &good_len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ed);
    mm_buf_free(&rec);
    free(good);
    return 0;
}

/* The good message with its signature field's value replaced by sigval. */
static mm_dkim_result with_sig(const char *sigval, mm_dkim_keysrc *ks)
{
    mm_buf m;
    mm_buf_init(&m, 1 << 22);
    mm_buf_printf(&m, "DKIM-Signature: %s\r\n", sigval);
    mm_buf_append_str(&m, T_MSG);
    mm_dkim_result r = t_verify(ks, m.data, m.len, false);
    mm_buf_free(&m);
    return r;
}

/* The real signature's tags, to build variants from. */
static void real_tags(char *out, size_t cap)
{
    const char *v = (const char *)good + strlen("DKIM-Signature:");
    const char *end = strstr(v, "\r\nFrom:");
    snprintf(out, cap, "%.*s", (int)(end - v), v);
}

static void replace(char *s, size_t cap, const char *from, const char *to)
{
    char *p = strstr(s, from);
    assert_non_null(p);
    char tail[8192];
    snprintf(tail, sizeof(tail), "%s", p + strlen(from));
    snprintf(p, cap - (size_t)(p - s), "%s%s", to, tail);
}

static void test_malformed_signatures(void **state)
{
    (void)state;
    mm_dkim_keysrc *ks = t_keys(mm_buf_cstr(&rec));
    char t[8192], v[8192];
    real_tags(t, sizeof(t));
    assert_int_equal(with_sig(t, ks).code, MM_DKIM_PASS); /* the base case does pass */
    static const struct {
        const char *from, *to, *why;
    } cases[] = {
        {"v=1;", "v=1; v=1;", "duplicate"},
        {"v=1;", "v=2;", "version"},
        {"v=1;", "", "missing v"},
        {"a=ed25519-sha256;", "a=rsa-sha1;", "sha1"},
        {"a=ed25519-sha256;", "a=ed448-sha256;", "unknown alg"},
        {"d=example.test;", "d=exa mple..test;", "bad d"},
        {"d=example.test;", "", "missing d"},
        {"s=ed;", "s=;", "empty s"},
        {"c=relaxed/relaxed;", "c=relaxed/fancy;", "bad c"},
        {"h=from:", "h=", "no from"},
        {"h=from", "h=:from", "empty h name"},
        {"bh=", "bh=!!", "bad bh base64"},
        {"b=", "b=*", "bad b base64"},
        {"v=1;", "v=1; q=http;", "q"},
        {"v=1;", "v=1; i=alice@other.test;", "i outside d"},
        {"v=1;", "v=1; i=no-at;", "i without @"},
        {"v=1;", "v=1; t=abc;", "bad t"},
        {"v=1;", "v=1; t=2000000000; x=1000000000;", "x before t"},
        {"v=1;", "v=1; x=1000000000;", "expired"},
        {"v=1;", "v=1; l=99999999999999999999;", "l overflow"},
        {"v=1;", "v=1;;", "empty tag-spec"},
        {"v=1;", "v=1; 9x=1;", "bad tag name"},
        {"v=1;", "v=1; z=\xc3\xa9;", "8-bit value"},
        {"v=1;", "v=1; n=a\r\nb;", "CRLF without WSP"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(v, sizeof(v), "%s", t);
        replace(v, sizeof(v), cases[i].from, cases[i].to);
        mm_dkim_result r = with_sig(v, ks);
        print_message("%-20s -> %s (%s)\n", cases[i].why, mm_dkim_result_name(r.code), r.reason);
        assert_int_not_equal(r.code, MM_DKIM_PASS);
        assert_true(r.code == MM_DKIM_PERMERROR || r.code == MM_DKIM_FAIL || r.code == MM_DKIM_POLICY);
    }
    mm_dkim_keysrc_close(ks);
}

/* tmpl with every "%s" replaced by pk */
static void subst(char *out, size_t cap, const char *tmpl, const char *pk)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == 's') {
            o += (size_t)snprintf(out + o, cap - o, "%s", pk);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o < cap ? o : cap - 1] = 0;
}

static void test_key_records(void **state)
{
    (void)state;
    char t[8192];
    real_tags(t, sizeof(t));
    const char *p = strstr(mm_buf_cstr(&rec), "p=") + 2;
    char pk[128];
    snprintf(pk, sizeof(pk), "%.*s", (int)strcspn(p, "\n"), p);
    static const char *bad[] = {
        "v=DKIM1; k=ed25519; p=",                           /* revoked */
        "v=DKIM1; k=ed25519; p=!!!!",                       /* bad base64 */
        "v=DKIM1; k=ed25519; p=AAAA",                       /* wrong length */
        "v=DKIM1; k=rsa; p=%s",                             /* type mismatch */
        "v=DKIM2; k=ed25519; p=%s",                         /* bad version */
        "k=ed25519; v=DKIM1; p=%s",                         /* v= not first */
        "v=DKIM1; k=ed25519; h=sha1; p=%s",                 /* hash not allowed */
        "v=DKIM1; k=ed25519; s=tlsrpt; p=%s",               /* service not email */
        "v=DKIM1; k=dsa; p=%s",                             /* unknown key type */
        "v=DKIM1; k=ed25519",                               /* no p= */
        "v=DKIM1; k=ed25519; p=%s; p=%s",                   /* duplicate */
        "\x01\x02garbage",                                  /* not a tag-list */
        "v=DKIM1; k=ed25519; t=s; p=%s",                    /* strict: i= must equal d= (ok here) */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[1024], rd[512];
        subst(rd, sizeof(rd), bad[i], pk);
        snprintf(line, sizeof(line), "ed._domainkey.example.test %s\n", rd);
        mm_dkim_keysrc *ks = t_keys(line);
        mm_dkim_result r = t_verify(ks, good, good_len, false);
        print_message("key %-40.40s -> %s (%s)\n", rd, mm_dkim_result_name(r.code), r.reason);
        if (i == sizeof(bad) / sizeof(bad[0]) - 1)
            assert_int_equal(r.code, MM_DKIM_PASS); /* t=s with i=@d is fine: control case */
        else
            assert_int_equal(r.code, MM_DKIM_PERMERROR);
        mm_dkim_keysrc_close(ks);
    }
    /* no record at all */
    mm_dkim_keysrc *ks = t_keys("other._domainkey.example.test v=DKIM1; p=\n");
    mm_dkim_result r = t_verify(ks, good, good_len, false);
    assert_int_equal(r.code, MM_DKIM_PERMERROR);
    mm_dkim_keysrc_close(ks);
    /* RSA key below 1024 bits is never valid (RFC 8301) */
    mm_buf small;
    mm_buf_init(&small, 4096);
    EVP_PKEY *k512 = t_key(MM_DKIM_ALG_RSA_SHA256, 512, "ed", &small);
    mm_dkim_pubkey pub;
    const char *why;
    const char *rd = strchr(mm_buf_cstr(&small), ' ') + 1;
    assert_int_equal(mm_dkim_pubkey_parse((const uint8_t *)rd, strlen(rd) - 1, &pub, &why), MM_EPERM);
    EVP_PKEY_free(k512);
    mm_buf_free(&small);
}

static void test_message_limits(void **state)
{
    (void)state;
    mm_dkim_keysrc *ks = t_keys(mm_buf_cstr(&rec));
    /* too many header fields */
    mm_buf m;
    mm_buf_init(&m, 1 << 24);
    mm_buf_append(&m, good, good_len - strlen(T_MSG));
    for (int i = 0; i < MM_DKIM_MAX_HEADERS + 1; i++)
        mm_buf_append_str(&m, "X-Pad: 1\r\n");
    mm_buf_append_str(&m, T_MSG);
    assert_int_not_equal(t_verify(ks, m.data, m.len, false).code, MM_DKIM_PASS);
    /* one oversized field */
    mm_buf_reset(&m);
    mm_buf_append(&m, good, good_len - strlen(T_MSG));
    mm_buf_append_str(&m, "X-Big: ");
    for (int i = 0; i < MM_DKIM_MAX_FIELD / 8 + 1; i++)
        mm_buf_append_str(&m, "aaaaaaaa");
    mm_buf_append_str(&m, "\r\n");
    mm_buf_append_str(&m, T_MSG);
    assert_int_not_equal(t_verify(ks, m.data, m.len, false).code, MM_DKIM_PASS);
    /* 8-bit octets in a signed header: hashed as they are, so a change is a failure */
    mm_buf_reset(&m);
    mm_buf_append(&m, good, good_len);
    char *s = strstr((char *)m.data, "Subject: hello");
    s[9] = (char)0xe9;
    assert_int_equal(t_verify(ks, m.data, m.len, false).code, MM_DKIM_FAIL);
    /* LF-only line ends of the same message verify (converted), bare CR in the body does not */
    mm_buf_reset(&m);
    for (size_t i = 0; i < good_len; i++)
        if (good[i] != '\r')
            mm_buf_append(&m, good + i, 1);
    assert_int_equal(t_verify(ks, m.data, m.len, false).code, MM_DKIM_PASS);
    char *b = strstr((char *)m.data, "Hello Bob,\n");
    b[10] = '\r';
    assert_int_equal(t_verify(ks, m.data, m.len, false).code, MM_DKIM_FAIL);
    /* missing From: a From-less message is never a pass even with the From signed */
    mm_buf_reset(&m);
    mm_buf_append(&m, good, good_len);
    char *f = strstr((char *)m.data, "From: Alice");
    f[0] = 'X';
    assert_int_equal(t_verify(ks, m.data, m.len, false).code, MM_DKIM_FAIL);
    mm_buf_free(&m);
    mm_dkim_keysrc_close(ks);
}

/* The signer refuses l=, so an l= signature is made here from the library's parts. */
static uint8_t *sign_with_l(size_t l, const char *appended, size_t *len)
{
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    size_t body;
    assert_int_equal(mm_dkim_msg_parse(&m, (const uint8_t *)T_MSG, strlen(T_MSG), &body), 0);
    dkim_bodyhash bh;
    assert_int_equal(dkim_bodyhash_init(&bh, MM_DKIM_RELAXED, l), 0);
    dkim_bodyhash_update(&bh, (const uint8_t *)T_MSG + body, strlen(T_MSG) - body);
    uint8_t dg[32];
    assert_int_equal(dkim_bodyhash_final(&bh, dg), 0);
    dkim_bodyhash_free(&bh);
    mm_buf f;
    mm_buf_init(&f, 1 << 20);
    mm_buf_printf(&f, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.test; "
                      "s=ed; l=%zu; h=from:to:subject; bh=", l);
    mm_dkim_b64_encode(&f, dg, 32);
    mm_buf_append_str(&f, "; b=");
    dkim_span h[3] = {{(const uint8_t *)"from", 4}, {(const uint8_t *)"to", 2}, {(const uint8_t *)"subject", 7}};
    mm_buf hin;
    mm_buf_init(&hin, 1 << 20);
    assert_int_equal(dkim_hdr_input(&m, MM_DKIM_RELAXED, h, 3, f.data, f.len, f.len, f.len, &hin), 0);
    uint8_t sig[128];
    size_t sl = sizeof(sig);
    assert_int_equal(dkim_crypto_sign(ed, MM_DKIM_ALG_ED25519_SHA256, hin.data, hin.len, sig, &sl), 0);
    mm_dkim_b64_encode(&f, sig, sl);
    mm_buf_printf(&f, "\r\n%s%s", T_MSG, appended);
    mm_buf_cstr(&f);
    *len = f.len;
    mm_buf_free(&hin);
    mm_dkim_msg_free(&m);
    return f.data;
}

static void test_l_policy(void **state)
{
    (void)state;
    mm_dkim_keysrc *ks = t_keys(mm_buf_cstr(&rec));
    size_t len;
    /* l= covers the first 12 canonical octets; 40 octets are appended after signing */
    uint8_t *m = sign_with_l(12, "APPENDED BY SOMEONE ELSE, NOT SIGNED\r\n", &len);
    mm_dkim_result r = t_verify(ks, m, len, false);
    assert_int_equal(r.code, MM_DKIM_POLICY); /* default: refused (RFC 6376 8.2) */
    assert_true(r.has_l);
    r = t_verify(ks, m, len, true);
    assert_int_equal(r.code, MM_DKIM_PASS); /* allowed by policy: the signed part verifies */
    assert_true(r.unsigned_body > 0);       /* and the unsigned rest is reported */
    free(m);
    /* l= longer than the body: permerror even when allowed */
    m = sign_with_l(100000, "", &len);
    r = t_verify(ks, m, len, true);
    assert_int_equal(r.code, MM_DKIM_PERMERROR);
    free(m);
    mm_dkim_keysrc_close(ks);
}

/* A resolver that never answers: the lookup times out -> temperror, never a pass. */
static void test_dns_timeout(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1@%u", ntohs(sa.sin_port));
    mm_dkim_keysrc *ks;
    assert_int_equal(mm_dkim_keysrc_open(MM_DKIM_KEYS_DNS, ns, 200, &ks), 0);
    mm_dkim_result r = t_verify(ks, good, good_len, false);
    assert_int_equal(r.code, MM_DKIM_TEMPERROR);
    mm_dkim_keysrc_close(ks);
    close(fd);
}

/*
 * A small authoritative server on loopback (ldns builds the answers): selector "ed" gets the
 * real key split over two character-strings, "nx" NXDOMAIN, "sf" SERVFAIL, "gb" garbage.
 */
struct dns_srv {
    int fd;
    volatile int stop; /* set, then one datagram wakes the thread */
    char rdata[600];
    int served;
};

static void *dns_serve(void *arg)
{
    struct dns_srv *d = arg;
    for (;;) {
        uint8_t q[1500];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(d->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
        if (n <= 0 || d->stop)
            return NULL;
        ldns_pkt *qp = NULL;
        if (ldns_wire2pkt(&qp, q, (size_t)n) != LDNS_STATUS_OK)
            continue;
        ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(qp), 0);
        char *qname = ldns_rdf2str(ldns_rr_owner(qr));
        ldns_pkt *a = ldns_pkt_new();
        ldns_pkt_set_id(a, ldns_pkt_id(qp));
        ldns_pkt_set_qr(a, true);
        ldns_pkt_set_aa(a, true);
        ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
        if (!strncmp(qname, "nx.", 3)) {
            ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
        } else if (!strncmp(qname, "sf.", 3)) {
            ldns_pkt_set_rcode(a, LDNS_RCODE_SERVFAIL);
        } else {
            char rr[1400];
            if (!strncmp(qname, "gb.", 3))
                snprintf(rr, sizeof(rr), "%s 300 IN TXT \"v=DKIM1; k=ed25519; p=%%%%%%\"", qname);
            else /* split after 20 octets: the strings must be joined without a separator */
                snprintf(rr, sizeof(rr), "%s 300 IN TXT \"%.20s\" \"%s\"", qname, d->rdata, d->rdata + 20);
            ldns_rr *ans = NULL;
            if (ldns_rr_new_frm_str(&ans, rr, 300, NULL, NULL) == LDNS_STATUS_OK)
                ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, ans);
        }
        uint8_t *wire = NULL;
        size_t wl = 0;
        if (ldns_pkt2wire(&wire, a, &wl) == LDNS_STATUS_OK)
            sendto(d->fd, wire, wl, 0, (struct sockaddr *)&from, fl);
        d->served++;
        free(wire);
        free(qname);
        ldns_pkt_free(a);
        ldns_pkt_free(qp);
    }
}

static void test_dns_answers(void **state)
{
    (void)state;
    struct dns_srv d = {0};
    const char *rd = strchr(mm_buf_cstr(&rec), ' ') + 1;
    snprintf(d.rdata, sizeof(d.rdata), "%.*s", (int)strcspn(rd, "\n"), rd);
    d.fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(d.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(d.fd, (struct sockaddr *)&sa, &sl);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, dns_serve, &d), 0);
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1@%u", ntohs(sa.sin_port));
    mm_dkim_keysrc *ks;
    assert_int_equal(mm_dkim_keysrc_open(MM_DKIM_KEYS_DNS, ns, 2000, &ks), 0);
    static const struct {
        const char *sel;
        enum mm_dkim_result_code want;
    } c[] = {{"ed", MM_DKIM_PASS}, {"nx", MM_DKIM_PERMERROR}, {"sf", MM_DKIM_TEMPERROR},
             {"gb", MM_DKIM_PERMERROR}};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        mm_dkim_sign_opts o = {.pkey = ed, .alg = MM_DKIM_ALG_ED25519_SHA256, .domain = "example.test",
                               .selector = c[i].sel, .hc = MM_DKIM_RELAXED, .bc = MM_DKIM_RELAXED};
        size_t len;
        uint8_t *m = t_sign(&o, T_MSG, &len);
        mm_dkim_result r = t_verify(ks, m, len, false);
        print_message("dns selector %s -> %s (%s)\n", c[i].sel, mm_dkim_result_name(r.code), r.reason);
        assert_int_equal(r.code, c[i].want);
        free(m);
    }
    mm_dkim_keysrc_close(ks);
    d.stop = 1;
    int wake = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(wake, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
    pthread_join(th, NULL);
    close(wake);
    close(d.fd);
    assert_true(d.served >= 4); /* read after the join: the server counts after answering */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_signatures),
        cmocka_unit_test(test_key_records),
        cmocka_unit_test(test_message_limits),
        cmocka_unit_test(test_l_policy),
        cmocka_unit_test(test_dns_timeout),
        cmocka_unit_test(test_dns_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
