/* Growable byte buffer with an upper bound. SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"

void mm_buf_init(mm_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit > SIZE_MAX / 4 ? SIZE_MAX / 4 : limit;
}

void mm_buf_free(mm_buf *b)
{
    if (b->data && b->secret)
        OPENSSL_cleanse(b->data, b->cap);
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void mm_buf_reset(mm_buf *b)
{
    if (b->data && b->secret)
        OPENSSL_cleanse(b->data, b->len);
    b->len = 0;
}

int mm_buf_reserve(mm_buf *b, size_t n)
{
    /* +1 keeps room for the NUL of mm_buf_cstr(). */
    if (n > b->limit - b->len)
        return MM_ELIMIT;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->limit + 1)
        cap = b->limit + 1;
    uint8_t *p = malloc(cap);
    if (!p)
        return MM_ENOMEM;
    if (b->data) {
        memcpy(p, b->data, b->len);
        if (b->secret)
            OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int mm_buf_append(mm_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    MM_GUARD(mm_buf_reserve(b, n));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int mm_buf_append_str(mm_buf *b, const char *s) { return mm_buf_append(b, s, strlen(s)); }

int mm_buf_append_u64(mm_buf *b, uint64_t v)
{
    char d[20];
    size_t n = 0;
    do {
        d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return mm_buf_append(b, d + sizeof(d) - n, n);
}

int mm_buf_vprintf(mm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return MM_EINVAL;
    MM_GUARD(mm_buf_reserve(b, (size_t)n));
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int mm_buf_printf(mm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int mm_buf_read_stream(mm_buf *b, FILE *f)
{
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        MM_GUARD(mm_buf_append(b, chunk, n));
    return ferror(f) ? MM_EIO : 0;
}

void mm_buf_consume(mm_buf *b, size_t n)
{
    if (n >= b->len) {
        mm_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    if (b->secret)
        OPENSSL_cleanse(b->data + b->len, n);
}

const char *mm_buf_cstr(mm_buf *b)
{
    if (!b->data && mm_buf_reserve(b, 0) < 0)
        return "";
    b->data[b->len] = '\0';
    return (const char *)b->data;
}

int mm_strv_push(char ***v, size_t *n, char *s)
{
    char **grown = s ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;
    if (!grown) {
        free(s);
        return MM_ENOMEM;
    }
    *v = grown;
    (*v)[(*n)++] = s;
    return 0;
}
