/*
 * mm_audit.h - tamper-evident audit log of authorization decisions
 * (draft-li-zt-consideration / NIST SP 800-207: every decision recorded).
 *
 * One JSON object per line, each carrying the HMAC-SHA256 of the previous
 * line ("prev") and of itself ("mac"), keyed with a 0600 key file, so
 * editing, removing or reordering a record breaks the chain, and a head file
 * ("<log>.head", count and last MAC) makes truncation detectable
 * (mm_audit_verify_ex, `mamori audit verify-log`). A record that cannot be
 * written is kept queued and the call fails (fail closed); fields over 4 KiB
 * are shortened, a record is never dropped.
 * Every record is written with one write(2) before the call returns, so it
 * survives a crash of the process (kill -9). Data changes (actions write,
 * create, update, delete) and denied operations are also fdatasync'd before
 * returning, so they survive power loss too; reads and notifications
 * (permitted or pruned) and permitted RPCs -- the high-volume records, every
 * <get> makes several -- are left to the kernel's write-back, which keeps the
 * audit off the hot path.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_AUDIT_H
#define MAMORI_MM_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_audit mm_audit;

/* Open (or create, mode 0600) the log at path and resume its chain. */
int mm_audit_open(const char *path, mm_audit **out);
void mm_audit_close(mm_audit *a);

typedef struct mm_audit_record {
    const char *module;   /* "netconf", "ddns", ... */
    const char *subject;  /* authenticated identity (user name) */
    const char *action;   /* "rpc", "write", "read", "notification", "connect", ... */
    const char *object;   /* rpc name, data path, ... */
    bool permit;          /* the decision */
    const char *reason;   /* rule that decided, e.g. "rule-list=admin rule=permit-all" */
    const char *session;  /* session id or peer, may be NULL */
} mm_audit_record;

/* Append one record (thread-safe). NULL a is allowed and does nothing. */
int mm_audit_write(mm_audit *a, const mm_audit_record *r);

/*
 * Batching: between begin and end, records are chained and kept in memory;
 * end writes them with one write(2) (and one fdatasync if any of them needs
 * it). A daemon wraps the handling of one input burst (pipelined RPCs) in a
 * batch, and calls mm_audit_flush_critical() before sending each reply, so
 * records of data changes and denials are durable before the reply that
 * acknowledges them; read and permitted-RPC records are written at the end
 * of the burst, microseconds later. Batches nest; only the outermost end
 * writes.
 */
void mm_audit_batch_begin(mm_audit *a);
int mm_audit_batch_end(mm_audit *a);
/* Inside a batch: write (and sync) now if a pending record needs to be durable. */
int mm_audit_flush_critical(mm_audit *a);

/*
 * Where the MAC key of the log at log_path lives: "<log_path>.key" (0600,
 * 32 random bytes in hex, made on first open). Anyone verifying the log needs
 * it; anyone holding it can forge records, so keep a copy off the host.
 */
void mm_audit_key_path(const char *log_path, char *out, size_t outlen);

typedef struct mm_audit_verify_result {
    size_t count;               /* records that verified, in order */
    size_t bad_line;            /* 1-based line of the first bad record, 0 if none */
    bool head_present;          /* "<log>.head" exists and its own MAC is right */
    unsigned long long head_count; /* records the head vouches for */
    char head_last[65];         /* MAC of that record per the head */
    bool truncated;             /* fewer records than the head vouches for */
    char why[256];              /* one line for people when the result is not 0 */
} mm_audit_verify_result;

/*
 * Check the log at path with the key at key_path (NULL: the default beside
 * the log): every record's MAC and chain link, and the head (records
 * removed from the end are detected). 0 if intact; MM_EVERIFY (or an I/O
 * error) with res->why otherwise.
 */
int mm_audit_verify_ex(const char *path, const char *key_path, mm_audit_verify_result *res);
/* mm_audit_verify_ex with the default key; count and first bad line only. */
int mm_audit_verify(const char *path, size_t *count, size_t *bad_line);

#ifdef __cplusplus
}
#endif
#endif
