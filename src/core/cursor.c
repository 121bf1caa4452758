/* Bounds-checked cursor with a sticky error. SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"

void mm_cursor_init_read(mm_cursor *c, const uint8_t *p, size_t len)
{
    /* The cast is safe: read functions never write through base. */
    c->base = (uint8_t *)(uintptr_t)p;
    c->len = p ? len : 0;
    c->pos = 0;
    c->err = 0;
}

void mm_cursor_init_write(mm_cursor *c, uint8_t *p, size_t len)
{
    c->base = p;
    c->len = p ? len : 0;
    c->pos = 0;
    c->err = 0;
}

void mm_cursor_fail(mm_cursor *c, int err)
{
    if (c->err == 0)
        c->err = err;
}

/* Reserve n bytes; NULL (and a sticky error) if they are not there. */
static uint8_t *take(mm_cursor *c, size_t n, int err)
{
    if (c->err)
        return NULL;
    if (n > c->len - c->pos) {
        c->err = err;
        return NULL;
    }
    uint8_t *p = c->base + c->pos;
    c->pos += n;
    return p;
}

static uint64_t read_be(mm_cursor *c, size_t n)
{
    const uint8_t *p = take(c, n, MM_ETRUNC);
    uint64_t v = 0;
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

uint8_t mm_cursor_read_u8(mm_cursor *c) { return (uint8_t)read_be(c, 1); }
uint16_t mm_cursor_read_u16(mm_cursor *c) { return (uint16_t)read_be(c, 2); }
uint32_t mm_cursor_read_u24(mm_cursor *c) { return (uint32_t)read_be(c, 3); }
uint32_t mm_cursor_read_u32(mm_cursor *c) { return (uint32_t)read_be(c, 4); }
uint64_t mm_cursor_read_u64(mm_cursor *c) { return read_be(c, 8); }

void mm_cursor_read_bytes(mm_cursor *c, uint8_t *out, size_t n)
{
    const uint8_t *p = take(c, n, MM_ETRUNC);
    if (p)
        memcpy(out, p, n);
    else if (out && n)
        memset(out, 0, n);
}

void mm_cursor_skip(mm_cursor *c, size_t n) { (void)take(c, n, MM_ETRUNC); }

void mm_cursor_sub(mm_cursor *c, size_t n, mm_cursor *sub)
{
    const uint8_t *p = take(c, n, MM_ETRUNC);
    mm_cursor_init_read(sub, p, p ? n : 0);
    if (!p)
        sub->err = MM_ETRUNC;
}

static void write_be(mm_cursor *c, uint64_t v, size_t n)
{
    uint8_t *p = take(c, n, MM_ESPACE);
    if (!p)
        return;
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

void mm_cursor_write_u8(mm_cursor *c, uint8_t v) { write_be(c, v, 1); }
void mm_cursor_write_u16(mm_cursor *c, uint16_t v) { write_be(c, v, 2); }
void mm_cursor_write_u24(mm_cursor *c, uint32_t v) { write_be(c, v & 0xFFFFFF, 3); }
void mm_cursor_write_u32(mm_cursor *c, uint32_t v) { write_be(c, v, 4); }
void mm_cursor_write_u64(mm_cursor *c, uint64_t v) { write_be(c, v, 8); }

void mm_cursor_write_bytes(mm_cursor *c, const uint8_t *p, size_t n)
{
    uint8_t *d = take(c, n, MM_ESPACE);
    if (d && n)
        memcpy(d, p, n);
}

void mm_cursor_write_zeros(mm_cursor *c, size_t n)
{
    uint8_t *d = take(c, n, MM_ESPACE);
    if (d && n)
        memset(d, 0, n);
}
