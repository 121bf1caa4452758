/*
 * mm_pki.h - the local PKI every mamori installation gets on first run.
 *
 * Layout of a PKI directory (keys mode 0600, certificates 0644):
 *   ca.crt  ca.key            the local CA (ECDSA P-256, self-signed)
 *   server.crt server.key     server certificate, SAN localhost, 127.0.0.1, ::1
 *   client.crt client.key     the first client certificate (CN "admin")
 *   clients/NAME.crt NAME.key further clients from mm_pki_issue_client()
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_PKI_H
#define MAMORI_MM_PKI_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_PKI_DEFAULT_CLIENT "admin"

/* Certificate lifetimes in days. */
#define MM_PKI_CA_DAYS 3650
#define MM_PKI_LEAF_DAYS 825

/* File names inside a PKI directory. */
#define MM_PKI_CA_CERT "ca.crt"
#define MM_PKI_CA_KEY "ca.key"
#define MM_PKI_SERVER_CERT "server.crt"
#define MM_PKI_SERVER_KEY "server.key"
#define MM_PKI_CLIENT_CERT "client.crt"
#define MM_PKI_CLIENT_KEY "client.key"
#define MM_PKI_CLIENTS_DIR "clients"

/*
 * Create dir (mode 0700) with a CA, a server and a client certificate.
 * MM_EEXIST if a PKI already exists there and force is false.
 */
int mm_pki_init(const char *dir, bool force);

/* 1 if dir holds a complete PKI, 0 if not. */
int mm_pki_exists(const char *dir);

/*
 * Issue a client certificate (CN = name, SAN dNSName = name) signed by the
 * CA in dir, written to dir/clients/NAME.crt and NAME.key. name is
 * [A-Za-z0-9._-]{1,64}. MM_EEXIST unless force.
 */
int mm_pki_issue_client(const char *dir, const char *name, bool force);

/* The first certificate of the PEM file dir/file, or NULL. Free with X509_free. */
struct x509_st *mm_pki_read_cert(const char *dir, const char *file);
/* The first certificate / the private key of a PEM file, or NULL (X509_free / EVP_PKEY_free). */
struct x509_st *mm_pki_read_cert_file(const char *path);
struct evp_pkey_st *mm_pki_read_key_file(const char *path);

/*
 * Paths of a PKI file: writes "dir/file" into out (size outlen).
 * MM_ESPACE if it does not fit.
 */
int mm_pki_path(const char *dir, const char *file, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif
#endif
