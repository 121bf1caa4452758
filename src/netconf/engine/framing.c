/*
 * framing.c - RFC 6242 message framing: end-of-message (section 4.3) and
 * chunked (section 4.2), incremental over arbitrary splits of the input.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_netconf.h"

#define EOM_MARK "]]>]]>"
#define EOM_LEN 6
#define CHUNK_SIZE_MAX 4294967295ull
/* Room for a chunk header or a delimiter beyond the message itself. */
#define FRAMER_SLACK 64

/* Chunked decoder states (RFC 6242 section 4.2 ABNF). */
enum {
    FS_LF = 0,   /* expect LF: start of a chunk or of end-of-chunks */
    FS_HASH,     /* expect HASH */
    FS_SIZE1,    /* expect DIGIT1, or HASH of end-of-chunks */
    FS_SIZE,     /* expect DIGIT or the LF ending chunk-size */
    FS_DATA,     /* chunk_left octets of chunk-data */
    FS_END_LF,   /* "\n##" seen, expect LF */
    FS_READY,    /* a message was returned; reset before decoding more */
};

void mm_nc_framer_init(mm_nc_framer *f, size_t max_message)
{
    memset(f, 0, sizeof(*f));
    f->max_message = max_message ? max_message : MM_NC_DEFAULT_MAX_MESSAGE;
    f->mode = MM_NC_FRAMING_EOM;
    mm_buf_init(&f->in, f->max_message + FRAMER_SLACK);
    mm_buf_init(&f->msg, f->max_message);
}

void mm_nc_framer_free(mm_nc_framer *f)
{
    mm_buf_free(&f->in);
    mm_buf_free(&f->msg);
}

void mm_nc_framer_set_mode(mm_nc_framer *f, enum mm_nc_framing mode)
{
    f->mode = mode;
    f->state = FS_LF;
    f->chunk_left = 0;
    mm_buf_reset(&f->msg);
}

size_t mm_nc_framer_room(const mm_nc_framer *f)
{
    return f->err ? 0 : f->in.limit - f->in.len;
}

int mm_nc_framer_push(mm_nc_framer *f, const uint8_t *data, size_t len)
{
    if (f->err)
        return f->err;
    /* Not sticky: the caller may drain messages with next() and retry. */
    if (len > mm_nc_framer_room(f))
        return MM_ELIMIT;
    return mm_buf_append(&f->in, data, len);
}

static int framer_fail(mm_nc_framer *f, int err)
{
    f->err = err;
    return err;
}

/* EOM: the message is everything before the first "]]>]]>". */
static int eom_next(mm_nc_framer *f)
{
    size_t from = (size_t)f->chunk_left; /* scan position kept across calls */
    const uint8_t *hit = NULL;
    if (f->in.len >= EOM_LEN && from <= f->in.len - EOM_LEN)
        hit = memmem(f->in.data + from, f->in.len - from, EOM_MARK, EOM_LEN);
    if (!hit) {
        if (f->in.len > f->max_message + EOM_LEN - 1)
            return framer_fail(f, MM_ELIMIT);
        f->chunk_left = f->in.len >= EOM_LEN ? f->in.len - (EOM_LEN - 1) : 0;
        return 0;
    }
    size_t n = (size_t)(hit - f->in.data);
    if (n > f->max_message)
        return framer_fail(f, MM_ELIMIT);
    int rc = mm_buf_append(&f->msg, f->in.data, n);
    if (rc < 0)
        return framer_fail(f, rc);
    mm_buf_consume(&f->in, n + EOM_LEN);
    f->chunk_left = 0;
    return 1;
}

/* One header octet of the chunked grammar; 1 when the message is complete. */
static int chunk_header_octet(mm_nc_framer *f, uint8_t b)
{
    switch (f->state) {
    case FS_LF:
        MM_ENSURE(b == '\n', framer_fail(f, MM_EMALFORMED));
        f->state = FS_HASH;
        return 0;
    case FS_HASH:
        MM_ENSURE(b == '#', framer_fail(f, MM_EMALFORMED));
        f->state = FS_SIZE1;
        return 0;
    case FS_SIZE1:
        if (b == '#') {
            /* end-of-chunks: only after at least one chunk (1*chunk). */
            MM_ENSURE(f->msg.len > 0, framer_fail(f, MM_EMALFORMED));
            f->state = FS_END_LF;
            return 0;
        }
        MM_ENSURE(b >= '1' && b <= '9', framer_fail(f, MM_EMALFORMED));
        f->chunk_left = (uint64_t)(b - '0');
        f->state = FS_SIZE;
        return 0;
    case FS_SIZE:
        if (b == '\n') {
            MM_ENSURE(f->chunk_left <= f->max_message - f->msg.len, framer_fail(f, MM_ELIMIT));
            f->state = FS_DATA;
            return 0;
        }
        MM_ENSURE(b >= '0' && b <= '9', framer_fail(f, MM_EMALFORMED));
        f->chunk_left = f->chunk_left * 10 + (uint64_t)(b - '0');
        MM_ENSURE(f->chunk_left <= CHUNK_SIZE_MAX, framer_fail(f, MM_EMALFORMED));
        return 0;
    case FS_END_LF:
        MM_ENSURE(b == '\n', framer_fail(f, MM_EMALFORMED));
        return 1;
    default:
        return framer_fail(f, MM_ESTATE);
    }
}

static int chunked_next(mm_nc_framer *f)
{
    mm_cursor c;
    mm_cursor_init_read(&c, f->in.data, f->in.len);
    int rc = 0;
    while (rc == 0 && mm_cursor_remaining(&c) > 0) {
        if (f->state != FS_DATA) {
            rc = chunk_header_octet(f, mm_cursor_read_u8(&c));
            continue;
        }
        size_t n = mm_cursor_remaining(&c);
        if (n > f->chunk_left)
            n = (size_t)f->chunk_left;
        rc = mm_buf_append(&f->msg, mm_cursor_ptr(&c), n);
        if (rc < 0)
            return framer_fail(f, rc);
        mm_cursor_skip(&c, n);
        f->chunk_left -= n;
        if (f->chunk_left == 0)
            f->state = FS_LF;
    }
    mm_buf_consume(&f->in, mm_cursor_offset(&c));
    return rc;
}

int mm_nc_framer_next(mm_nc_framer *f, const char **msg, size_t *len)
{
    if (f->err)
        return f->err;
    if (f->state == FS_READY) {
        mm_buf_reset(&f->msg);
        f->state = FS_LF;
    }
    int rc = f->mode == MM_NC_FRAMING_EOM ? eom_next(f) : chunked_next(f);
    if (rc <= 0)
        return rc;
    f->state = FS_READY;
    *msg = mm_buf_cstr(&f->msg);
    *len = f->msg.len;
    return 1;
}

static int frame_chunked(const char *msg, size_t len, mm_buf *out)
{
    MM_ENSURE(len > 0, MM_EINVAL); /* chunk-data is 1*OCTET */
    while (len > 0) {
        size_t n = len > CHUNK_SIZE_MAX ? (size_t)CHUNK_SIZE_MAX : len;
        MM_GUARD(mm_buf_append(out, "\n#", 2));
        MM_GUARD(mm_buf_append_u64(out, n));
        MM_GUARD(mm_buf_append(out, "\n", 1));
        MM_GUARD(mm_buf_append(out, msg, n));
        msg += n;
        len -= n;
    }
    return mm_buf_append(out, "\n##\n", 4);
}

int mm_nc_frame(enum mm_nc_framing mode, const char *msg, size_t len, mm_buf *out)
{
    if (mode == MM_NC_FRAMING_CHUNKED)
        return frame_chunked(msg, len, out);
    /* A delimiter inside the message would end it early (injection). */
    MM_ENSURE(!memmem(msg, len, EOM_MARK, EOM_LEN), MM_EINVAL);
    MM_GUARD(mm_buf_append(out, msg, len));
    return mm_buf_append(out, EOM_MARK, EOM_LEN);
}
