/*
 * ietf-netconf-server (tls case) <-> the TLS transport's settings, and the
 * seed configuration of a new installation.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"
#include "netconfd.h"

/* ------------------------------------------------------------ encodings */

/* base64 of len bytes (no newlines), malloc'd. */
static char *b64(const uint8_t *p, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, p, (int)len);
    return out;
}

static uint8_t *unb64(const char *s, size_t *len)
{
    size_t n = strlen(s);
    uint8_t *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (got < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as data. */
    while (n > 0 && s[n - 1] == '=' && got > 0) {
        got--;
        n--;
    }
    *len = (size_t)got;
    return out;
}

/*
 * ietf-crypto-types carries certificates as CMS SignedData with no
 * signers ("degenerate", certificates only): build and read that form.
 */
static char *cert_cms_b64(X509 *cert)
{
    PKCS7 *p7 = PKCS7_new();
    char *out = NULL;
    if (p7 && PKCS7_set_type(p7, NID_pkcs7_signed) && PKCS7_content_new(p7, NID_pkcs7_data) &&
        PKCS7_add_certificate(p7, cert)) {
        unsigned char *der = NULL;
        int n = i2d_PKCS7(p7, &der);
        if (n > 0)
            out = b64(der, (size_t)n);
        OPENSSL_free(der);
    }
    PKCS7_free(p7);
    return out;
}

static STACK_OF(X509) *cms_certs(const char *b64text, PKCS7 **keep)
{
    size_t len = 0;
    uint8_t *der = unb64(b64text, &len);
    const unsigned char *p = der;
    *keep = der ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
    free(der);
    if (!*keep || !PKCS7_type_is_signed(*keep) || !(*keep)->d.sign)
        return NULL;
    return (*keep)->d.sign->cert;
}

static int fingerprint_text(X509 *cert, char *out, size_t outlen)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &n) || outlen < 3 + 3 * (size_t)n)
        return MM_ECRYPTO;
    size_t o = (size_t)snprintf(out, outlen, "04");
    for (unsigned int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, outlen - o, ":%02X", md[i]);
    return 0;
}

/* ------------------------------------------------------------ seed */

/* The parts both transports share: server identity, trust anchor, cert-to-name. */
struct seed_parts {
    char *pub, *srv_cms, *ca_cms;
    char fp[200];
};

static int identity_json(mm_buf *b, const struct seed_parts *p)
{
    return mm_buf_printf(
        b,
        "    \"server-identity\": {\"certificate\": {\"inline-definition\": {\n"
        "     \"public-key-format\": \"ietf-crypto-types:subject-public-key-info-format\",\n"
        "     \"public-key\": \"%s\",\n     \"hidden-private-key\": [null],\n"
        "     \"cert-data\": \"%s\"}}},\n"
        "    \"client-authentication\": {\"ca-certs\": {\"inline-definition\": "
        "{\"certificate\": [{\"name\": \"mamori-local-ca\", \"cert-data\": \"%s\"}]}}}",
        p->pub, p->srv_cms, p->ca_cms);
}

static int ctn_json(mm_buf *b, const struct seed_parts *p)
{
    return mm_buf_printf(b,
                         "{\"client-identity-mappings\": {\"cert-to-name\": "
                         "[{\"id\": 1, \"fingerprint\": \"%s\", "
                         "\"map-type\": \"ietf-x509-cert-to-name:common-name\"}]}}",
                         p->fp);
}

/* One local-bind entry per address of the comma-separated list. */
static int binds_json(mm_buf *b, const char *addresses, uint16_t port)
{
    MM_GUARD(mm_buf_append_str(b, "["));
    const char *a = addresses;
    for (bool first = true; *a; first = false) {
        size_t n = strcspn(a, ",");
        MM_GUARD(mm_buf_printf(b, "%s{\"local-address\": \"%.*s\", \"local-port\": %u}",
                               first ? "" : ", ", (int)n, a, (unsigned)port));
        a += n;
        a += *a == ',';
    }
    return mm_buf_append_str(b, "]");
}

static int endpoints_json(mm_buf *b, const struct seed_parts *p, const char *address,
                          uint16_t port, uint16_t quic_port)
{
    MM_GUARD(mm_buf_append_str(b, "{\n \"ietf-netconf-server:netconf-server\": {\"listen\": "
                                  "{\"endpoints\": {\"endpoint\": [{\n  \"name\": \"default\",\n"
                                  "  \"tls\": {\n   \"tcp-server-parameters\": {\"local-bind\": "));
    MM_GUARD(binds_json(b, address, port));
    MM_GUARD(mm_buf_append_str(b, "},\n   \"tls-server-parameters\": {\n"));
    MM_GUARD(identity_json(b, p));
    MM_GUARD(mm_buf_append_str(b, "},\n   \"netconf-server-parameters\": "));
    MM_GUARD(ctn_json(b, p));
    MM_GUARD(mm_buf_append_str(b, "\n  }}"));
    if (quic_port) {
        /* NETCONF over QUIC: the same identity; cert-to-name as mamori-netconf-quic adds it. */
        MM_GUARD(mm_buf_append_str(b, ",\n  {\"name\": \"quic\", \"ietf-netconf-quic:quic\": {\n"
                                      "   \"local-bind\": "));
        MM_GUARD(binds_json(b, address, quic_port));
        MM_GUARD(mm_buf_append_str(b, ",\n"));
        MM_GUARD(identity_json(b, p));
        MM_GUARD(mm_buf_append_str(b, ",\n   \"mamori-netconf-quic:netconf-server-parameters\": "));
        MM_GUARD(ctn_json(b, p));
        MM_GUARD(mm_buf_append_str(b, "\n  }}"));
    }
    return mm_buf_append_str(b, "]}}},\n");
}

static int nacm_json(mm_buf *b)
{
    return mm_buf_printf(
        b,
        " \"ietf-netconf-acm:nacm\": {\n"
        "  \"groups\": {\"group\": [{\"name\": \"admin\", \"user-name\": [\"%s\"]}]},\n"
        "  \"rule-list\": [{\"name\": \"admin\", \"group\": [\"admin\"], \"rule\": [{\n"
        "   \"name\": \"permit-all\", \"module-name\": \"*\", \"access-operations\": \"*\",\n"
        "   \"action\": \"permit\", \"comment\": \"the PKI's first client administers "
        "the server\"}]}]\n }\n}\n",
        MM_PKI_DEFAULT_CLIENT);
}

static int seed_body(mm_buf *b, X509 *ca, X509 *srv, const char *address, uint16_t port,
                     uint16_t quic_port)
{
    struct seed_parts p = {0};
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(X509_get0_pubkey(srv), &spki);
    p.pub = spki_len > 0 ? b64(spki, (size_t)spki_len) : NULL;
    p.srv_cms = cert_cms_b64(srv);
    p.ca_cms = cert_cms_b64(ca);
    int rc = (p.pub && p.srv_cms && p.ca_cms && fingerprint_text(ca, p.fp, sizeof(p.fp)) == 0)
                 ? 0
                 : MM_ECRYPTO;
    if (rc == 0)
        rc = endpoints_json(b, &p, address, port, quic_port);
    if (rc == 0)
        rc = nacm_json(b);
    OPENSSL_free(spki);
    free(p.pub);
    free(p.srv_cms);
    free(p.ca_cms);
    return rc;
}

int mm_netconfd_seed_json(const char *pki_dir, const char *address, uint16_t port,
                          uint16_t quic_port, char **json)
{
    *json = NULL;
    X509 *ca = mm_pki_read_cert(pki_dir, MM_PKI_CA_CERT);
    X509 *srv = mm_pki_read_cert(pki_dir, MM_PKI_SERVER_CERT);
    mm_buf b;
    mm_buf_init(&b, 1 << 20);
    int rc = (ca && srv) ? seed_body(&b, ca, srv, address, port, quic_port) : MM_ENOENT;
    X509_free(ca);
    X509_free(srv);
    if (rc == 0)
        *json = strdup(mm_buf_cstr(&b));
    mm_buf_free(&b);
    return rc == 0 && !*json ? MM_ENOMEM : rc;
}

/* ------------------------------------------------------------ settings */

static const char *child_value(const struct lyd_node *parent, const char *path)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(parent, path, 0, &n) != LY_SUCCESS || !n)
        return NULL;
    return lyd_get_value(n);
}

static int add_ctn(const struct lyd_node *entry, mm_nc_tls_settings *out)
{
    if (out->n_ctn == MM_NC_TLS_MAX_CTN)
        return MM_ELIMIT;
    size_t i = out->n_ctn;
    mm_ctn_entry *e = &out->ctn[i];
    memset(e, 0, sizeof(*e));
    const char *id = child_value(entry, "id"), *fp = child_value(entry, "fingerprint");
    const char *type = child_value(entry, "map-type"), *name = child_value(entry, "name");
    if (!id || !fp || !type)
        return MM_ECONFIG;
    e->id = (uint32_t)strtoul(id, NULL, 10);
    MM_GUARD(mm_ctn_fingerprint_parse(fp, e->fingerprint, sizeof(e->fingerprint),
                                      &e->fingerprint_len));
    const char *colon = strchr(type, ':');
    MM_GUARD(mm_ctn_map_type_parse(colon ? colon + 1 : type, &e->map_type));
    snprintf(out->ctn_names[i], sizeof(out->ctn_names[i]), "%s", name ? name : "");
    out->n_ctn++;
    return 0;
}

static int cmp_ctn(const void *a, const void *b)
{
    const mm_ctn_entry *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sort entries by id, keeping each entry's name with it. */
static void sort_ctn(mm_nc_tls_settings *s)
{
    for (size_t i = 0; i < s->n_ctn; i++)
        s->ctn[i].name = s->ctn_names[i]; /* carry the name through the sort */
    qsort(s->ctn, s->n_ctn, sizeof(s->ctn[0]), cmp_ctn);
    char names[MM_NC_TLS_MAX_CTN][MM_NC_TLS_NAME_MAX];
    for (size_t i = 0; i < s->n_ctn; i++)
        snprintf(names[i], sizeof(names[i]), "%s", s->ctn[i].name);
    memcpy(s->ctn_names, names, sizeof(names[0]) * s->n_ctn);
    for (size_t i = 0; i < s->n_ctn; i++)
        s->ctn[i].name = NULL; /* the transport re-points names at its own copy */
}

/* Append every certificate of the CMS cert-data leaves under set to pem. */
static int collect_anchors(struct ly_set *set, mm_buf *pem)
{
    for (uint32_t i = 0; i < set->count; i++) {
        PKCS7 *p7 = NULL;
        STACK_OF(X509) *certs = cms_certs(lyd_get_value(set->dnodes[i]), &p7);
        for (int j = 0; certs && j < sk_X509_num(certs); j++) {
            BIO *bio = BIO_new(BIO_s_mem());
            char *data = NULL;
            if (bio && PEM_write_bio_X509(bio, sk_X509_value(certs, j))) {
                long n = BIO_get_mem_data(bio, &data);
                mm_buf_append(pem, data, (size_t)n);
            }
            BIO_free(bio);
        }
        PKCS7_free(p7);
        if (!certs) {
            mm_log_error("netconfd-config", "path=%s err=\"cert-data is not CMS SignedData\"",
                         "client-authentication/ca-certs");
            return MM_ECONFIG;
        }
    }
    return 0;
}

/* Rewrite the trust-anchor file only when its content changes (mtime drives reloads). */
static int write_if_changed(const char *path, const mm_buf *pem)
{
    FILE *f = fopen(path, "r");
    if (f) {
        char *old = malloc(pem->len + 2);
        size_t n = old ? fread(old, 1, pem->len + 1, f) : 0;
        fclose(f);
        bool same = old && n == pem->len && memcmp(old, pem->data, n) == 0;
        free(old);
        if (same)
            return 0;
    }
    char tmp[2100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return MM_ESYS;
    bool ok = fwrite(pem->data, 1, pem->len, f) == pem->len && fflush(f) == 0 &&
              fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    return (ok && rename(tmp, path) == 0) ? 0 : MM_EIO;
}

static int add_endpoint(const struct lyd_node *ep, mm_nc_tls_settings *out)
{
    const char *name = child_value(ep, "name");
    struct ly_set *binds = NULL;
    if (lyd_find_xpath(ep, "tls/tcp-server-parameters/local-bind", &binds) != LY_SUCCESS)
        return MM_ECONFIG;
    int rc = 0;
    for (uint32_t i = 0; i < binds->count && rc == 0; i++) {
        if (out->n_endpoints == MM_NC_TLS_MAX_ENDPOINTS) {
            rc = MM_ELIMIT;
            break;
        }
        mm_nc_tls_endpoint *e = &out->endpoints[out->n_endpoints++];
        const char *addr = child_value(binds->dnodes[i], "local-address");
        const char *port = child_value(binds->dnodes[i], "local-port");
        snprintf(e->name, sizeof(e->name), "%s", name ? name : "?");
        snprintf(e->address, sizeof(e->address), "%s", addr ? addr : "::1");
        e->port = (uint16_t)(port ? strtoul(port, NULL, 10) : MM_NC_TLS_PORT);
    }
    ly_set_free(binds, NULL);
    return rc;
}

int mm_netconfd_settings_from_running(const struct lyd_node *running, const char *pki_dir,
                                      const char *state_dir, mm_nc_tls_settings *out)
{
    memset(out, 0, sizeof(*out));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_SERVER_CERT, out->cert_file, sizeof(out->cert_file)));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_SERVER_KEY, out->key_file, sizeof(out->key_file)));
    struct ly_set *eps = NULL, *ctn = NULL, *anchors = NULL;
    if (!running ||
        lyd_find_xpath(running, MM_NETCONFD_ENDPOINTS "[tls]", &eps) != LY_SUCCESS)
        return MM_ENOENT;
    int rc = eps->count ? 0 : MM_ENOENT;
    for (uint32_t i = 0; i < eps->count && rc == 0; i++)
        rc = add_endpoint(eps->dnodes[i], out);
    if (rc == 0 &&
        lyd_find_xpath(running, MM_NETCONFD_ENDPOINTS "/tls/netconf-server-parameters/"
                                "client-identity-mappings/cert-to-name", &ctn) != LY_SUCCESS)
        rc = MM_ECONFIG;
    for (uint32_t i = 0; ctn && i < ctn->count && rc == 0; i++)
        rc = add_ctn(ctn->dnodes[i], out);
    if (rc == 0)
        sort_ctn(out);
    if (rc == 0 &&
        lyd_find_xpath(running, MM_NETCONFD_ENDPOINTS "/tls/tls-server-parameters/"
                                "client-authentication/ca-certs/inline-definition/"
                                "certificate/cert-data", &anchors) != LY_SUCCESS)
        rc = MM_ECONFIG;
    mm_buf pem;
    mm_buf_init(&pem, 4 << 20);
    if (rc == 0 && anchors->count) {
        rc = collect_anchors(anchors, &pem);
        if (rc == 0)
            rc = mm_pki_path(state_dir, MM_NETCONFD_TRUST_FILE, out->ca_file, sizeof(out->ca_file));
        if (rc == 0)
            rc = write_if_changed(out->ca_file, &pem);
    } else if (rc == 0) {
        rc = mm_pki_path(pki_dir, MM_PKI_CA_CERT, out->ca_file, sizeof(out->ca_file));
    }
    mm_buf_free(&pem);
    ly_set_free(eps, NULL);
    ly_set_free(ctn, NULL);
    ly_set_free(anchors, NULL);
    return rc;
}

/*
 * Trust anchors of the QUIC endpoints: the ca-certs of every quic endpoint,
 * written to <state_dir>/quic-trust-anchors.pem, which then replaces ca_file.
 * Without any, ca_file is left as it is (the PKI's CA).
 */
int mm_netconfd_quic_anchors(const struct lyd_node *running, const char *state_dir,
                             char *ca_file, size_t ca_len)
{
    struct ly_set *anchors = NULL;
    if (!running || lyd_find_xpath(running, MM_NETCONFD_ENDPOINTS "/ietf-netconf-quic:quic/"
                                            "client-authentication/ca-certs/inline-definition/"
                                            "certificate/cert-data",
                                   &anchors) != LY_SUCCESS)
        return 0; /* no quic case in this context: nothing to read */
    int rc = 0;
    if (anchors->count) {
        mm_buf pem;
        mm_buf_init(&pem, 4 << 20);
        rc = collect_anchors(anchors, &pem);
        if (rc == 0)
            rc = mm_pki_path(state_dir, MM_NETCONFD_QUIC_TRUST_FILE, ca_file, ca_len);
        if (rc == 0)
            rc = write_if_changed(ca_file, &pem);
        mm_buf_free(&pem);
    }
    ly_set_free(anchors, NULL);
    return rc;
}

int mm_netconfd_fallback_settings(const char *pki_dir, const char *address, uint16_t port,
                                  mm_nc_tls_settings *out)
{
    memset(out, 0, sizeof(*out));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_SERVER_CERT, out->cert_file, sizeof(out->cert_file)));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_SERVER_KEY, out->key_file, sizeof(out->key_file)));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_CA_CERT, out->ca_file, sizeof(out->ca_file)));
    for (const char *a = address; *a && out->n_endpoints < MM_NC_TLS_MAX_ENDPOINTS;) {
        size_t n = strcspn(a, ",");
        mm_nc_tls_endpoint *e = &out->endpoints[out->n_endpoints++];
        snprintf(e->name, sizeof(e->name), "fallback");
        snprintf(e->address, sizeof(e->address), "%.*s", (int)n, a);
        e->port = port;
        a += n;
        a += *a == ',';
    }
    /* As the seed: certificates issued by the PKI's CA map to their common name. */
    X509 *ca = mm_pki_read_cert(pki_dir, MM_PKI_CA_CERT);
    char fp[200];
    int rc = ca ? fingerprint_text(ca, fp, sizeof(fp)) : MM_ENOENT;
    X509_free(ca);
    MM_GUARD(rc);
    mm_ctn_entry *c = &out->ctn[out->n_ctn++];
    c->id = 1;
    c->map_type = MM_CTN_COMMON_NAME;
    return mm_ctn_fingerprint_parse(fp, c->fingerprint, sizeof(c->fingerprint),
                                    &c->fingerprint_len);
}

int mm_netconfd_check_listen(const struct lyd_node *proposed, char *path, size_t path_len,
                             char *msg, size_t msg_len)
{
    size_t n = 0;
    struct ly_set *set = NULL;
    if (proposed && lyd_find_xpath(proposed, MM_NETCONFD_ENDPOINTS "/tls/tcp-server-parameters/"
                                             "local-bind", &set) == LY_SUCCESS) {
        n += set->count;
        ly_set_free(set, NULL);
    }
    set = NULL;
    if (proposed && ly_ctx_get_module_implemented(LYD_CTX(proposed), "ietf-netconf-quic") &&
        lyd_find_xpath(proposed, MM_NETCONFD_ENDPOINTS "/ietf-netconf-quic:quic/local-bind",
                       &set) == LY_SUCCESS) {
        n += set->count;
        ly_set_free(set, NULL);
    }
    if (n > 0)
        return 0;
    snprintf(path, path_len, "%s", MM_NETCONFD_ENDPOINTS);
    snprintf(msg, msg_len, "the change leaves the server with no listen endpoint (no tls or "
                           "quic local-bind); nobody could connect to it any more");
    return MM_EPERM;
}
