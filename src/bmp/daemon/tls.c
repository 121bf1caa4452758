/*
 * tls.c - mamori-bmpd's TLS listener: the context from the suite's PKI,
 * the client certificate's identity against the allow-list, and precise
 * reasons for failed handshakes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmpd_internal.h"
#include "mamori/mm_core.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "mamori/mm_pki.h"

/*
 * The TLS listener's context from the suite's PKI (as ddnsd and netconfd):
 * server.crt/.key, and ca.crt as the only trust anchor for routers' client
 * certificates, which are required. The cert-to-name map takes the identity
 * of a certificate issued by that CA from its subjectAltName, else its CN.
 */
int bmpd_tls_setup(bmpd *d)
{
    const char *dir = d->cfg.pki_dir;
    if (!dir) {
        mm_log_error("tls", "error=\"the TLS listener needs --pki-dir\"");
        return MM_ECONFIG;
    }
    if (!mm_pki_exists(dir)) {
        MM_GUARD(mm_pki_init(dir, false));
        mm_log_info("pki-created", "dir=%s", dir);
    }
    char ca[1100], cert[1100], key[1100];
    MM_GUARD(mm_pki_path(dir, MM_PKI_CA_CERT, ca, sizeof(ca)));
    MM_GUARD(mm_pki_path(dir, MM_PKI_SERVER_CERT, cert, sizeof(cert)));
    MM_GUARD(mm_pki_path(dir, MM_PKI_SERVER_KEY, key, sizeof(key)));
    mm_tls_config cfg = {.ca_file = ca, .cert_file = cert, .key_file = key};
    if (!(d->tls_ctx = mm_tls_ctx_new_server(&cfg)))
        return MM_ECRYPTO;
    X509 *cacert = mm_pki_read_cert(dir, MM_PKI_CA_CERT);
    if (!cacert)
        return MM_ECRYPTO;
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        mm_ctn_entry *e = &d->ctn_entries[i];
        e->id = (uint32_t)i + 1;
        e->map_type = i == 0 ? MM_CTN_SAN_ANY : MM_CTN_COMMON_NAME;
        rc = mm_ctn_fingerprint_of(cacert, MM_CTN_SHA256, e->fingerprint, sizeof(e->fingerprint),
                                   &e->fingerprint_len);
    }
    X509_free(cacert);
    d->ctn.entries = d->ctn_entries;
    d->ctn.count = 2;
    return rc;
}

/*
 * The TLS handshake is done and the chain verified against the PKI's CA
 * (mm_tls requires a client certificate): map it to an identity (RFC 7407:
 * subjectAltName, else the CN, of a certificate issued by our CA) and check
 * it against the allow-list of names, if one is configured.
 */
void bmpd_tls_authorize(struct router *r)
{
    bmpd *d = r->d;
    SSL *ssl = bufferevent_openssl_get_ssl(r->bev);
    char deny[256] = "";
    int rc = mm_tls_peer_identity(ssl, &d->ctn, r->identity, sizeof(r->identity));
    if (rc < 0) {
        snprintf(deny, sizeof(deny), "client certificate maps to no identity: %s", mm_strerror(rc));
    } else if (d->cfg.n_tls_names) {
        bool found = false;
        for (size_t i = 0; i < d->cfg.n_tls_names && !found; i++)
            found = strcmp(d->cfg.tls_names[i], r->identity) == 0;
        if (!found)
            snprintf(deny, sizeof(deny), "certificate identity '%s' not in the allow-list",
                     r->identity);
    }
    X509 *peer = SSL_get0_peer_certificate(ssl);
    struct tm na;
    if (peer && ASN1_TIME_to_tm(X509_get0_notAfter(peer), &na) == 1)
        r->cert_not_after = timegm(&na);
    if (!deny[0]) {
        char why[256];
        snprintf(why, sizeof(why), "client certificate identity=%s group=%s", r->identity,
                 mm_tls_negotiated_group_name(ssl) ? mm_tls_negotiated_group_name(ssl) : "?");
        if (bmpd_audit(d, "connect-tls", true, why, r->label) == 0) {
            bmpd_router_activate(r);
            /* Bytes that arrived with the handshake's last flight. */
            if (evbuffer_get_length(bufferevent_get_input(r->bev)))
                bmpd_router_read(r->bev, r);
            return;
        }
        snprintf(deny, sizeof(deny), "audit record could not be written");
    }
    bmpd_refuse(d, r->label, deny);
    bmpd_router_end(r, deny);
}

/*
 * Why a TLS handshake failed, precisely: the verification result of the
 * client's chain, else the most specific OpenSSL reason (libevent moved
 * OpenSSL's error queue into the bufferevent).
 */
void bmpd_tls_error_text(struct bufferevent *bev, char *out, size_t len)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK) {
        snprintf(out, len, "TLS handshake failed: client certificate not trusted: %s",
                 X509_verify_cert_error_string(v));
        while (bufferevent_get_openssl_error(bev) != 0)
            ;
        return;
    }
    unsigned long e;
    const char *reason = NULL;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (ERR_reason_error_string(e))
            reason = ERR_reason_error_string(e);
    ERR_clear_error();
    snprintf(out, len, "TLS handshake failed: %s", reason ? reason : "aborted by the router");
}
