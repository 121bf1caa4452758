/*
 * mm_buf.h - growable byte buffer with an upper bound.
 *
 * A buffer never grows past its limit: appends that would exceed it fail
 * with MM_ELIMIT and leave the contents unchanged. Contents are wiped on
 * free when the buffer is marked secret.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_BUF_H
#define MAMORI_MM_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_buf {
    uint8_t *data;
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    size_t limit; /* maximum len */
    bool secret;  /* wipe on free/reset */
} mm_buf;

/* Initialise an empty buffer that may grow to limit bytes (no allocation yet). */
void mm_buf_init(mm_buf *b, size_t limit);
void mm_buf_free(mm_buf *b);
/* Empty the buffer, keeping its allocation. */
void mm_buf_reset(mm_buf *b);
/* Make room for n more bytes; MM_ELIMIT or MM_ENOMEM on failure. */
int mm_buf_reserve(mm_buf *b, size_t n);
int mm_buf_append(mm_buf *b, const void *p, size_t n);
int mm_buf_append_str(mm_buf *b, const char *s);
/* Append the decimal digits of v (no printf: on hot paths). */
int mm_buf_append_u64(mm_buf *b, uint64_t v);
int mm_buf_printf(mm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mm_buf_vprintf(mm_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/*
 * Append everything f yields until EOF (the buffer's limit applies:
 * MM_ELIMIT if the stream is longer; MM_EIO on a read error).
 */
int mm_buf_read_stream(mm_buf *b, FILE *f);
/* Drop the first n bytes (n > len drops everything). */
void mm_buf_consume(mm_buf *b, size_t n);
/* Ensure a NUL after the data (not counted in len) and return it as a string. */
const char *mm_buf_cstr(mm_buf *b);

#ifdef __cplusplus
}
#endif
#endif
