/*
 * stream.c - outgoing data of one QUIC stream.
 *
 * ngtcp2 does not copy stream data: it keeps pointers to what it sent until
 * the peer acknowledges it (acked_stream_data_offset), for retransmission.
 * Bytes are therefore appended to fixed-size blocks that are never moved or
 * reallocated, and a block is freed once every byte in it is acknowledged.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "quic_internal.h"

#define BLOCK_SIZE 16384

struct mm_quic_block {
    uint64_t start; /* stream offset of data[0] */
    size_t len;
    struct mm_quic_block *next;
    uint8_t data[BLOCK_SIZE];
};

mm_quic_stream *mm_quic_stream_new(int64_t id, int prio)
{
    mm_quic_stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->id = id;
    s->prio = prio;
    return s;
}

void mm_quic_stream_free(mm_quic_stream *s)
{
    if (s == NULL)
        return;
    mm_quic_block *b = s->head;
    while (b != NULL) {
        mm_quic_block *n = b->next;
        free(b);
        b = n;
    }
    free(s);
}

static mm_quic_block *block_new(uint64_t start)
{
    mm_quic_block *b = malloc(sizeof(*b));
    if (b == NULL)
        return NULL;
    b->start = start;
    b->len = 0;
    b->next = NULL;
    return b;
}

int mm_quic_stream_push(mm_quic_stream *s, const uint8_t *data, size_t len)
{
    MM_ENSURE(!s->fin_queued && !s->shut, MM_ESTATE);
    while (len > 0) {
        if (s->tail == NULL || s->tail->len == BLOCK_SIZE) {
            mm_quic_block *b = block_new(s->queued);
            MM_ENSURE(b != NULL, MM_ENOMEM);
            if (s->tail != NULL)
                s->tail->next = b;
            else
                s->head = b;
            s->tail = b;
        }
        size_t n = BLOCK_SIZE - s->tail->len;
        if (n > len)
            n = len;
        memcpy(s->tail->data + s->tail->len, data, n);
        s->tail->len += n;
        s->queued += n;
        data += n;
        len -= n;
    }
    return 0;
}

bool mm_quic_stream_has_pending(const mm_quic_stream *s)
{
    if (s->shut || s->blocked)
        return false;
    return s->sent < s->queued || (s->fin_queued && !s->fin_sent);
}

size_t mm_quic_stream_pending(const mm_quic_stream *s, ngtcp2_vec *v, size_t n)
{
    size_t k = 0;
    for (const mm_quic_block *b = s->head; b != NULL && k < n; b = b->next) {
        uint64_t end = b->start + b->len;
        if (end <= s->sent)
            continue;
        uint64_t from = s->sent > b->start ? s->sent - b->start : 0;
        v[k].base = (uint8_t *)b->data + from;
        v[k].len = (size_t)(b->len - from);
        k++;
    }
    return k;
}

void mm_quic_stream_sent(mm_quic_stream *s, size_t n)
{
    s->sent += n;
    if (s->sent > s->queued)
        s->sent = s->queued;
}

void mm_quic_stream_acked(mm_quic_stream *s, uint64_t offset, uint64_t len)
{
    /* ngtcp2 reports acknowledgements in order of offset for a stream. */
    uint64_t end = offset + len;
    if (end > s->acked)
        s->acked = end;
    while (s->head != NULL && s->head->start + s->head->len <= s->acked &&
           (s->head->len == BLOCK_SIZE || s->head->next != NULL || s->acked >= s->queued)) {
        mm_quic_block *b = s->head;
        s->head = b->next;
        if (s->tail == b)
            s->tail = NULL;
        free(b);
    }
}
