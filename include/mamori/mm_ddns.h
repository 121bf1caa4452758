/*
 * mm_ddns.h - ApertoDNS (draft-ferro-dnsop-apertodns-protocol -00..-03):
 * request validation, address classes, errors, scopes, tokens, rate limits,
 * storage and the transport-free request engine that mamori-ddnsd serves
 * over HTTPS.
 *
 * The engine takes a parsed HTTP request (method, target, headers, body,
 * peer address) and produces the full response (status, headers, body), so
 * every rule of the protocol is reachable by unit tests without a socket.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_DDNS_H
#define MAMORI_MM_DDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_DDNS_PREFIX "/.well-known/apertodns/v1"
#define MM_DDNS_PROTOCOL_VERSION "1.4.0"
#define MM_DDNS_HOSTNAME_MAX 253
#define MM_DDNS_TTL_MIN 60
#define MM_DDNS_TTL_MAX 86400
#define MM_DDNS_TTL_DEFAULT 300
#define MM_DDNS_TXT_TTL_DEFAULT 60
#define MM_DDNS_TXT_VALUE_MAX 255
#define MM_DDNS_TXT_MAX_RECORDS 5
#define MM_DDNS_TXT_LABEL_MAX 63
#define MM_DDNS_BULK_MAX 100
#define MM_DDNS_NIC_HOSTS_MAX 20
#define MM_DDNS_BODY_MAX (64 * 1024)
#define MM_DDNS_KEY_LEN 32
#define MM_DDNS_HASH_LEN 32

/* ------------------------------------------------------------ errors (spec section 8) */

/* symbol, code string, HTTP status, dyndns2 line, default message */
#define MM_DDNS_ERROR_TABLE(X)                                                               \
    X(MM_DDNS_OK, "ok", 200, "good", "ok")                                                   \
    X(MM_DDNS_UNAUTHORIZED, "unauthorized", 401, "badauth", "Authentication required")       \
    X(MM_DDNS_INVALID_TOKEN, "invalid_token", 401, "badauth", "Invalid or unknown token")    \
    X(MM_DDNS_TOKEN_REVOKED, "token_revoked", 401, "badauth", "Token has been revoked")      \
    X(MM_DDNS_TOKEN_EXPIRED, "token_expired", 401, "badauth", "Token has expired")          \
    X(MM_DDNS_FORBIDDEN, "forbidden", 403, "badauth", "Insufficient scope")                  \
    X(MM_DDNS_HOSTNAME_NOT_OWNED, "hostname_not_owned", 403, "nohost",                       \
      "Token may not manage this hostname")                                                  \
    X(MM_DDNS_NOT_FOUND, "not_found", 404, "nohost", "Not found")                            \
    X(MM_DDNS_INVALID_HOSTNAME, "invalid_hostname", 400, "notfqdn", "Invalid hostname")      \
    X(MM_DDNS_INVALID_IP, "invalid_ip", 400, "dnserr", "IP address not allowed")             \
    X(MM_DDNS_IPV4_AUTO_FAILED, "ipv4_auto_failed", 400, "dnserr",                           \
      "Cannot detect an IPv4 address: client connected via IPv6")                            \
    X(MM_DDNS_IPV6_AUTO_FAILED, "ipv6_auto_failed", 400, "dnserr",                           \
      "Cannot detect an IPv6 address: client connected via IPv4")                            \
    X(MM_DDNS_INVALID_TTL, "invalid_ttl", 400, "dnserr", "TTL must be between 60 and 86400") \
    X(MM_DDNS_VALIDATION_ERROR, "validation_error", 400, "notfqdn", "Request validation failed") \
    X(MM_DDNS_TXT_NOT_SUPPORTED, "txt_not_supported", 400, "dnserr", "TXT records not supported") \
    X(MM_DDNS_TXT_LIMIT_EXCEEDED, "txt_limit_exceeded", 400, "dnserr",                       \
      "Too many TXT values for this name")                                                   \
    X(MM_DDNS_TXT_INVALID_NAME, "txt_invalid_name", 400, "notfqdn",                          \
      "TXT owner name must start with an allowed prefix (_acme-challenge)")                  \
    X(MM_DDNS_TXT_VALUE_TOO_LONG, "txt_value_too_long", 400, "dnserr",                       \
      "TXT value longer than 255 characters")                                                \
    X(MM_DDNS_RATE_LIMITED, "rate_limited", 429, "abuse", "Too many requests")               \
    X(MM_DDNS_SERVER_ERROR, "server_error", 500, "911", "Internal server error")             \
    X(MM_DDNS_INVALID_REQUEST, "invalid_request", 400, "notfqdn", "Invalid request")         \
    X(MM_DDNS_INVALID_JSON, "invalid_json", 400, "notfqdn", "Body is not valid JSON")        \
    X(MM_DDNS_BULK_LIMIT_EXCEEDED, "bulk_limit_exceeded", 400, "numhost",                    \
      "Too many updates in one request")                                                     \
    X(MM_DDNS_METHOD_NOT_ALLOWED, "method_not_allowed", 405, "badagent", "Method not allowed") \
    X(MM_DDNS_PAYLOAD_TOO_LARGE, "payload_too_large", 413, "abuse", "Request body too large") \
    X(MM_DDNS_DNS_ERROR, "dns_error", 502, "dnserr", "DNS backend rejected the change")      \
    X(MM_DDNS_MAINTENANCE, "maintenance", 503, "911", "Service unavailable")

enum mm_ddns_err {
#define MM_DDNS_ERR_ENUM(sym, code, http, line, msg) sym,
    MM_DDNS_ERROR_TABLE(MM_DDNS_ERR_ENUM)
#undef MM_DDNS_ERR_ENUM
    MM_DDNS_ERR_COUNT
};

const char *mm_ddns_err_code(enum mm_ddns_err e);
int mm_ddns_err_http(enum mm_ddns_err e);
const char *mm_ddns_err_dyndns(enum mm_ddns_err e);
const char *mm_ddns_err_message(enum mm_ddns_err e);

/* A failure with the field it concerns (for error.details.fields). */
typedef struct mm_ddns_fail {
    enum mm_ddns_err err;
    const char *field;   /* "hostname", "ttl", ... or NULL */
    const char *message; /* NULL: the table's message */
} mm_ddns_fail;

/* ------------------------------------------------------------ addresses (section 10) */

typedef struct mm_ddns_addr {
    int family; /* AF_INET or AF_INET6; 0 = none */
    uint8_t a[16];
} mm_ddns_addr;

#define MM_DDNS_ADDR_CLASS_TABLE(X)                \
    X(MM_DDNS_ADDR_PUBLIC, "public")               \
    X(MM_DDNS_ADDR_UNSPECIFIED, "unspecified")     \
    X(MM_DDNS_ADDR_PRIVATE, "private")             \
    X(MM_DDNS_ADDR_SHARED, "shared")               \
    X(MM_DDNS_ADDR_LOOPBACK, "loopback")           \
    X(MM_DDNS_ADDR_LINK_LOCAL, "link-local")       \
    X(MM_DDNS_ADDR_ULA, "unique-local")            \
    X(MM_DDNS_ADDR_MULTICAST, "multicast")         \
    X(MM_DDNS_ADDR_DOCUMENTATION, "documentation") \
    X(MM_DDNS_ADDR_BENCHMARK, "benchmarking")      \
    X(MM_DDNS_ADDR_RESERVED, "reserved")           \
    X(MM_DDNS_ADDR_BROADCAST, "broadcast")         \
    X(MM_DDNS_ADDR_TRANSLATION, "translation")

enum mm_ddns_addr_class {
#define MM_DDNS_AC_ENUM(sym, name) sym,
    MM_DDNS_ADDR_CLASS_TABLE(MM_DDNS_AC_ENUM)
#undef MM_DDNS_AC_ENUM
};

/* Strict text form (inet_pton); MM_EMALFORMED otherwise. */
int mm_ddns_addr_parse(const char *s, size_t len, mm_ddns_addr *out);

/* An address prefix ("192.0.2.1", "10.0.0.0/8", "2001:db8::/32"). */
typedef struct mm_ddns_prefix {
    mm_ddns_addr addr;
    unsigned len;
} mm_ddns_prefix;
int mm_ddns_prefix_parse(const char *s, mm_ddns_prefix *out);
bool mm_ddns_prefix_match(const mm_ddns_prefix *p, const mm_ddns_addr *a);

/* Header section cap (request line and headers, CRLFCRLF included). */
#define MM_DDNS_HEAD_MAX 8192
/*
 * Screen one request's header section (head, len: through the empty line)
 * before the HTTP parser: MM_DDNS_OK with the Content-Length (0 if none),
 * or the error for the JSON envelope and a precise reason (http_head.c).
 */
enum mm_ddns_err mm_ddns_http_head_check(const uint8_t *head, size_t len, uint64_t *content_length,
                                         const char **why);

#define MM_DDNS_XFF_MAX 1024
/*
 * The client address of a request whose socket peer is peer and whose
 * X-Forwarded-For header is xff (NULL if absent): the peer itself unless it
 * is one of the n trusted proxies t; then the rightmost entry that is not a
 * trusted proxy (proxy.c). 0, or MM_EINVAL / MM_ELIMIT for an unusable
 * header (out is then the last trusted hop).
 */
int mm_ddns_client_addr(const mm_ddns_addr *peer, const char *xff, const mm_ddns_prefix *t,
                        size_t n, mm_ddns_addr *out);
/* Canonical text (RFC 5952 for IPv6) into out (>= 46 bytes). */
void mm_ddns_addr_format(const mm_ddns_addr *a, char *out, size_t outlen);
/* IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4; others unchanged. */
void mm_ddns_addr_unmap(mm_ddns_addr *a);
/* Most specific class of a (RFC 6890 registries; table in addr.c). */
enum mm_ddns_addr_class mm_ddns_addr_classify(const mm_ddns_addr *a);
const char *mm_ddns_addr_class_name(enum mm_ddns_addr_class c);
/* Whether a may be published: public, or documentation when allow_doc. */
bool mm_ddns_addr_publishable(const mm_ddns_addr *a, bool allow_doc);

/* ------------------------------------------------------------ hostnames (section 10) */

/*
 * Validate and normalise a hostname into out (MM_DDNS_HOSTNAME_MAX + 1
 * bytes): U-labels (UTF-8) become A-labels (IDNA2008), A-labels must be
 * valid; one trailing dot stripped; lowercased. txt_owner: the first label
 * may start with '_' (e.g. _acme-challenge). MM_EMALFORMED for an invalid
 * name; _check also sets *why to a precise reason (valid until the next
 * call on this thread).
 */
int mm_ddns_hostname_normalize(const char *in, size_t len, bool txt_owner, char *out);
int mm_ddns_hostname_check(const char *in, size_t len, bool txt_owner, char *out, const char **why);
/* True if name equals zone or lies below it (both normalised). */
bool mm_ddns_name_in_zone(const char *name, const char *zone);
/*
 * For a TXT owner name: the name it is for (after the allowed prefix
 * label), into out. MM_EPERM if the first label is not an allowed prefix.
 */
int mm_ddns_txt_owner_base(const char *owner, char *out, size_t outlen);

/* ------------------------------------------------------------ scopes (section 5.3) */

#define MM_DDNS_SCOPE_TABLE(X)                      \
    X(MM_DDNS_SCOPE_DNS_UPDATE, "dns:update")      \
    X(MM_DDNS_SCOPE_DOMAINS_READ, "domains:read")  \
    X(MM_DDNS_SCOPE_TXT_READ, "txt:read")          \
    X(MM_DDNS_SCOPE_TXT_WRITE, "txt:write")        \
    X(MM_DDNS_SCOPE_TXT_DELETE, "txt:delete")

enum mm_ddns_scope_bit {
#define MM_DDNS_SC_ENUM(sym, name) sym##_BIT,
    MM_DDNS_SCOPE_TABLE(MM_DDNS_SC_ENUM)
#undef MM_DDNS_SC_ENUM
    MM_DDNS_SCOPE_COUNT
};
#define MM_DDNS_SCOPE(bit) (1u << (bit))
#define MM_DDNS_SCOPE_ALL ((1u << MM_DDNS_SCOPE_COUNT) - 1)

/* "dns:update,txt:write" or "all" into a mask; MM_EINVAL names an unknown scope. */
int mm_ddns_scopes_parse(const char *text, uint32_t *mask);
/* Comma-separated names of mask into out. */
int mm_ddns_scopes_format(uint32_t mask, char *out, size_t outlen);
const char *mm_ddns_scope_name(unsigned bit);

/* ------------------------------------------------------------ tokens (section 5.2) */

#define MM_DDNS_TOKEN_MAX 128
/* "{provider}_{environment}_{random}": 24 CSPRNG bytes, base64url (32 chars). */
int mm_ddns_token_generate(const char *provider, const char *env, char *out, size_t outlen);
/* Split check of the format (provider 3-20 [a-z0-9-], env, random >= 16). */
bool mm_ddns_token_well_formed(const char *token, size_t len);
/* HMAC-SHA256(key, token): what the store keeps. */
int mm_ddns_token_hash(const uint8_t key[MM_DDNS_KEY_LEN], const char *token, size_t len,
                       uint8_t out[MM_DDNS_HASH_LEN]);
/* Constant-time equality of two token hashes. */
bool mm_ddns_hash_equal(const uint8_t a[MM_DDNS_HASH_LEN], const uint8_t b[MM_DDNS_HASH_LEN]);
/* Token hint for logs and listings: "provider_env_abcd...wxyz". */
void mm_ddns_token_hint(const char *token, char *out, size_t outlen);
/* Read the HMAC key at path, creating it (32 random bytes, mode 0600) if absent. */
int mm_ddns_key_load(const char *path, uint8_t key[MM_DDNS_KEY_LEN]);

/* ------------------------------------------------------------ rate limits (section 9) */

typedef struct mm_ddns_rl mm_ddns_rl;
typedef struct mm_ddns_rl_result {
    uint32_t limit, remaining;
    int64_t reset;       /* Unix time the window ends */
    uint32_t retry_after; /* seconds, when refused */
} mm_ddns_rl_result;

/* A fixed-window limiter over at most max_keys keys (oldest windows evicted). */
mm_ddns_rl *mm_ddns_rl_new(size_t max_keys);
void mm_ddns_rl_free(mm_ddns_rl *rl);
/* Count one hit of key; 0 if allowed, MM_EAGAIN if over the limit. */
int mm_ddns_rl_hit(mm_ddns_rl *rl, const char *key, uint32_t limit, uint32_t window_s,
                   int64_t now_s, mm_ddns_rl_result *res);
/* Hits of key in its current window, without counting (0 if unknown). */
uint32_t mm_ddns_rl_peek(mm_ddns_rl *rl, const char *key, uint32_t window_s, int64_t now_s);

/* ------------------------------------------------------------ update requests (7.2, 7.7) */

enum mm_ddns_tri { MM_DDNS_ABSENT = 0, MM_DDNS_NULL, MM_DDNS_SET, MM_DDNS_AUTO };

typedef struct mm_ddns_update_req {
    char hostname[MM_DDNS_HOSTNAME_MAX + 1];
    enum mm_ddns_tri v4, v6;
    mm_ddns_addr a4, a6;
    bool has_ttl;
    uint32_t ttl;
    /* TXT through /update (7.7): owner = txt_name "." hostname */
    bool has_txt, txt_delete, txt_has_value;
    char txt_owner[MM_DDNS_HOSTNAME_MAX + 1];
    char txt_value[MM_DDNS_TXT_VALUE_MAX + 1];
} mm_ddns_update_req;

typedef struct mm_ddns_policy {
    bool allow_doc;       /* documentation ranges count as public (test mode) */
    bool allow_loopback_auto; /* "auto" from a loopback peer maps to a documentation address */
    bool txt_enabled;
} mm_ddns_policy;

/*
 * Syntax of one update object, in the spec's order: hostname, ttl, explicit
 * addresses, txt. Auto-detection is not resolved here (see
 * mm_ddns_update_resolve_auto), so an auto address can never hide a hostname
 * or TTL error (section 17). defaults (bulk) may be NULL.
 */
int mm_ddns_update_parse(const void *json_obj, const void *json_defaults,
                         const mm_ddns_policy *pol, mm_ddns_update_req *out, mm_ddns_fail *fail);
/* Replace "auto" with the peer's address (family limit of -01, same public check). */
int mm_ddns_update_resolve_auto(mm_ddns_update_req *r, const mm_ddns_addr *peer,
                                const mm_ddns_policy *pol, mm_ddns_fail *fail);

/* ------------------------------------------------------------ storage */

typedef struct mm_ddns_store mm_ddns_store;

typedef struct mm_ddns_token_info {
    int64_t id;
    uint32_t scopes;
    bool revoked;
    int64_t expires; /* Unix seconds, 0 = never */
    char hint[64];
} mm_ddns_token_info;

typedef struct mm_ddns_host {
    char name[MM_DDNS_HOSTNAME_MAX + 1];
    char zone[MM_DDNS_HOSTNAME_MAX + 1]; /* "" when no zone is configured for it */
    char ipv4[46], ipv6[46];             /* "" = none */
    uint32_t ttl;
    int64_t created_ms, updated_ms, update_count;
} mm_ddns_host;

typedef struct mm_ddns_zone {
    char name[MM_DDNS_HOSTNAME_MAX + 1];
    char server[64];   /* primary, "127.0.0.1" */
    uint16_t port;
    char key_name[64]; /* TSIG key name, "" = unsigned */
    char key_alg[32];  /* "hmac-sha256" */
    char key_secret[128]; /* base64 */
} mm_ddns_zone;

/* One queued RFC 2136 change (section 19.2 mapping). */
enum mm_ddns_push_op { MM_DDNS_PUSH_SET = 0, MM_DDNS_PUSH_DELETE_RRSET, MM_DDNS_PUSH_ADD,
                       MM_DDNS_PUSH_DELETE_RR };
typedef struct mm_ddns_push_item {
    int64_t id;
    char zone[MM_DDNS_HOSTNAME_MAX + 1];
    char name[MM_DDNS_HOSTNAME_MAX + 1];
    uint16_t rtype; /* 1 A, 28 AAAA, 16 TXT */
    int op;
    char data[MM_DDNS_TXT_VALUE_MAX + 1];
    uint32_t ttl;
    uint32_t attempts;
} mm_ddns_push_item;

/* Open (create) the SQLite store at path: WAL, synchronous=FULL. */
int mm_ddns_store_open(const char *path, mm_ddns_store **out);
void mm_ddns_store_close(mm_ddns_store *s);

/*
 * For the DNS push worker's own connection: its only writes remove pushed
 * items from the queue, and losing such a removal in a crash just pushes the
 * item again, which RFC 2136 makes harmless (delete+add of the same RRset,
 * adding an existing RR and deleting a missing one are no-ops). So its
 * commits skip the sync (SQLite synchronous=NORMAL, PostgreSQL
 * synchronous_commit=off) and leave WAL checkpoints to the main connection:
 * the pusher never stalls behind an fsync.
 */
int mm_ddns_store_relax(mm_ddns_store *s);

/*
 * Group commit: between begin and end every change joins one transaction;
 * end(commit) makes them all durable with one sync (the daemon replies to
 * the whole group only after that), end(false) undoes them all.
 */
int mm_ddns_store_group_begin(mm_ddns_store *s);
int mm_ddns_store_group_end(mm_ddns_store *s, bool commit);

int mm_ddns_store_token_add(mm_ddns_store *s, const uint8_t hash[MM_DDNS_HASH_LEN],
                            const char *hint, uint32_t scopes, int64_t expires, int64_t *id);
/* Find by hash; MM_ENOENT if unknown. */
int mm_ddns_store_token_find(mm_ddns_store *s, const uint8_t hash[MM_DDNS_HASH_LEN],
                             mm_ddns_token_info *out);
int mm_ddns_store_token_revoke(mm_ddns_store *s, int64_t id);
/* Grant: kind "host" or "zone". */
int mm_ddns_store_grant_add(mm_ddns_store *s, int64_t token_id, const char *kind,
                            const char *name);
/* Whether token may manage name (an exact host grant or a zone grant covering it). */
int mm_ddns_store_may_manage(mm_ddns_store *s, int64_t token_id, const char *name, bool *ok);

int mm_ddns_store_zone_add(mm_ddns_store *s, const mm_ddns_zone *z);
int mm_ddns_store_zone_get(mm_ddns_store *s, const char *name, mm_ddns_zone *out);
/* Add a hostname (zone found automatically: the longest configured zone covering it). */
int mm_ddns_store_host_add(mm_ddns_store *s, const char *name, int64_t now_ms);
int mm_ddns_store_host_get(mm_ddns_store *s, const char *name, mm_ddns_host *out);

/* Visit hosts (token_id < 0: all; else those the token may manage). */
typedef int (*mm_ddns_host_cb)(const mm_ddns_host *h, void *arg);
int mm_ddns_store_host_each(mm_ddns_store *s, int64_t token_id, mm_ddns_host_cb cb, void *arg);
typedef int (*mm_ddns_row_cb)(const char *kind, const char *text, void *arg);
/* Tokens and zones as text rows for `admin list`. */
int mm_ddns_store_list(mm_ddns_store *s, mm_ddns_row_cb cb, void *arg);

/*
 * Apply a validated update to the host (last write wins) in one durable
 * transaction that also queues the DNS changes: before/after filled in.
 * Returns 0; *changed says whether an address changed.
 */
int mm_ddns_store_host_update(mm_ddns_store *s, const mm_ddns_update_req *r, int64_t now_ms,
                              mm_ddns_host *before, mm_ddns_host *after, bool *changed);
/* TXT values of an owner name (up to max, *n set; *ttl of the set). */
int mm_ddns_store_txt_get(mm_ddns_store *s, const char *owner, char (*values)[MM_DDNS_TXT_VALUE_MAX + 1],
                          size_t max, size_t *n, uint32_t *ttl);
/* Add (idempotent); MM_ELIMIT past MM_DDNS_TXT_MAX_RECORDS. *count after. */
int mm_ddns_store_txt_add(mm_ddns_store *s, const char *owner, const char *zone_of,
                          const char *value, uint32_t ttl, int64_t now_ms, size_t *count);
/* Delete one value (value non-NULL) or all; *removed, *remaining. */
int mm_ddns_store_txt_delete(mm_ddns_store *s, const char *owner, const char *zone_of,
                             const char *value, size_t *removed, size_t *remaining);

/* DNS push queue: the oldest due item; MM_ENOENT when none is due. */
int mm_ddns_store_push_next(mm_ddns_store *s, int64_t now_ms, mm_ddns_push_item *out);
int mm_ddns_store_push_done(mm_ddns_store *s, int64_t id);
/* Up to max oldest due items of the head's zone, in order (*n of them); MM_ENOENT when none. */
int mm_ddns_store_push_batch(mm_ddns_store *s, int64_t now_ms, mm_ddns_push_item *out, size_t max,
                             size_t *n);
/* Remove these ids atomically (all or none). */
int mm_ddns_store_push_done_many(mm_ddns_store *s, const int64_t *ids, size_t n);
int mm_ddns_store_push_retry(mm_ddns_store *s, int64_t id, int64_t next_ms);
int64_t mm_ddns_store_push_pending(mm_ddns_store *s);

/* ------------------------------------------------------------ the engine */

typedef struct mm_ddns_service mm_ddns_service;

typedef struct mm_ddns_limits {
    uint32_t update, bulk, status, domains, txt, public_, nic; /* per window */
    uint32_t window_s;
    uint32_t auth_fail_max;   /* failed authentications per IP per window before lockout */
} mm_ddns_limits;

typedef struct mm_ddns_service_config {
    mm_ddns_store *store;
    mm_audit *audit;            /* required: no audit, no service (fail closed) */
    uint8_t key[MM_DDNS_KEY_LEN];
    bool test_mode;
    const char *provider_name;  /* "mamori" */
    const char *provider_site;  /* "https://localhost" */
    mm_ddns_limits limits;      /* zero: defaults of section 9 (raised in test mode) */
    /* Clock for tests; NULL = real time (milliseconds since the epoch). */
    int64_t (*now_ms)(void *arg);
    void *now_arg;
    /* Called after a committed change that queued DNS work (daemon wakes its pusher). */
    void (*on_push)(void *arg);
    void *push_arg;
    /*
     * The caller groups requests (store group + audit batch) and makes
     * them durable before any reply: no per-change audit sync here.
     */
    bool group_commit;
    /*
     * Reverse proxies whose X-Forwarded-For is believed (default none: the
     * header is ignored). The array must outlive the service.
     */
    const struct mm_ddns_prefix *trusted_proxies;
    size_t n_trusted_proxies;
    /* Health: reports whether the DNS backend is reachable. */
    bool (*dns_ok)(void *arg);
    void *dns_arg;
} mm_ddns_service_config;

#define MM_DDNS_RESP_HEADERS 16
typedef struct mm_ddns_http_resp {
    int status;
    const char *content_type;
    struct { char name[32]; char value[128]; } headers[MM_DDNS_RESP_HEADERS];
    size_t n_headers;
    mm_buf body;
    bool close; /* close the connection after the reply */
} mm_ddns_http_resp;

typedef struct mm_ddns_http_req {
    const char *method;  /* "GET", "POST", ... */
    const char *target;  /* request-target: path and query, as received */
    /* Header lookup (case-insensitive), NULL if absent. */
    const char *(*header)(void *arg, const char *name);
    void *header_arg;
    const uint8_t *body;
    size_t body_len;
    mm_ddns_addr peer;
    const char *session; /* peer text for the audit, may be NULL */
} mm_ddns_http_req;

mm_ddns_service *mm_ddns_service_new(const mm_ddns_service_config *cfg);
void mm_ddns_service_free(mm_ddns_service *s);
/*
 * Replace rs by a complete error response in the API's envelope (security
 * headers, JSON error object, the code's HTTP status): for errors the
 * transport detects before the engine runs (oversized body, bad framing,
 * storage failure). message NULL: the table's.
 */
void mm_ddns_resp_error(mm_ddns_http_resp *rs, enum mm_ddns_err e, const char *message);
/* Build the complete response to rq into rs (initialise with mm_ddns_resp_init). */
void mm_ddns_service_handle(mm_ddns_service *s, const mm_ddns_http_req *rq, mm_ddns_http_resp *rs);
void mm_ddns_resp_init(mm_ddns_http_resp *rs);
void mm_ddns_resp_free(mm_ddns_http_resp *rs);
int mm_ddns_resp_header(mm_ddns_http_resp *rs, const char *name, const char *value);
const char *mm_ddns_resp_get_header(const mm_ddns_http_resp *rs, const char *name);

/* ------------------------------------------------------------ small parsers (untrusted) */

/* Percent-decode src (len) into out (NUL-terminated); '+' is a space when form. */
int mm_ddns_pct_decode(const char *src, size_t len, bool form, char *out, size_t outlen);
/* Find key in a query string and decode its value into out; MM_ENOENT if absent. */
int mm_ddns_query_get(const char *query, const char *key, char *out, size_t outlen);
/* "Basic base64(user:pass)" -> password (the token) into out. */
int mm_ddns_basic_password(const char *header, char *out, size_t outlen);

/* A parsed HTTP response (client side): body at data + body_off. */
typedef struct mm_ddns_http_response {
    int status;
    size_t body_off, body_len;
    uint32_t retry_after; /* seconds, 0 if absent */
} mm_ddns_http_response;
/* 0 when complete, MM_EAGAIN when more bytes are needed, MM_EMALFORMED/MM_EUNSUPPORTED. */
int mm_ddns_http_response_parse(const uint8_t *data, size_t len, mm_ddns_http_response *r);

/* ISO 8601 UTC with milliseconds into out (>= 25 bytes). */
void mm_ddns_time_format(int64_t ms, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif
#endif
