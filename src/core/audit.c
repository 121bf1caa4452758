/*
 * Keyed hash-chained audit log. Each line is a JSON object whose last
 * member "mac" is HMAC-SHA256 (key in a 0600 file) over the line without
 * that member; the body ends with "prev", the previous record's mac, so an
 * edit, a removal or a reordering breaks the chain, and without the key a
 * rewritten tail cannot be re-chained. A head file beside the log
 * ("<log>.head": record count and last mac, itself MACed) is updated after
 * every write, so cutting records off the end (truncation) is detected too.
 *
 * Failure policy (fail closed, never drop): a record that cannot be written
 * stays queued (the chain continues from it, nothing is lost) and the call
 * reports MM_EIO so the operation it belongs to fails; the file is cut back
 * to its last complete record, so a retry appends cleanly. Oversized fields
 * are shortened (with a note of how much was cut), never the record.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"

#define MAC_HEX 64
#define KEY_LEN 32
#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
/* A field longer than this is cut (escaped bytes); a record stays below LINE_MAX_BYTES. */
#define FIELD_MAX 4096
#define LINE_MAX_BYTES 65536
#define HEAD_MAX 256

struct mm_audit {
    int fd;
    int head_fd;
    pthread_mutex_t lock;
    char prev[MAC_HEX + 1];    /* mac of the last record chained (written or pending) */
    uint64_t count;            /* records chained so far */
    uint64_t written;          /* records on disk */
    char written_mac[MAC_HEX + 1];
    off_t size;                /* file size after the last complete write */
    unsigned batch;            /* nesting depth of open batches */
    mm_buf pending;            /* chained records not yet on disk */
    uint64_t pending_n;
    bool pending_sync;
    mm_buf line;               /* the record being formatted (reused) */
    EVP_MD *sha256;            /* fetched once: fetching per record is costly */
    EVP_MD_CTX *inner, *outer; /* HMAC pads absorbed once (RFC 2104) */
    EVP_MD_CTX *work;
    time_t ts_sec;             /* the second ts_text holds, formatted once */
    char ts_text[24];          /* "YYYY-MM-DDTHH:MM:SS" */
};

/* A batch writes through once it holds this much. */
#define BATCH_LIMIT (1u << 20)
/* Records that could not be written are kept up to this; beyond it writes fail. */
#define PENDING_LIMIT (16u << 20)

static void hex32(const uint8_t h[32], char out[MAC_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[MAC_HEX] = '\0';
}

/* HMAC-SHA256 with the key's pads absorbed once into inner/outer (RFC 2104). */
static int mac_init(mm_audit *a, const uint8_t key[KEY_LEN])
{
    uint8_t ipad[64], opad[64];
    for (int i = 0; i < 64; i++) {
        uint8_t k = i < KEY_LEN ? key[i] : 0;
        ipad[i] = k ^ 0x36;
        opad[i] = k ^ 0x5c;
    }
    a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    a->inner = EVP_MD_CTX_new();
    a->outer = EVP_MD_CTX_new();
    a->work = EVP_MD_CTX_new();
    int ok = a->sha256 && a->inner && a->outer && a->work &&
             EVP_DigestInit_ex(a->inner, a->sha256, NULL) == 1 &&
             EVP_DigestUpdate(a->inner, ipad, 64) == 1 &&
             EVP_DigestInit_ex(a->outer, a->sha256, NULL) == 1 &&
             EVP_DigestUpdate(a->outer, opad, 64) == 1;
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    return ok ? 0 : MM_ECRYPTO;
}

static int mac_hex(mm_audit *a, const void *data, size_t len, char out[MAC_HEX + 1])
{
    uint8_t h[32];
    unsigned int n = 0;
    if (EVP_MD_CTX_copy_ex(a->work, a->inner) != 1 || EVP_DigestUpdate(a->work, data, len) != 1 ||
        EVP_DigestFinal_ex(a->work, h, &n) != 1 || EVP_MD_CTX_copy_ex(a->work, a->outer) != 1 ||
        EVP_DigestUpdate(a->work, h, 32) != 1 || EVP_DigestFinal_ex(a->work, h, &n) != 1)
        return MM_ECRYPTO;
    hex32(h, out);
    return 0;
}

void mm_audit_key_path(const char *log_path, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s.key", log_path);
}

static void head_path(const char *log_path, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s.head", log_path);
}

/* Read the key, or create it (0600, random) when create is set and it is absent. */
static int load_key(const char *path, bool create, uint8_t key[KEY_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (RAND_bytes(key, KEY_LEN) != 1)
            return MM_ECRYPTO;
        char hex[2 * KEY_LEN + 2];
        hex32(key, hex);
        hex[2 * KEY_LEN] = '\n';
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int rc = fd < 0 ? MM_ESYS : mm_write_all(fd, hex, 2 * KEY_LEN + 1);
        if (rc == 0 && fsync(fd) != 0)
            rc = MM_EIO;
        OPENSSL_cleanse(hex, sizeof(hex));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    if (fd < 0)
        return errno == ENOENT ? MM_ENOENT : MM_ESYS;
    char hex[2 * KEY_LEN + 2];
    ssize_t n = read(fd, hex, sizeof(hex));
    close(fd);
    int rc = n >= 2 * KEY_LEN && mm_hex_decode(hex, 2 * KEY_LEN, key, KEY_LEN) == 0
                 ? 0
                 : MM_EMALFORMED;
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc;
}

/* The head text: "mamori-audit-head v1 count=N last=MAC mac=MAC\n". */
static int head_format(mm_audit *a, uint64_t count, const char *last, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "mamori-audit-head v1 count=%llu last=%s",
                     (unsigned long long)count, last);
    char m[MAC_HEX + 1];
    MM_GUARD(mac_hex(a, out, (size_t)n, m));
    int t = snprintf(out + n, outlen - (size_t)n, " mac=%s\n", m);
    return n + t;
}

static int head_parse(mm_audit *a, const char *text, unsigned long long *count,
                      char last[MAC_HEX + 1])
{
    unsigned long long c = 0;
    char l[MAC_HEX + 1], m[MAC_HEX + 1], want[HEAD_MAX];
    if (sscanf(text, "mamori-audit-head v1 count=%llu last=%64s mac=%64s", &c, l, m) != 3)
        return MM_EMALFORMED;
    int n = head_format(a, c, l, want, sizeof(want));
    if (n < 0 || strncmp(want, text, (size_t)n) != 0)
        return MM_EVERIFY; /* the head's own mac is wrong: forged or damaged */
    *count = c;
    memcpy(last, l, sizeof(l));
    return 0;
}

/* Rewrite the head in place (fixed position, one pwrite); sync when asked. */
static int head_update(mm_audit *a, bool sync)
{
    char text[HEAD_MAX];
    memset(text, ' ', sizeof(text));
    int n = head_format(a, a->written, a->written_mac, text, sizeof(text));
    if (n < 0)
        return n;
    text[n] = ' '; /* padding after the newline keeps the size fixed */
    if (pwrite(a->head_fd, text, sizeof(text), 0) != (ssize_t)sizeof(text))
        return MM_EIO;
    return sync && fdatasync(a->head_fd) != 0 ? MM_EIO : 0;
}

/* Write out what is queued (lock held). On failure the queue is kept. */
static int flush_pending(mm_audit *a)
{
    if (!a->pending.len)
        return 0;
    ssize_t w = write(a->fd, a->pending.data, a->pending.len);
    int rc = w == (ssize_t)a->pending.len ? 0 : MM_EIO;
    if (rc == 0 && a->pending_sync && fdatasync(a->fd) != 0)
        rc = MM_EIO;
    if (rc < 0) {
        const char *why = w >= 0 && rc < 0 && w < (ssize_t)a->pending.len ? "short write"
                                                                            : strerror(errno);
        /* Cut back to the last complete record so the retry appends cleanly. */
        if (w > 0 && ftruncate(a->fd, a->size) != 0)
            mm_log_error("audit-write", "action=cut-back err=\"%s\"", strerror(errno));
        mm_log_error("audit-write", "queued=%llu err=\"%s\"",
                     (unsigned long long)a->pending_n, why);
        return rc;
    }
    a->size += w;
    a->written = a->count;
    memcpy(a->written_mac, a->prev, sizeof(a->prev));
    bool sync = a->pending_sync;
    mm_buf_reset(&a->pending);
    a->pending_n = 0;
    a->pending_sync = false;
    rc = head_update(a, sync);
    if (rc < 0)
        mm_log_error("audit-head", "err=\"%s\"", strerror(errno));
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
    return rc;
}

/* Does c need escaping inside a JSON string? */
static bool json_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}

/*
 * ,"key":"value" with JSON string escaping; safe runs are copied at once.
 * At most FIELD_MAX bytes of value are written (never splitting an escape
 * or a UTF-8 sequence); a longer value ends with "...[+N bytes]" and *cut is set.
 */
static int put_str(mm_buf *b, const char *key, const char *v, bool *cut)
{
    MM_GUARD(mm_buf_append(b, ",\"", 2));
    MM_GUARD(mm_buf_append_str(b, key));
    MM_GUARD(mm_buf_append(b, "\":\"", 3));
    const unsigned char *p = (const unsigned char *)(v ? v : "");
    size_t used = 0;
    while (*p) {
        const unsigned char *run = p;
        while (*p && !json_special(*p) && used + (size_t)(p - run) < FIELD_MAX)
            p++;
        /* Do not end a cut inside a UTF-8 sequence. */
        if (*p && !json_special(*p))
            while (p > run && (*p & 0xc0) == 0x80)
                p--;
        MM_GUARD(mm_buf_append(b, run, (size_t)(p - run)));
        used += (size_t)(p - run);
        if (!*p)
            break;
        if (used + 6 > FIELD_MAX) {
            MM_GUARD(mm_buf_printf(b, "...[+%zu bytes]", strlen((const char *)p)));
            if (cut)
                *cut = true;
            break;
        }
        if (!json_special(*p))
            continue;
        if (*p < 0x20) {
            MM_GUARD(mm_buf_printf(b, "\\u%04x", *p));
            used += 6;
        } else {
            MM_GUARD(mm_buf_append(b, (const char[]){'\\', (char)*p}, 2));
            used += 2;
        }
        p++;
    }
    return mm_buf_append(b, "\"", 1);
}

/*
 * The body MACed is the record up to (not including) its final
 * ",\"mac\":...}" member; the stored line is body + that member + "}".
 */
static const char *mac_member(const char *line, size_t len)
{
    static const char key[] = ",\"mac\":\"";
    if (len < sizeof(key) - 1 + MAC_HEX + 2)
        return NULL;
    const char *m = line + len - (sizeof(key) - 1 + MAC_HEX + 2);
    return strncmp(m, key, sizeof(key) - 1) == 0 && !strcmp(m + sizeof(key) - 1 + MAC_HEX, "\"}")
               ? m
               : NULL;
}
#define MAC_KEY_LEN 8 /* strlen(",\"mac\":\"") */

/* Last complete record's mac; a torn (never acknowledged) tail is cut off. */
static int last_mac(int fd, char out[MAC_HEX + 1], off_t *size)
{
    memcpy(out, GENESIS, MAC_HEX + 1);
    off_t end = lseek(fd, 0, SEEK_END);
    *size = end > 0 ? end : 0;
    if (end <= 0)
        return 0;
    static char buf[LINE_MAX_BYTES + 1];
    off_t start = end > LINE_MAX_BYTES ? end - LINE_MAX_BYTES : 0;
    ssize_t n = pread(fd, buf, (size_t)(end - start), start);
    if (n <= 0)
        return MM_EIO;
    if (buf[n - 1] != '\n') {
        /* A crash inside write(): the torn record was never acknowledged
         * (records are acknowledged after their write returns), so drop it. */
        ssize_t keep = n;
        while (keep > 0 && buf[keep - 1] != '\n')
            keep--;
        if (keep == 0 && start > 0)
            return MM_EMALFORMED;
        mm_log_warn("audit-open", "action=truncate-torn-record bytes=%ld", (long)(n - keep));
        if (ftruncate(fd, start + keep) != 0)
            return MM_EIO;
        *size = start + keep;
        if (keep == 0)
            return 0;
        n = keep;
    }
    buf[n - 1] = '\0';
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    const char *h = mac_member(line, strlen(line));
    if (!h)
        return MM_EMALFORMED;
    memcpy(out, h + MAC_KEY_LEN, MAC_HEX);
    out[MAC_HEX] = '\0';
    return 0;
}

/* Count complete lines (used when the head cannot vouch for the count). */
static int count_lines(int fd, off_t size, uint64_t *n)
{
    static char buf[65536];
    *n = 0;
    for (off_t off = 0; off < size;) {
        ssize_t r = pread(fd, buf, sizeof(buf), off);
        if (r <= 0)
            return MM_EIO;
        for (ssize_t i = 0; i < r; i++)
            *n += buf[i] == '\n';
        off += r;
    }
    return 0;
}

static void audit_free(mm_audit *a)
{
    mm_buf_free(&a->pending);
    mm_buf_free(&a->line);
    EVP_MD_free(a->sha256);
    EVP_MD_CTX_free(a->inner);
    EVP_MD_CTX_free(a->outer);
    EVP_MD_CTX_free(a->work);
    if (a->fd >= 0)
        close(a->fd);
    if (a->head_fd >= 0)
        close(a->head_fd);
    free(a);
}

/* Resume the chain: the last record's mac, the record count, the head. */
static int audit_resume(mm_audit *a, const char *path)
{
    MM_GUARD(last_mac(a->fd, a->prev, &a->size));
    char text[HEAD_MAX + 1];
    ssize_t n = pread(a->head_fd, text, HEAD_MAX, 0);
    unsigned long long hc = 0;
    char hl[MAC_HEX + 1];
    bool head_ok = false;
    if (n > 0) {
        text[n] = '\0';
        int rc = head_parse(a, text, &hc, hl);
        if (rc < 0)
            mm_log_error("audit-open", "path=%s err=\"head file fails its check\"", path);
        head_ok = rc == 0;
    }
    if (head_ok && !strcmp(hl, a->prev)) {
        a->count = hc;
    } else {
        MM_GUARD(count_lines(a->fd, a->size, &a->count));
        if (n > 0 && (!head_ok || hc > a->count))
            /* Loud, not fatal: the daemon must still come up and record;
             * `mamori audit verify-log` reports the damage. */
            mm_log_error("audit-open", "path=%s records=%llu err=\"log does not match its head "
                         "(truncated or rewritten?): run mamori audit verify-log\"",
                         path, (unsigned long long)a->count);
    }
    a->written = a->count;
    memcpy(a->written_mac, a->prev, sizeof(a->prev));
    return head_update(a, true);
}

int mm_audit_open(const char *path, mm_audit **out)
{
    *out = NULL;
    mm_audit *a = calloc(1, sizeof(*a));
    if (!a)
        return MM_ENOMEM;
    a->head_fd = -1;
    a->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        mm_log_error("audit-open", "path=%s err=\"%s\"", path, strerror(errno));
        free(a);
        return MM_ESYS;
    }
    char p[4096];
    uint8_t key[KEY_LEN];
    mm_audit_key_path(path, p, sizeof(p));
    int rc = load_key(p, true, key);
    if (rc == 0)
        rc = mac_init(a, key);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc < 0)
        mm_log_error("audit-open", "key=%s err=\"%s\"", p, mm_strerror(rc));
    head_path(path, p, sizeof(p));
    if (rc == 0) {
        a->head_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        rc = a->head_fd < 0 ? MM_ESYS : 0;
    }
    mm_buf_init(&a->pending, PENDING_LIMIT + LINE_MAX_BYTES);
    mm_buf_init(&a->line, LINE_MAX_BYTES);
    if (rc == 0)
        rc = audit_resume(a, path);
    if (rc < 0) {
        mm_log_error("audit-open", "path=%s err=\"%s\"", path, mm_strerror(rc));
        audit_free(a);
        return rc;
    }
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return 0;
}

void mm_audit_close(mm_audit *a)
{
    if (!a)
        return;
    if (flush_pending(a) < 0)
        mm_log_error("audit-close", "lost=%llu err=\"records could not be written\"",
                     (unsigned long long)a->pending_n);
    pthread_mutex_destroy(&a->lock);
    audit_free(a);
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
    bool cut = false;
    MM_GUARD(mm_buf_append(b, "{\"time\":\"", 9));
    MM_GUARD(mm_buf_append_str(b, a->ts_text));
    MM_GUARD(mm_buf_append(b, frac, 8));
    MM_GUARD(mm_buf_append(b, "\"", 1));
    MM_GUARD(put_str(b, "module", r->module, &cut));
    MM_GUARD(put_str(b, "subject", r->subject, &cut));
    MM_GUARD(put_str(b, "action", r->action, &cut));
    MM_GUARD(put_str(b, "object", r->object, &cut));
    MM_GUARD(put_str(b, "decision", r->permit ? "permit" : "deny", &cut));
    MM_GUARD(put_str(b, "reason", r->reason, &cut));
    if (r->session)
        MM_GUARD(put_str(b, "session", r->session, &cut));
    if (cut)
        MM_GUARD(mm_buf_append_str(b, ",\"cut\":true"));
    return put_str(b, "prev", a->prev, NULL);
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
    int rc = 0;
    /* Records that could not be written are kept, up to a bound; past it the
     * operation is refused rather than left unrecorded. */
    if (a->pending.len >= PENDING_LIMIT && flush_pending(a) < 0)
        rc = MM_EIO;
    mm_buf *b = &a->line;
    mm_buf_reset(b);
    if (rc == 0)
        rc = format_body(a, b, r);
    char h[MAC_HEX + 1];
    if (rc == 0)
        rc = mac_hex(a, b->data, b->len, h);
    if (rc == 0) {
        rc = mm_buf_append(b, ",\"mac\":\"", MAC_KEY_LEN);
        if (rc == 0)
            rc = mm_buf_append(b, h, MAC_HEX);
        if (rc == 0)
            rc = mm_buf_append(b, "\"}\n", 3);
    }
    if (rc == 0)
        rc = mm_buf_append(&a->pending, b->data, b->len);
    if (rc == 0) {
        bool reading = r->action && (!strcmp(r->action, "read") ||
                                     !strcmp(r->action, "notification"));
        a->pending_sync = a->pending_sync || changes_data(r->action) || (!r->permit && !reading);
        memcpy(a->prev, h, sizeof(h));
        a->count++;
        a->pending_n++;
        /* Outside a batch, or when a batch grows large, write through now. */
        if (a->batch == 0 || a->pending.len >= BATCH_LIMIT)
            rc = flush_pending(a);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int mm_audit_verify_ex(const char *path, const char *key_path, mm_audit_verify_result *res)
{
    memset(res, 0, sizeof(*res));
    char kp[4096];
    if (!key_path) {
        mm_audit_key_path(path, kp, sizeof(kp));
        key_path = kp;
    }
    uint8_t key[KEY_LEN];
    int rc = load_key(key_path, false, key);
    if (rc < 0) {
        snprintf(res->why, sizeof(res->why), "cannot read the key %.160s: %s", key_path,
                 mm_strerror(rc));
        return rc;
    }
    mm_audit *a = calloc(1, sizeof(*a));
    if (!a)
        return MM_ENOMEM;
    a->fd = a->head_fd = -1;
    rc = mac_init(a, key);
    OPENSSL_cleanse(key, sizeof(key));
    FILE *f = rc == 0 ? fopen(path, "r") : NULL;
    if (rc == 0 && !f) {
        rc = errno == ENOENT ? MM_ENOENT : MM_EIO;
        snprintf(res->why, sizeof(res->why), "cannot read %.160s: %s", path, strerror(errno));
    }
    char prev[MAC_HEX + 1] = GENESIS, calc[MAC_HEX + 1];
    char at_head[MAC_HEX + 1] = "";
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    /* The head first: it says how many records there must be at least. */
    char hp[4096], text[HEAD_MAX + 1];
    head_path(path, hp, sizeof(hp));
    FILE *hf = rc == 0 ? fopen(hp, "r") : NULL;
    if (hf) {
        size_t hn = fread(text, 1, HEAD_MAX, hf);
        text[hn] = '\0';
        fclose(hf);
        int hr = head_parse(a, text, &res->head_count, res->head_last);
        res->head_present = hr == 0;
        if (hr < 0 && rc == 0) {
            rc = MM_EVERIFY;
            snprintf(res->why, sizeof(res->why), "the head file %.120s fails its check (%s)", hp,
                     hr == MM_EVERIFY ? "wrong mac: forged or written with another key"
                                      : "malformed");
        }
    }
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n;
        bool ok = len > 1 && line[len - 1] == '\n';
        if (ok)
            line[--len] = '\0';
        const char *h = ok ? mac_member(line, len) : NULL;
        /* "prev" is the last member of the MACed body. */
        char want_prev[80];
        snprintf(want_prev, sizeof(want_prev), ",\"prev\":\"%s\"", prev);
        size_t pl = strlen(want_prev);
        if (h && (mac_hex(a, line, (size_t)(h - line), calc) < 0 ||
                  (size_t)(h - line) < pl || strncmp(h - pl, want_prev, pl) != 0 ||
                  strncmp(h + MAC_KEY_LEN, calc, MAC_HEX) != 0))
            h = NULL;
        if (!h) {
            res->bad_line = res->count + 1;
            rc = MM_EVERIFY;
            snprintf(res->why, sizeof(res->why),
                     "record %zu is not the one the chain expects (edited, removed, "
                     "reordered, or MACed with another key)", res->bad_line);
            break;
        }
        memcpy(prev, calc, sizeof(prev));
        res->count++;
        if (res->head_present && res->count == res->head_count)
            memcpy(at_head, calc, sizeof(at_head));
    }
    if (rc == 0 && !res->head_present) {
        rc = MM_EVERIFY;
        snprintf(res->why, sizeof(res->why),
                 "no head file %.160s: truncation of the log cannot be ruled out", hp);
    } else if (rc == 0 && res->count < res->head_count) {
        rc = MM_EVERIFY;
        res->truncated = true;
        snprintf(res->why, sizeof(res->why), "truncated: %zu records, the head says %llu",
                 res->count, (unsigned long long)res->head_count);
    } else if (rc == 0 && res->head_count && strcmp(at_head, res->head_last) != 0) {
        rc = MM_EVERIFY;
        snprintf(res->why, sizeof(res->why),
                 "record %llu is not the one the head vouches for (rewritten)",
                 (unsigned long long)res->head_count);
    }
    free(line);
    if (f)
        fclose(f);
    audit_free(a);
    return rc;
}

int mm_audit_verify(const char *path, size_t *count, size_t *bad_line)
{
    mm_audit_verify_result r;
    int rc = mm_audit_verify_ex(path, NULL, &r);
    *count = r.count;
    *bad_line = r.bad_line;
    return rc;
}
