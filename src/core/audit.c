/*
 * Hash-chained audit log: each line is a JSON object whose "hash" is
 * SHA-256 over the line without its hash member, which includes "prev".
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"

#define HASH_HEX 64
#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define LINE_MAX_BYTES 8192

struct mm_audit {
    int fd;
    pthread_mutex_t lock;
    char prev[HASH_HEX + 1];
    unsigned batch;  /* nesting depth of open batches */
    mm_buf pending;  /* records of the open batch, not yet written */
    bool pending_sync;
    mm_buf line;         /* the record being formatted (reused) */
    EVP_MD *sha256;      /* fetched once: fetching per record is costly */
    EVP_MD_CTX *mdctx;
    time_t ts_sec;       /* the second ts_text holds, formatted once */
    char ts_text[24];    /* "YYYY-MM-DDTHH:MM:SS" */
};

#define BATCH_LIMIT (1u << 20)

/* Write out what the batch holds (lock held). */
static int flush_pending(mm_audit *a)
{
    int rc = 0;
    if (a->pending.len) {
        ssize_t w = write(a->fd, a->pending.data, a->pending.len);
        rc = w == (ssize_t)a->pending.len ? 0 : MM_EIO;
    }
    if (rc == 0 && a->pending_sync && fdatasync(a->fd) != 0)
        rc = MM_EIO;
    mm_buf_reset(&a->pending);
    a->pending_sync = false;
    return rc;
}

void mm_audit_batch_begin(mm_audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->batch++;
    pthread_mutex_unlock(&a->lock);
}

int mm_audit_flush_critical(mm_audit *a)
{
    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    int rc = a->pending_sync ? flush_pending(a) : 0;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int mm_audit_batch_end(mm_audit *a)
{
    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    int rc = 0;
    if (a->batch > 0 && --a->batch == 0)
        rc = flush_pending(a);
    pthread_mutex_unlock(&a->lock);
    if (rc < 0)
        mm_log_error("audit-write", "err=\"%s\"", mm_strerror(rc));
    return rc;
}

/* Lower-case hex SHA-256; ctx and md may be NULL (one-shot, for verify). */
static void sha256_hex(EVP_MD_CTX *ctx, const EVP_MD *md, const char *data, size_t len,
                       char out[HASH_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t h[32];
    unsigned int n = 0;
    if (!ctx || !md || EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, h, &n) != 1)
        EVP_Digest(data, len, h, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[HASH_HEX] = '\0';
}

/* Does c need escaping inside a JSON string? */
static bool json_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}

/* ,"key":"value" with JSON string escaping; safe runs are copied at once. */
static int put_str(mm_buf *b, const char *key, const char *v)
{
    MM_GUARD(mm_buf_append(b, ",\"", 2));
    MM_GUARD(mm_buf_append_str(b, key));
    MM_GUARD(mm_buf_append(b, "\":\"", 3));
    const unsigned char *p = (const unsigned char *)(v ? v : "");
    while (*p) {
        const unsigned char *run = p;
        while (*p && !json_special(*p))
            p++;
        MM_GUARD(mm_buf_append(b, run, (size_t)(p - run)));
        if (!*p)
            break;
        if (*p < 0x20)
            MM_GUARD(mm_buf_printf(b, "\\u%04x", *p));
        else
            MM_GUARD(mm_buf_append(b, (const char[]){'\\', (char)*p}, 2));
        p++;
    }
    return mm_buf_append(b, "\"", 1);
}

/*
 * The body hashed is the record up to (not including) its final
 * ",\"hash\":...}" member; the stored line is body + that member + "}\n".
 */
static const char *hash_member(const char *line, size_t len)
{
    static const char key[] = ",\"hash\":\"";
    if (len < sizeof(key) - 1 + HASH_HEX + 2)
        return NULL;
    const char *m = line + len - (sizeof(key) - 1 + HASH_HEX + 2);
    return strncmp(m, key, sizeof(key) - 1) == 0 ? m : NULL;
}

static int last_hash(int fd, char out[HASH_HEX + 1])
{
    memcpy(out, GENESIS, HASH_HEX + 1);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end <= 0)
        return 0;
    char buf[LINE_MAX_BYTES + 1];
    off_t start = end > LINE_MAX_BYTES ? end - LINE_MAX_BYTES : 0;
    ssize_t n = pread(fd, buf, (size_t)(end - start), start);
    if (n <= 0)
        return MM_EIO;
    if (buf[n - 1] != '\n') {
        /* A crash inside write(): the torn record was never acknowledged
         * (records are acknowledged after fdatasync), so drop it. */
        ssize_t keep = n;
        while (keep > 0 && buf[keep - 1] != '\n')
            keep--;
        if (keep == 0 && start > 0)
            return MM_EMALFORMED;
        mm_log_warn("audit-open", "action=truncate-torn-record bytes=%ld", (long)(n - keep));
        if (ftruncate(fd, start + keep) != 0)
            return MM_EIO;
        if (keep == 0)
            return 0;
        n = keep;
    }
    buf[n - 1] = '\0';
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    const char *h = hash_member(line, strlen(line));
    if (!h)
        return MM_EMALFORMED;
    memcpy(out, h + 9, HASH_HEX);
    out[HASH_HEX] = '\0';
    return 0;
}

int mm_audit_open(const char *path, mm_audit **out)
{
    *out = NULL;
    mm_audit *a = calloc(1, sizeof(*a));
    if (!a)
        return MM_ENOMEM;
    a->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        mm_log_error("audit-open", "path=%s err=\"%s\"", path, strerror(errno));
        free(a);
        return MM_ESYS;
    }
    int rc = last_hash(a->fd, a->prev);
    if (rc < 0) {
        mm_log_error("audit-open", "path=%s err=\"last record is damaged\"", path);
        close(a->fd);
        free(a);
        return rc;
    }
    pthread_mutex_init(&a->lock, NULL);
    mm_buf_init(&a->pending, BATCH_LIMIT + LINE_MAX_BYTES);
    mm_buf_init(&a->line, LINE_MAX_BYTES - 1);
    a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    a->mdctx = EVP_MD_CTX_new();
    *out = a;
    return 0;
}

void mm_audit_close(mm_audit *a)
{
    if (!a)
        return;
    flush_pending(a);
    mm_buf_free(&a->pending);
    mm_buf_free(&a->line);
    EVP_MD_free(a->sha256);
    EVP_MD_CTX_free(a->mdctx);
    close(a->fd);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static int format_body(mm_audit *a, mm_buf *b, const mm_audit_record *r)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != a->ts_sec || !a->ts_text[0]) { /* strftime once a second */
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        if (strftime(a->ts_text, sizeof(a->ts_text), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            a->ts_text[0] = '\0';
        a->ts_sec = now.tv_sec;
    }
    char frac[9] = ".000000Z";
    for (long us = now.tv_nsec / 1000, i = 6; i >= 1; i--, us /= 10)
        frac[i] = (char)('0' + us % 10);
    MM_GUARD(mm_buf_append(b, "{\"time\":\"", 9));
    MM_GUARD(mm_buf_append_str(b, a->ts_text));
    MM_GUARD(mm_buf_append(b, frac, 8));
    MM_GUARD(mm_buf_append(b, "\"", 1));
    MM_GUARD(put_str(b, "module", r->module));
    MM_GUARD(put_str(b, "subject", r->subject));
    MM_GUARD(put_str(b, "action", r->action));
    MM_GUARD(put_str(b, "object", r->object));
    MM_GUARD(put_str(b, "decision", r->permit ? "permit" : "deny"));
    MM_GUARD(put_str(b, "reason", r->reason));
    if (r->session)
        MM_GUARD(put_str(b, "session", r->session));
    return put_str(b, "prev", a->prev);
}

/* Actions that change configuration: their records are synced like denials. */
static bool changes_data(const char *action)
{
    static const char *const acts[] = {"write", "create", "update", "delete"};
    for (size_t i = 0; action && i < sizeof(acts) / sizeof(acts[0]); i++)
        if (!strcmp(action, acts[i]))
            return true;
    return false;
}

int mm_audit_write(mm_audit *a, const mm_audit_record *r)
{
    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    mm_buf *b = &a->line;
    mm_buf_reset(b);
    int rc = format_body(a, b, r);
    char h[HASH_HEX + 1];
    if (rc == 0) {
        sha256_hex(a->mdctx, a->sha256, (const char *)b->data, b->len, h);
        rc = mm_buf_append(b, ",\"hash\":\"", 9);
        if (rc == 0)
            rc = mm_buf_append(b, h, HASH_HEX);
        if (rc == 0)
            rc = mm_buf_append(b, "\"}\n", 3);
    }
    if (rc == 0) {
        bool reading = r->action && (!strcmp(r->action, "read") ||
                                     !strcmp(r->action, "notification"));
        a->pending_sync = a->pending_sync || changes_data(r->action) || (!r->permit && !reading);
        rc = mm_buf_append(&a->pending, b->data, b->len);
        /* Outside a batch, or when a batch grows large, write through now. */
        if (rc == 0 && (a->batch == 0 || a->pending.len >= BATCH_LIMIT))
            rc = flush_pending(a);
    }
    if (rc == 0)
        memcpy(a->prev, h, sizeof(h));
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int mm_audit_verify(const char *path, size_t *count, size_t *bad_line)
{
    *count = 0;
    *bad_line = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? MM_ENOENT : MM_EIO;
    char prev[HASH_HEX + 1] = GENESIS;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n;
        const char *h = len > 1 && line[len - 1] == '\n' ? hash_member(line, len - 1) : NULL;
        char want_prev[80], calc[HASH_HEX + 1];
        snprintf(want_prev, sizeof(want_prev), ",\"prev\":\"%s\"", prev);
        if (h) {
            sha256_hex(NULL, NULL, line, (size_t)(h - line), calc);
            /* "prev" is the last member of the hashed body. */
            size_t pl = strlen(want_prev);
            bool prev_ok = (size_t)(h - line) >= pl && !strncmp(h - pl, want_prev, pl);
            if (!prev_ok || strncmp(h + 9, calc, HASH_HEX) != 0)
                h = NULL;
        }
        if (!h) {
            *bad_line = *count + 1;
            rc = MM_EVERIFY;
            break;
        }
        memcpy(prev, calc, sizeof(prev));
        (*count)++;
    }
    free(line);
    fclose(f);
    return rc;
}
