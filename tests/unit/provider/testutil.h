/*
 * testutil.h - helpers for the provider and TLS tests: a library context
 * with the scloudplus provider built in, throw-away certificates, and TLS
 * over memory BIOs with hand-made or rewritten handshake messages.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_TESTUTIL_H
#define MAMORI_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* A fresh library context with "default" and the built-in "scloudplus". */
OSSL_LIB_CTX *tu_libctx_new(void);
/* Unload its providers, then free it. */
void tu_libctx_free(OSSL_LIB_CTX *libctx);

/* Self-signed ECDSA P-256 certificate (CN=localhost); 1 on success. */
int tu_self_signed(OSSL_LIB_CTX *libctx, EVP_PKEY **key, X509 **cert);

/*
 * A P-256 certificate CN=cn with subjectAltName san ("DNS:a,IP:1.2.3.4,
 * email:x@y", or NULL), signed by ca_key/ca_cert, or a self-signed CA when
 * ca_cert is NULL (ca_key ignored then). 1 on success.
 */
int tu_issue(OSSL_LIB_CTX *libctx, EVP_PKEY *ca_key, X509 *ca_cert, const char *cn,
             const char *san, EVP_PKEY **key, X509 **cert);

/* TLS 1.3-only contexts; the server uses key/cert, groups may be NULL. */
SSL_CTX *tu_server_ctx(OSSL_LIB_CTX *libctx, EVP_PKEY *key, X509 *cert, const char *groups);
SSL_CTX *tu_client_ctx(OSSL_LIB_CTX *libctx, const char *groups);

/* An SSL on two fresh memory BIOs (read BIO returns "retry" when empty). */
SSL *tu_ssl_mem(SSL_CTX *ctx, int server);

/* Move everything from ssl's write BIO into peer's read BIO; returns bytes moved. */
size_t tu_pump(SSL *from, SSL *to);
/* Take everything ssl wrote (malloc'd; *len set); NULL if nothing. */
uint8_t *tu_take_output(SSL *ssl, size_t *len);
/* Feed bytes to ssl's read BIO. */
void tu_feed(SSL *ssl, const uint8_t *buf, size_t len);

/*
 * Run a handshake between c and s over their memory BIOs. Returns 1 when both
 * finished, 0 when either failed. *bytes_c2s / *bytes_s2c (may be NULL) get
 * the bytes sent each way.
 */
int tu_handshake(SSL *c, SSL *s, size_t *bytes_c2s, size_t *bytes_s2c);

/* Description of the first alert record in buf (plaintext), or -1. */
int tu_find_alert(const uint8_t *buf, size_t len);

/* A fresh key pair of algorithm alg (EVP_PKEY_Q_keygen knows only built-in types). */
EVP_PKEY *tu_keygen(OSSL_LIB_CTX *libctx, const char *alg);

/* Encoded public key of a fresh key pair of algorithm alg (malloc'd). */
uint8_t *tu_keygen_share(OSSL_LIB_CTX *libctx, const char *alg, size_t *len);

/*
 * A TLS 1.3 ClientHello, split into records of at most 2^14 bytes, offering
 * group with the given key_share bytes (malloc'd, *outlen set).
 */
uint8_t *tu_client_hello(uint16_t group, const uint8_t *share, size_t share_len,
                         size_t *outlen);

/*
 * Rewrite the key_share of the ServerHello at the start of flight (the first
 * record): the key_exchange is replaced by share. Returns a new malloc'd
 * flight (the records after the ServerHello unchanged), NULL if not found.
 */
uint8_t *tu_rewrite_server_share(const uint8_t *flight, size_t len, const uint8_t *share,
                                 size_t share_len, size_t *outlen);
/* Locate the ServerHello key_exchange in flight; returns offset or 0, sets *share_len. */
size_t tu_server_share_offset(const uint8_t *flight, size_t len, size_t *share_len);

#endif
