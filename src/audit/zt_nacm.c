/*
 * zt_nacm.c - ZT-05c: NACM (RFC 8341) defaults of every NETCONF listener,
 * probed over NETCONF over TLS inside the daemon's network namespace:
 *
 *  1. as the PKI's admin (client.crt): read /nacm; enable-nacm must not be
 *     false and write-default must not be permit (RFC 8341 section 3.5.2
 *     defaults: enable-nacm true, write-default deny);
 *  2. as an identity nobody configured (a certificate made on the spot by
 *     the installation's CA, CN mamori-zt-probe): <kill-session>, which
 *     RFC 6241 marks nacm:default-deny-all, must be answered access-denied.
 *
 * The probe identity's certificate lives in a private temporary directory
 * for the duration of the probe; nothing is written to the PKI.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"
#include "zt.h"
#include "zt_internal.h"

#define NACM_NS "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"

/* One NETCONF session as (cert, key); the reply of op in *reply (malloc'd). */
static int nc_rpc(const mm_zt_endpoint *ep, const char *ca, const char *cert, const char *key,
                  int timeout_ms, const char *op, char **reply, char *why, size_t why_len)
{
    mm_nc_tls_client_config cfg = {.host = mm_zt_probe_addr(ep), .port = ep->port,
                                   .server_name = "localhost", .ca_file = ca, .cert_file = cert,
                                   .key_file = key, .timeout_ms = timeout_ms};
    int saved = -1;
    if (mm_zt_netns_enter(ep->pid, &saved) < 0) {
        snprintf(why, why_len, "cannot enter the daemon's network namespace");
        return MM_ESYS;
    }
    mm_nc_tls_stream *s = NULL;
    int rc = mm_nc_tls_connect(&cfg, &s, why, why_len);
    mm_zt_netns_leave(saved);
    if (rc < 0)
        return rc;
    mm_nc_client_io io;
    mm_nc_tls_stream_io(s, &io);
    mm_nc_client *c = NULL;
    rc = mm_nc_client_new_ex(&io, 0, timeout_ms, &c, why, why_len);
    if (rc == 0) {
        rc = mm_nc_client_rpc(c, op, reply, timeout_ms);
        if (rc < 0)
            snprintf(why, why_len, "%s", mm_nc_client_error(c));
        mm_nc_client_close(c);
    }
    mm_nc_tls_stream_close(s);
    return rc;
}

/* The text of <name>...</name> in xml (first one), "" if absent. */
static void leaf(const char *xml, const char *name, char *out, size_t cap)
{
    char open[64];
    snprintf(open, sizeof(open), "<%s>", name);
    const char *p = strstr(xml, open);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(open);
    const char *e = strchr(p, '<');
    size_t n = e ? (size_t)(e - p) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* A client certificate for CN mamori-zt-probe signed by the installation's CA. */
static bool make_probe_identity(const char *pki, const char *dir, char *cert, char *key,
                                size_t cap)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/ca.key", pki);
    EVP_PKEY *cakey = mm_pki_read_key_file(path);
    snprintf(path, sizeof(path), "%s/ca.crt", pki);
    X509 *cacert = mm_pki_read_cert_file(path);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(mm_tls_libctx(), NULL, "EC", "P-256");
    X509 *x = X509_new_ex(mm_tls_libctx(), NULL);
    bool ok = cakey && cacert && k && x;
    if (ok) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid());
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (const unsigned char *)"mamori-zt-probe", -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(cacert));
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 600);
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, cacert, x, NULL, NULL, 0);
        X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                                                  "DNS:mamori-zt-probe");
        X509_EXTENSION *eku = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "clientAuth");
        ok = san && eku && X509_add_ext(x, san, -1) && X509_add_ext(x, eku, -1) &&
             X509_set_pubkey(x, k) && X509_sign(x, cakey, EVP_sha256());
        X509_EXTENSION_free(san);
        X509_EXTENSION_free(eku);
    }
    snprintf(cert, cap, "%s/probe.crt", dir);
    snprintf(key, cap, "%s/probe.key", dir);
    FILE *fc = ok ? fopen(cert, "w") : NULL;
    FILE *fk = ok ? fopen(key, "w") : NULL;
    ok = fc && fk && PEM_write_X509(fc, x) && PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL, NULL);
    if (fc)
        fclose(fc);
    if (fk)
        fclose(fk);
    X509_free(x);
    X509_free(cacert);
    EVP_PKEY_free(k);
    EVP_PKEY_free(cakey);
    return ok;
}

static const mm_zt_daemon *owner_of(const mm_zt_target *t, const mm_zt_endpoint *ep)
{
    for (size_t i = 0; i < t->ndaemons; i++)
        if (t->daemons[i].pid == ep->pid)
            return &t->daemons[i];
    return NULL;
}

static void probe_admin(const mm_zt_target *t, const mm_zt_endpoint *ep, const char *pki,
                        mm_zt_result *r)
{
    char ca[1100], cert[1100], key[1100], why[256] = "";
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
    snprintf(cert, sizeof(cert), "%s/client.crt", pki);
    snprintf(key, sizeof(key), "%s/client.key", pki);
    char *reply = NULL;
    int rc = nc_rpc(ep, ca, cert, key, t->timeout_ms,
                    "<get-config><source><running/></source><filter type=\"subtree\">"
                    "<nacm xmlns=\"" NACM_NS "\"/></filter></get-config>",
                    &reply, why, sizeof(why));
    if (rc < 0 || !reply) {
        mm_zt_fail(r);
        mm_zt_add(r, "[%s]:%u: reading /nacm as the PKI's admin failed: %s", ep->addr, ep->port,
                  why);
        free(reply);
        return;
    }
    char enable[16], rd[16], wr[16], ex[16];
    leaf(reply, "enable-nacm", enable, sizeof(enable));
    leaf(reply, "read-default", rd, sizeof(rd));
    leaf(reply, "write-default", wr, sizeof(wr));
    leaf(reply, "exec-default", ex, sizeof(ex));
    bool bad = !strcmp(enable, "false") || !strcmp(wr, "permit") || strstr(reply, "<rpc-error");
    if (bad)
        mm_zt_fail(r);
    mm_zt_add(r, "[%s]:%u: enable-nacm=%s read-default=%s write-default=%s exec-default=%s%s",
              ep->addr, ep->port, enable[0] ? enable : "true(default)",
              rd[0] ? rd : "permit(default)", wr[0] ? wr : "deny(default)",
              ex[0] ? ex : "permit(default)", strstr(reply, "<rpc-error") ? " (rpc-error)" : "");
    free(reply);
}

static void probe_stranger(const mm_zt_target *t, const mm_zt_endpoint *ep, const char *pki,
                           mm_zt_result *r)
{
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/mamori-zt.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        mm_zt_add(r, "[%s]:%u: no temporary directory for the probe identity", ep->addr,
                  ep->port);
        return;
    }
    char cert[600], key[600], ca[1100], why[256] = "";
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
    if (!make_probe_identity(pki, dir, cert, key, sizeof(cert))) {
        mm_zt_add(r, "[%s]:%u: unconfigured-identity probe not run (CA key of %s unreadable)",
                  ep->addr, ep->port, pki);
    } else {
        char *reply = NULL;
        int rc = nc_rpc(ep, ca, cert, key, t->timeout_ms,
                        "<kill-session><session-id>4294967295</session-id></kill-session>", &reply,
                        why, sizeof(why));
        if (rc < 0 || !reply) {
            mm_zt_add(r, "[%s]:%u: an unconfigured identity gets no session (%s)", ep->addr,
                      ep->port, why);
        } else if (strstr(reply, "access-denied")) {
            mm_zt_add(r, "[%s]:%u: <kill-session> by an unconfigured identity: access-denied",
                      ep->addr, ep->port);
        } else {
            mm_zt_fail(r);
            char tag[64];
            leaf(reply, "error-tag", tag, sizeof(tag));
            mm_zt_add(r, "[%s]:%u: <kill-session> by an unconfigured identity was not denied (%s)",
                      ep->addr, ep->port, tag[0] ? tag : "no rpc-error");
        }
        free(reply);
    }
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

void mm_zt_check_nacm(const mm_zt_target *t, mm_zt_result *r)
{
    bool any = false;
    for (size_t i = 0; i < t->nendpoints; i++) {
        const mm_zt_endpoint *ep = &t->endpoints[i];
        const mm_zt_daemon *d = ep->udp ? NULL : owner_of(t, ep);
        if (!d || strcmp(d->name, "mamori-netconfd") != 0)
            continue;
        const char *pki = d->pki_dir[0] ? d->pki_dir : t->pki_dir;
        if (!pki[0]) {
            mm_zt_add(r, "[%s]:%u: PKI directory unknown (--pki-dir)", ep->addr, ep->port);
            continue;
        }
        any = true;
        probe_admin(t, ep, pki, r);
        probe_stranger(t, ep, pki, r);
    }
    if (!any) {
        r->status = r->status == MM_ZT_FAIL ? MM_ZT_FAIL : MM_ZT_NA;
        mm_zt_add(r, "no NETCONF listener with a known PKI");
    }
}
