/*
 * Local PKI: a CA, a server and client certificates, all ECDSA P-256.
 * Built with OpenSSL's APIs; keys are written with mode 0600.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"

int mm_pki_path(const char *dir, const char *file, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, file);
    return (n < 0 || (size_t)n >= outlen) ? MM_ESPACE : 0;
}

static bool file_exists(const char *dir, const char *file)
{
    char p[4096];
    struct stat st;
    return mm_pki_path(dir, file, p, sizeof(p)) == 0 && stat(p, &st) == 0;
}

int mm_pki_exists(const char *dir)
{
    static const char *const files[] = {MM_PKI_CA_CERT, MM_PKI_CA_KEY, MM_PKI_SERVER_CERT,
                                        MM_PKI_SERVER_KEY, MM_PKI_CLIENT_CERT, MM_PKI_CLIENT_KEY};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (!file_exists(dir, files[i]))
            return 0;
    return 1;
}

static int mkdir_private(const char *dir)
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST) {
        mm_log_error("pki", "op=mkdir dir=%s err=\"%s\"", dir, strerror(errno));
        return MM_ESYS;
    }
    return 0;
}

/*
 * Write a PEM file atomically: a temporary file with the final mode, then
 * rename over the target (so --force never leaves a half-written key).
 */
static int write_pem(const char *dir, const char *file, mode_t mode, EVP_PKEY *key, X509 *cert)
{
    char path[4096], tmp[4200];
    MM_GUARD(mm_pki_path(dir, file, path, sizeof(path)));
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        mm_log_error("pki", "op=create file=%s err=\"%s\"", tmp, strerror(errno));
        return MM_ESYS;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return MM_ESYS;
    }
    int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_X509(f, cert);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        mm_log_error("pki", "op=write file=%s", path);
        return MM_EIO;
    }
    return 0;
}


EVP_PKEY *mm_pki_read_key_file(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return k;
}

X509 *mm_pki_read_cert_file(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return c;
}

static EVP_PKEY *read_key(const char *dir, const char *file)
{
    char path[4096];
    return mm_pki_path(dir, file, path, sizeof(path)) == 0 ? mm_pki_read_key_file(path) : NULL;
}

X509 *mm_pki_read_cert(const char *dir, const char *file)
{
    char path[4096];
    return mm_pki_path(dir, file, path, sizeof(path)) == 0 ? mm_pki_read_cert_file(path) : NULL;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return MM_ECRYPTO;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : MM_ECRYPTO;
}

struct profile {
    const char *cn;
    long days;
    const char *basic, *key_usage, *ext_usage, *san;
};

/* Build and sign one certificate for key; self-signed when ca_cert is NULL. */
static X509 *make_cert(const struct profile *p, EVP_PKEY *key, X509 *ca_cert, EVP_PKEY *ca_key)
{
    X509 *c = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *bn = BN_new();
    uint8_t serial[16];
    int ok = c && name && bn && RAND_bytes(serial, sizeof(serial)) == 1;
    serial[0] &= 0x7F; /* positive, as RFC 5280 requires */
    ok = ok && X509_set_version(c, X509_VERSION_3) && BN_bin2bn(serial, sizeof(serial), bn) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"mamori", -1,
                                    -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)p->cn, -1,
                                    -1, 0) &&
         X509_set_subject_name(c, name) &&
         X509_set_issuer_name(c, ca_cert ? X509_get_subject_name(ca_cert) : name) &&
         X509_gmtime_adj(X509_getm_notBefore(c), -3600) &&
         X509_time_adj_ex(X509_getm_notAfter(c), (int)p->days, 0, NULL) &&
         X509_set_pubkey(c, key);
    X509 *issuer = ca_cert ? ca_cert : c;
    ok = ok && add_ext(c, issuer, NID_basic_constraints, p->basic) == 0 &&
         add_ext(c, issuer, NID_key_usage, p->key_usage) == 0 &&
         add_ext(c, issuer, NID_subject_key_identifier, "hash") == 0 &&
         add_ext(c, issuer, NID_authority_key_identifier, "keyid:always") == 0;
    if (ok && p->ext_usage)
        ok = add_ext(c, issuer, NID_ext_key_usage, p->ext_usage) == 0;
    if (ok && p->san)
        ok = add_ext(c, issuer, NID_subject_alt_name, p->san) == 0;
    ok = ok && X509_sign(c, ca_key ? ca_key : key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    BN_free(bn);
    if (!ok) {
        X509_free(c);
        return NULL;
    }
    return c;
}

/* Generate a key, certify it with the profile and write both files. */
static int issue(const char *dir, const char *cert_file, const char *key_file,
                 const struct profile *p, X509 *ca_cert, EVP_PKEY *ca_key, X509 **out_cert,
                 EVP_PKEY **out_key)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? make_cert(p, key, ca_cert, ca_key) : NULL;
    int rc = cert ? 0 : MM_ECRYPTO;
    if (rc == 0)
        rc = write_pem(dir, key_file, 0600, key, NULL);
    if (rc == 0)
        rc = write_pem(dir, cert_file, 0644, NULL, cert);
    if (rc == 0 && out_cert) {
        *out_cert = cert;
        cert = NULL;
    }
    if (rc == 0 && out_key) {
        *out_key = key;
        key = NULL;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    if (rc == 0)
        mm_log_info("pki-issue", "dir=%s cert=%s cn=\"%s\"", dir, cert_file, p->cn);
    return rc;
}

static const struct profile ca_profile = {
    .cn = "mamori local CA", .days = MM_PKI_CA_DAYS, .basic = "critical,CA:TRUE,pathlen:0",
    .key_usage = "critical,keyCertSign,cRLSign"};
static const struct profile server_profile = {
    .cn = "localhost", .days = MM_PKI_LEAF_DAYS, .basic = "critical,CA:FALSE",
    .key_usage = "critical,digitalSignature", .ext_usage = "serverAuth",
    .san = "DNS:localhost,IP:127.0.0.1,IP:::1"};

static bool valid_client_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int issue_client(const char *dir, const char *cert_file, const char *key_file,
                        const char *name, X509 *ca_cert, EVP_PKEY *ca_key)
{
    char san[128];
    snprintf(san, sizeof(san), "DNS:%s", name);
    struct profile p = {.cn = name, .days = MM_PKI_LEAF_DAYS, .basic = "critical,CA:FALSE",
                        .key_usage = "critical,digitalSignature", .ext_usage = "clientAuth",
                        .san = san};
    return issue(dir, cert_file, key_file, &p, ca_cert, ca_key, NULL, NULL);
}

int mm_pki_init(const char *dir, bool force)
{
    MM_ENSURE(dir && *dir, MM_EINVAL);
    if (!force && (file_exists(dir, MM_PKI_CA_KEY) || file_exists(dir, MM_PKI_CA_CERT)))
        return MM_EEXIST;
    MM_GUARD(mkdir_private(dir));
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = issue(dir, MM_PKI_CA_CERT, MM_PKI_CA_KEY, &ca_profile, NULL, NULL, &ca, &ca_key);
    if (rc == 0)
        rc = issue(dir, MM_PKI_SERVER_CERT, MM_PKI_SERVER_KEY, &server_profile, ca, ca_key, NULL,
                   NULL);
    if (rc == 0)
        rc = issue_client(dir, MM_PKI_CLIENT_CERT, MM_PKI_CLIENT_KEY, MM_PKI_DEFAULT_CLIENT, ca,
                          ca_key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

int mm_pki_issue_client(const char *dir, const char *name, bool force)
{
    MM_ENSURE(dir && valid_client_name(name), MM_EINVAL);
    char cert_file[128], key_file[128];
    snprintf(cert_file, sizeof(cert_file), "%s/%s.crt", MM_PKI_CLIENTS_DIR, name);
    snprintf(key_file, sizeof(key_file), "%s/%s.key", MM_PKI_CLIENTS_DIR, name);
    if (!force && (file_exists(dir, cert_file) || file_exists(dir, key_file)))
        return MM_EEXIST;
    X509 *ca = mm_pki_read_cert(dir, MM_PKI_CA_CERT);
    EVP_PKEY *ca_key = read_key(dir, MM_PKI_CA_KEY);
    int rc = (ca && ca_key) ? 0 : MM_ENOENT;
    char sub[4096];
    if (rc == 0)
        rc = mm_pki_path(dir, MM_PKI_CLIENTS_DIR, sub, sizeof(sub));
    if (rc == 0)
        rc = mkdir_private(sub);
    if (rc == 0)
        rc = issue_client(dir, cert_file, key_file, name, ca, ca_key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}
