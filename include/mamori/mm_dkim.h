/*
 * mm_dkim.h - DKIM (RFC 6376, RFC 8301, RFC 8463) signing and verification
 * with the provisional ACDC profile (draft-nurpmeso-dkim-access-control-
 * diff-changes-10; every project-chosen name lives in src/dkim/acdc_names.c).
 *
 * The library never touches sockets or the clock unless asked: key records
 * come from a key source (key file, zone file, or DNS via ldns), "now" can be
 * fixed by the caller. Headers are fed one field at a time, the body in
 * chunks of any size (streaming canonicalization; the body is never held).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_DKIM_H
#define MAMORI_MM_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- limits */

#define MM_DKIM_MAX_HEADERS 1000          /* header fields per message */
#define MM_DKIM_MAX_FIELD (64 * 1024)     /* octets of one header field */
#define MM_DKIM_MAX_HEADER_BYTES (1 << 20) /* octets of the whole header block */
#define MM_DKIM_MAX_TAGS 64               /* tags in one tag-list */
#define MM_DKIM_MAX_SIGS 16               /* DKIM-Signature fields evaluated */
#define MM_DKIM_MAX_H 128                 /* names in h= */

/* ---------------------------------------------------------------- tag-list (RFC 6376 3.2) */

/* Every error class of the tag-list grammar; one row each (name, text). */
#define MM_DKIM_TAG_ERROR_TABLE(X)                                         \
    X(MM_DKIM_TAG_OK, "ok")                                                \
    X(MM_DKIM_TAG_EEMPTY, "empty tag-list")                                \
    X(MM_DKIM_TAG_ENAME, "tag-name must start with ALPHA")                 \
    X(MM_DKIM_TAG_ENAMECHAR, "invalid character in tag-name")              \
    X(MM_DKIM_TAG_ENOEQ, "'=' expected after tag-name")                    \
    X(MM_DKIM_TAG_EVALCHAR, "invalid character in tag-value")              \
    X(MM_DKIM_TAG_EFWS, "CRLF not followed by whitespace")                 \
    X(MM_DKIM_TAG_EDUP, "duplicate tag")                                   \
    X(MM_DKIM_TAG_ETOOMANY, "too many tags")                               \
    X(MM_DKIM_TAG_EEMPTYSPEC, "empty tag-spec between ';'")

enum mm_dkim_tag_error {
#define MM_DKIM_TAG_ENUM(sym, text) sym,
    MM_DKIM_TAG_ERROR_TABLE(MM_DKIM_TAG_ENUM)
#undef MM_DKIM_TAG_ENUM
};
const char *mm_dkim_tag_strerror(enum mm_dkim_tag_error e);

typedef struct mm_dkim_tag {
    size_t name_off, name_len;   /* within the parsed span */
    size_t value_off, value_len; /* value without surrounding FWS (may be 0 long) */
} mm_dkim_tag;

typedef struct mm_dkim_taglist {
    const uint8_t *base;
    mm_dkim_tag tag[MM_DKIM_MAX_TAGS];
    size_t n;
    enum mm_dkim_tag_error err;
    size_t err_off; /* offset of the offending octet */
} mm_dkim_taglist;

/* Parse a tag-list; 0 or MM_EMALFORMED (tl->err, tl->err_off say why and where). */
int mm_dkim_taglist_parse(mm_dkim_taglist *tl, const uint8_t *p, size_t len);
/* Index of the tag named name, or -1. */
int mm_dkim_taglist_find(const mm_dkim_taglist *tl, const char *name);
/* Pointer/length of a tag's value. */
const uint8_t *mm_dkim_taglist_value(const mm_dkim_taglist *tl, int idx, size_t *len);

/* Strict base64 (RFC 6376 2.4: FWS inside is ignored); 0, MM_EMALFORMED or MM_ESPACE. */
int mm_dkim_b64_decode(const uint8_t *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen);
/* Base64 with padding, appended to b. */
int mm_dkim_b64_encode(mm_buf *b, const uint8_t *in, size_t len);

/* ---------------------------------------------------------------- canonicalization (3.4) */

enum mm_dkim_canon { MM_DKIM_SIMPLE = 0, MM_DKIM_RELAXED = 1 };

/* Append the canonical form of one field ("Name: value", folds as CRLF WSP, no final CRLF). */
int mm_dkim_canon_header(enum mm_dkim_canon c, const uint8_t *field, size_t len, bool crlf,
                         mm_buf *out);

typedef void (*mm_dkim_sink_fn)(void *arg, const uint8_t *p, size_t n);

/* Streaming body canonicalizer: any chunking gives the same output. */
typedef struct mm_dkim_body {
    enum mm_dkim_canon c;
    mm_dkim_sink_fn sink;
    void *arg;
    uint64_t out;        /* canonical octets emitted so far */
    uint64_t pending_nl; /* deferred empty lines (trailing empty lines are dropped) */
    bool pending_wsp;    /* relaxed: a WSP run waiting for content */
    bool pending_cr;     /* a CR waiting to see whether LF follows */
    bool line_open;      /* the current line has emitted content */
    uint8_t buf[4096];
    size_t blen;
} mm_dkim_body;

void mm_dkim_body_init(mm_dkim_body *b, enum mm_dkim_canon c, mm_dkim_sink_fn sink, void *arg);
void mm_dkim_body_update(mm_dkim_body *b, const uint8_t *p, size_t n);
void mm_dkim_body_final(mm_dkim_body *b);

/* ---------------------------------------------------------------- messages */

typedef struct mm_dkim_field {
    uint8_t *raw;    /* "Name: value" with folds normalised to CRLF, no final CRLF */
    size_t len;
    size_t name_len; /* name without trailing WSP */
} mm_dkim_field;

typedef struct mm_dkim_msg {
    mm_dkim_field *f;
    size_t n, cap;
    size_t bytes;
} mm_dkim_msg;

void mm_dkim_msg_init(mm_dkim_msg *m);
void mm_dkim_msg_free(mm_dkim_msg *m);
/* Add one field (line breaks LF or CRLF); MM_ELIMIT over the limits, MM_EMALFORMED if no colon. */
int mm_dkim_msg_add(mm_dkim_msg *m, const uint8_t *field, size_t len);
/* Add a field given as name and value (milter form). */
int mm_dkim_msg_add_nv(mm_dkim_msg *m, const char *name, const char *value);
/* Insert a field at the top (a new signature is prepended). */
int mm_dkim_msg_prepend(mm_dkim_msg *m, const uint8_t *field, size_t len);
void mm_dkim_msg_remove(mm_dkim_msg *m, size_t idx);
/* Split a whole message: fields into m, *body_off = first body octet (len if none). */
int mm_dkim_msg_parse(mm_dkim_msg *m, const uint8_t *p, size_t len, size_t *body_off);
/* True if field idx is named name (case-insensitive). */
bool mm_dkim_field_is(const mm_dkim_field *f, const char *name);
/* Pointer to the value (after the colon) of a field. */
const uint8_t *mm_dkim_field_value(const mm_dkim_field *f, size_t *len);

/* ---------------------------------------------------------------- keys (3.6.1) */

enum mm_dkim_alg {
    MM_DKIM_ALG_UNKNOWN = 0,
    MM_DKIM_ALG_RSA_SHA256,
    MM_DKIM_ALG_ED25519_SHA256,
    MM_DKIM_ALG_RSA_SHA1, /* recognised only to be refused (RFC 8301) */
};
const char *mm_dkim_alg_name(enum mm_dkim_alg a);
enum mm_dkim_alg mm_dkim_alg_parse(const uint8_t *p, size_t len);

typedef struct mm_dkim_pubkey {
    enum mm_dkim_alg alg; /* RSA_SHA256 for k=rsa, ED25519_SHA256 for k=ed25519 */
    void *pkey;           /* EVP_PKEY */
    int bits;
    bool testing;         /* t=y */
    bool strict;          /* t=s */
    bool revoked;         /* empty p= */
} mm_dkim_pubkey;

/* Parse a key record (TXT rdata, strings joined). On error *why names the cause. */
int mm_dkim_pubkey_parse(const uint8_t *p, size_t len, mm_dkim_pubkey *k, const char **why);
void mm_dkim_pubkey_free(mm_dkim_pubkey *k);

/* Private key: PEM (PKCS#8/PKCS#1 RSA, PKCS#8 Ed25519) or base64 32-byte Ed25519 seed. */
int mm_dkim_privkey_load(const char *path, void **pkey, enum mm_dkim_alg *alg, const char **why);
/* New key: rsa (bits >= 2048) or ed25519; writes PEM 0600 and the TXT rdata to *txt. */
int mm_dkim_keygen(enum mm_dkim_alg alg, int bits, const char *pem_path, mm_buf *txt);

/* Where key records come from. */
enum mm_dkim_keysrc_kind { MM_DKIM_KEYS_FILE, MM_DKIM_KEYS_ZONE, MM_DKIM_KEYS_DNS };
typedef struct mm_dkim_keysrc mm_dkim_keysrc;
/* FILE: lines "selector._domainkey.domain TXT-RDATA"; ZONE: a master file (ldns);
 * DNS: nameserver "ip[@port]" or NULL for resolv.conf; timeout_ms per try. */
int mm_dkim_keysrc_open(enum mm_dkim_keysrc_kind kind, const char *arg, int timeout_ms,
                        mm_dkim_keysrc **out);
void mm_dkim_keysrc_close(mm_dkim_keysrc *s);
/* TXT rdata of qname into out: 0, MM_ENOENT (no record: permerror), MM_ETIMEOUT or
 * MM_EAGAIN (temperror). */
int mm_dkim_keysrc_lookup(mm_dkim_keysrc *s, const char *qname, mm_buf *out);

/* ---------------------------------------------------------------- results (RFC 8601) */

#define MM_DKIM_RESULT_TABLE(X)   \
    X(MM_DKIM_NONE, "none")       \
    X(MM_DKIM_PASS, "pass")       \
    X(MM_DKIM_FAIL, "fail")       \
    X(MM_DKIM_NEUTRAL, "neutral") \
    X(MM_DKIM_POLICY, "policy")   \
    X(MM_DKIM_TEMPERROR, "temperror") \
    X(MM_DKIM_PERMERROR, "permerror")

enum mm_dkim_result_code {
#define MM_DKIM_RESULT_ENUM(sym, text) sym,
    MM_DKIM_RESULT_TABLE(MM_DKIM_RESULT_ENUM)
#undef MM_DKIM_RESULT_ENUM
};
const char *mm_dkim_result_name(enum mm_dkim_result_code r);

typedef struct mm_dkim_result {
    enum mm_dkim_result_code code;
    char reason[160];
    char d[256], s[128], i[320], a[32], b8[9];
    int key_bits;
    bool weak_key;      /* RSA < 2048 (accepted per RFC 8301, flagged) */
    bool body_ok;       /* body hash matched (explain) */
    bool body_checked;
    bool hdr_checked;
    bool has_l;         /* l= present */
    uint64_t unsigned_body; /* octets after l= (when l= allowed) */
    int acdc_n;         /* 0: classic signature */
    size_t field_idx;   /* index of the DKIM-Signature field */
} mm_dkim_result;

/* ---------------------------------------------------------------- signing */

typedef struct mm_dkim_acdc_env {
    const char *mail_from;     /* reverse-path as given ("<a@b>", "a@b" or "<>") */
    const char *const *rcpt;   /* forward-paths */
    size_t nrcpt;
} mm_dkim_acdc_env;

typedef struct mm_dkim_sign_opts {
    void *pkey;                /* EVP_PKEY (borrowed) */
    enum mm_dkim_alg alg;
    const char *domain, *selector;
    const char *auid;          /* i=, optional */
    enum mm_dkim_canon hc, bc;
    const char *const *headers;   /* names to sign (NULL: a default set) */
    const char *const *oversign;  /* names signed once more than present (NULL: default) */
    int64_t t;                 /* t= (0: now; <0: omit) */
    int64_t expire_after;      /* x = t + this (0: no x=) */
    bool body_length;          /* l=: always refused (MM_EINVAL), RFC 6376 8.2 */
    bool copy_headers;         /* z= (3.5): copies of the signed fields, for `explain` */
    /* ACDC [P]: acdc_n > 0 makes an ACDC signature of that instance. */
    int acdc_n;
    mm_dkim_acdc_env env;
    const char *acdc_prev_salt_b64;  /* instance k-1's acdc_s (k > 1) */
    const char *acdc_received_for;   /* RCPT TO under which this hop received it (k > 1) */
    const char *acdc_prev_b;         /* b= of instance k-1 (k > 1) */
    bool acdc_diff;                  /* this hop added an ACDC-Diff field */
    const uint8_t *acdc_salt;        /* 16 octets for tests; NULL: random */
} mm_dkim_sign_opts;

typedef struct mm_dkim_signer mm_dkim_signer;
int mm_dkim_signer_new(const mm_dkim_sign_opts *o, mm_dkim_signer **out);
void mm_dkim_signer_free(mm_dkim_signer *s);
int mm_dkim_signer_header(mm_dkim_signer *s, const uint8_t *field, size_t len);
int mm_dkim_signer_header_nv(mm_dkim_signer *s, const char *name, const char *value);
void mm_dkim_signer_body(mm_dkim_signer *s, const uint8_t *p, size_t n);
/* The whole field "DKIM-Signature: ..." (folded with CRLF TAB, no final CRLF). */
int mm_dkim_signer_finish(mm_dkim_signer *s, mm_buf *field);

/* Convenience: sign a whole message held in memory. */
int mm_dkim_sign_message(const mm_dkim_sign_opts *o, const uint8_t *msg, size_t len,
                         mm_buf *field);

/* ---------------------------------------------------------------- verification */

typedef struct mm_dkim_verify_opts {
    mm_dkim_keysrc *keys;
    int64_t now;           /* 0: time(NULL) */
    bool allow_l;          /* l= honoured; false: such signatures get policy */
    int max_sigs;          /* 0: MM_DKIM_MAX_SIGS */
} mm_dkim_verify_opts;

typedef struct mm_dkim_verifier mm_dkim_verifier;
int mm_dkim_verifier_new(const mm_dkim_verify_opts *o, mm_dkim_verifier **out);
void mm_dkim_verifier_free(mm_dkim_verifier *v);
int mm_dkim_verifier_header(mm_dkim_verifier *v, const uint8_t *field, size_t len);
int mm_dkim_verifier_header_nv(mm_dkim_verifier *v, const char *name, const char *value);
/* End of headers: signatures are parsed and keys fetched. */
int mm_dkim_verifier_eoh(mm_dkim_verifier *v);
void mm_dkim_verifier_body(mm_dkim_verifier *v, const uint8_t *p, size_t n);
/* Results, one per DKIM-Signature (n may be 0: dkim=none). Valid until free. */
int mm_dkim_verifier_finish(mm_dkim_verifier *v, const mm_dkim_result **res, size_t *n);
/* The header fields the verifier holds (for explain: field_idx of a result indexes them). */
const mm_dkim_msg *mm_dkim_verifier_msg(const mm_dkim_verifier *v);

/*
 * Which signed header fields differ from the copies in the signature's z= tag (RFC 6376
 * 3.5): one line per field ("changed NAME", "missing NAME") appended to report.
 * Returns the number of differing fields, or MM_ENOENT if the signature has no z=.
 */
int mm_dkim_explain_headers(const mm_dkim_msg *m, size_t sig_idx, mm_buf *report);

/* Verify a whole message in memory; results copied to res (up to cap), count in *n. */
int mm_dkim_verify_message(const mm_dkim_verify_opts *o, const uint8_t *msg, size_t len,
                           mm_dkim_result *res, size_t cap, size_t *n);

/* Authentication-Results field (RFC 8601 2.2) for the given results. */
int mm_dkim_ar_format(const char *authserv_id, const mm_dkim_result *res, size_t n,
                      const char *extra, mm_buf *out);

/* ---------------------------------------------------------------- ACDC [P] */

/* One row per provisional name (tag, header field, hash label, result reason). */
enum mm_dkim_acdc_id {
    MM_ACDC_TAG_N, MM_ACDC_TAG_S, MM_ACDC_TAG_MF, MM_ACDC_TAG_RT, MM_ACDC_TAG_PR,
    MM_ACDC_TAG_PS, MM_ACDC_TAG_D, MM_ACDC_HDR_DIFF, MM_ACDC_KIND_MAILFROM,
    MM_ACDC_KIND_RCPT, MM_ACDC_R_MAILFROM, MM_ACDC_R_RCPT, MM_ACDC_R_CHAIN,
    MM_ACDC_R_DIFF, MM_ACDC_R_SEQUENCE, MM_ACDC_ID_COUNT
};
const char *mm_dkim_acdc_name(enum mm_dkim_acdc_id id);

/* EH(salt, kind, addr) of spec 5.3 (22 base64 characters + NUL into out[23]). */
int mm_dkim_acdc_eh(const uint8_t salt[16], enum mm_dkim_acdc_id kind, const char *addr,
                    char out[23]);
/* canon_addr of 5.3 into out. */
int mm_dkim_acdc_canon_addr(const char *path, mm_buf *out);

/*
 * Differential change record (5.5) turning new_msg back into old_msg; the field
 * "ACDC-Diff: n=k; ..." is written to field (no final CRLF). Empty field (len 0)
 * if nothing covered changed.
 */
int mm_dkim_acdc_diff_make(int k, const uint8_t *old_msg, size_t old_len,
                           const uint8_t *new_msg, size_t new_len,
                           const char *const *signed_names, mm_buf *field);
/* Apply instance k's diff to msg (headers + body) giving the earlier version in out. */
int mm_dkim_acdc_undo(const uint8_t *msg, size_t len, int k, mm_buf *out, const char **why);

/* The newest ACDC instance of a message, for chaining the next one (spec 5.7). */
typedef struct mm_dkim_acdc_prev {
    int k;               /* its instance number */
    char salt[32];       /* its acdc_s */
    char b[1400];        /* the lexicographically smallest b= of the instance (FWS removed) */
    char rt[256 * 23];   /* its acdc_rt list */
} mm_dkim_acdc_prev;
/* 0, or MM_ENOENT if the message has no ACDC signature. */
int mm_dkim_acdc_prev_get(const uint8_t *msg, size_t len, mm_dkim_acdc_prev *out);
/* The first of addrs whose EH under the previous salt is in the previous acdc_rt, or NULL. */
const char *mm_dkim_acdc_received_for(const mm_dkim_acdc_prev *p, const char *const *addrs, size_t n);

typedef struct mm_dkim_acdc_report {
    enum mm_dkim_result_code code; /* overall */
    char reason[160];              /* one of the [P] reason names or a plain text */
    int instances;
    mm_dkim_result inst[MM_DKIM_MAX_SIGS]; /* best result per instance, index k-1 */
} mm_dkim_acdc_report;

/* Verify the ACDC chain of a whole message; env = the current SMTP transaction (may be NULL:
 * envelope not checked). Report code NONE if no ACDC signature is present. */
int mm_dkim_acdc_verify(const mm_dkim_verify_opts *o, const uint8_t *msg, size_t len,
                        const mm_dkim_acdc_env *env, mm_dkim_acdc_report *rep);

/* ---------------------------------------------------------------- mail filter (milter core) */

/*
 * The per-message logic of mamori-dkimd, independent of libmilter: the
 * configuration (YANG module mamori-dkim) and one session per message.
 * The configuration is read-only once loaded (no reload while sessions run).
 */
typedef struct mm_dkim_filter mm_dkim_filter;
int mm_dkim_filter_load(const char *path, mm_dkim_filter **out, char *err, size_t errlen);
void mm_dkim_filter_free(mm_dkim_filter *f);
const char *mm_dkim_filter_socket(const mm_dkim_filter *f);
unsigned mm_dkim_filter_timeout(const mm_dkim_filter *f);

enum mm_dkim_action { MM_DKIM_ACCEPT = 0, MM_DKIM_TEMPFAIL = 1 };

typedef struct mm_dkim_fout {
    enum mm_dkim_action action;
    size_t n;
    char *name[MM_DKIM_MAX_SIGS + 1];  /* header fields to insert at the top */
    char *value[MM_DKIM_MAX_SIGS + 1]; /* folded with "\n\t" (milter form) */
    char reason[160];
    char *new_subject;  /* intermediary: Subject value to set (NULL: unchanged) */
    uint8_t *new_body;  /* intermediary: replacement body (NULL: unchanged) */
    size_t new_body_len;
} mm_dkim_fout;
void mm_dkim_fout_free(mm_dkim_fout *o);

typedef struct mm_dkim_fsess mm_dkim_fsess;
mm_dkim_fsess *mm_dkim_fsess_new(const mm_dkim_filter *f, const char *client_ip);
void mm_dkim_fsess_free(mm_dkim_fsess *s);
/* A new message on the same connection (keeps the client). */
void mm_dkim_fsess_reset(mm_dkim_fsess *s);
int mm_dkim_fsess_envfrom(mm_dkim_fsess *s, const char *addr);
int mm_dkim_fsess_rcpt(mm_dkim_fsess *s, const char *addr);
void mm_dkim_fsess_queue_id(mm_dkim_fsess *s, const char *id);
int mm_dkim_fsess_header(mm_dkim_fsess *s, const char *name, const char *value);
int mm_dkim_fsess_eoh(mm_dkim_fsess *s);
int mm_dkim_fsess_body(mm_dkim_fsess *s, const uint8_t *p, size_t n);
/* Decide: headers to add and the action; the audit record is written first. */
int mm_dkim_fsess_eom(mm_dkim_fsess *s, mm_dkim_fout *out);

#ifdef __cplusplus
}
#endif
#endif
