/*
 * mm_cursor.h - bounds-checked reader/writer over a byte span.
 *
 * The error is sticky: after the first failed read or write every further
 * operation is a no-op (reads yield zeros), so a parser can read ten fields
 * and check mm_cursor_error() once. All integers are big-endian (network
 * order). Every wire parser in mamori reads untrusted bytes through this.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_CURSOR_H
#define MAMORI_MM_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_cursor {
    uint8_t *base;  /* start of the span (writable for writers) */
    size_t len;     /* length of the span */
    size_t pos;     /* offset of the next byte */
    int err;        /* 0 or the first MM_E* error */
} mm_cursor;

/* A reader over len bytes at p (p is never written through). */
void mm_cursor_init_read(mm_cursor *c, const uint8_t *p, size_t len);
/* A writer over len bytes at p. */
void mm_cursor_init_write(mm_cursor *c, uint8_t *p, size_t len);

static inline size_t mm_cursor_remaining(const mm_cursor *c) { return c->err ? 0 : c->len - c->pos; }
static inline size_t mm_cursor_offset(const mm_cursor *c) { return c->pos; }
static inline int mm_cursor_error(const mm_cursor *c) { return c->err; }
/* Pointer to the next unread byte (valid for mm_cursor_remaining() bytes). */
static inline const uint8_t *mm_cursor_ptr(const mm_cursor *c) { return c->base + c->pos; }

/* Set the sticky error (keeps the first one). */
void mm_cursor_fail(mm_cursor *c, int err);

uint8_t mm_cursor_read_u8(mm_cursor *c);
uint16_t mm_cursor_read_u16(mm_cursor *c);
uint32_t mm_cursor_read_u24(mm_cursor *c);
uint32_t mm_cursor_read_u32(mm_cursor *c);
uint64_t mm_cursor_read_u64(mm_cursor *c);
/* Copy n bytes out; on error out is zero-filled. */
void mm_cursor_read_bytes(mm_cursor *c, uint8_t *out, size_t n);
void mm_cursor_skip(mm_cursor *c, size_t n);
/*
 * Take the next n bytes as a sub-reader and advance past them. If fewer than
 * n remain, both the parent and the sub-cursor get MM_ETRUNC.
 */
void mm_cursor_sub(mm_cursor *c, size_t n, mm_cursor *sub);

void mm_cursor_write_u8(mm_cursor *c, uint8_t v);
void mm_cursor_write_u16(mm_cursor *c, uint16_t v);
void mm_cursor_write_u24(mm_cursor *c, uint32_t v);
void mm_cursor_write_u32(mm_cursor *c, uint32_t v);
void mm_cursor_write_u64(mm_cursor *c, uint64_t v);
void mm_cursor_write_bytes(mm_cursor *c, const uint8_t *p, size_t n);
void mm_cursor_write_zeros(mm_cursor *c, size_t n);

#ifdef __cplusplus
}
#endif
#endif
