/*
 * canon.c - header and body canonicalization (RFC 6376 3.4).
 *
 * The body canonicalizer is a small state machine fed in chunks of any size:
 * trailing empty lines are only counted (pending_nl) and emitted when content
 * follows, so the body is never held. A bare LF is taken as a line end (mail
 * read from a Unix file); a CR not followed by LF is content.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mamori/mm_dkim.h"

static bool is_wsp(uint8_t c) { return c == ' ' || c == '\t'; }

int mm_dkim_canon_header(enum mm_dkim_canon c, const uint8_t *field, size_t len, bool crlf,
                         mm_buf *out)
{
    if (c == MM_DKIM_SIMPLE) {
        MM_GUARD(mm_buf_append(out, field, len));
        return crlf ? mm_buf_append(out, "\r\n", 2) : 0;
    }
    const uint8_t *colon = memchr(field, ':', len);
    if (!colon)
        return MM_EMALFORMED;
    size_t nlen = (size_t)(colon - field);
    /* 3.4.2: lowercase name, no WSP before the colon */
    while (nlen && (is_wsp(field[nlen - 1]) || field[nlen - 1] == '\r' || field[nlen - 1] == '\n'))
        nlen--;
    MM_GUARD(mm_buf_reserve(out, len + 3));
    for (size_t i = 0; i < nlen; i++) {
        uint8_t ch = field[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (uint8_t)(ch + 32);
        out->data[out->len++] = ch;
    }
    out->data[out->len++] = ':';
    /* value: unfold, collapse WSP runs, drop WSP at both ends */
    bool wsp = false, any = false;
    for (const uint8_t *p = colon + 1; p < field + len; p++) {
        uint8_t ch = *p;
        if (ch == '\r' || ch == '\n')
            continue;
        if (is_wsp(ch)) {
            wsp = true;
            continue;
        }
        if (wsp && any)
            out->data[out->len++] = ' ';
        wsp = false;
        any = true;
        out->data[out->len++] = ch;
    }
    if (crlf) {
        out->data[out->len++] = '\r';
        out->data[out->len++] = '\n';
    }
    return 0;
}

/* ---------------------------------------------------------------- body */

static void flush(mm_dkim_body *b)
{
    if (b->blen && b->sink)
        b->sink(b->arg, b->buf, b->blen);
    b->blen = 0;
}

static inline void put(mm_dkim_body *b, uint8_t ch)
{
    if (b->blen == sizeof(b->buf))
        flush(b);
    b->buf[b->blen++] = ch;
    b->out++;
}

static void put_pending_lines(mm_dkim_body *b)
{
    for (; b->pending_nl; b->pending_nl--) {
        put(b, '\r');
        put(b, '\n');
    }
}

void mm_dkim_body_init(mm_dkim_body *b, enum mm_dkim_canon c, mm_dkim_sink_fn sink, void *arg)
{
    memset(b, 0, sizeof(*b));
    b->c = c;
    b->sink = sink;
    b->arg = arg;
}

static void content(mm_dkim_body *b, uint8_t ch)
{
    if (!b->line_open)
        put_pending_lines(b);
    if (b->pending_wsp) {
        put(b, ' ');
        b->pending_wsp = false;
    }
    put(b, ch);
    b->line_open = true;
}

static void line_end(mm_dkim_body *b)
{
    b->pending_wsp = false; /* relaxed: WSP at line end is deleted */
    if (b->line_open) {
        put(b, '\r');
        put(b, '\n');
        b->line_open = false;
    } else {
        b->pending_nl++; /* an empty line: emitted only if content follows */
    }
}

/*
 * The hot loop: state lives in locals, ordinary octets cost a compare and a
 * store; only empty-line runs and buffer flushes leave the loop. Semantics are
 * those of content()/line_end() above (the chunking tests hold both to it).
 */
#if defined(__SSE2__)
/*
 * With the line open and no WSP pending, the longest prefix of p (in 16-octet
 * blocks) that canonicalization leaves unchanged: for relaxed, octets > SP and
 * single SPs followed by such an octet; for simple, anything but CR and LF.
 * Ordinary prose is mostly that, so it is copied without per-octet work.
 */
static size_t verbatim_prefix(const uint8_t *p, size_t avail, bool relaxed)
{
    const __m128i sp = _mm_set1_epi8(' '), lo = _mm_set1_epi8(0x21);
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    size_t done = 0;
    while (avail - done >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + done));
        unsigned bad;
        if (relaxed) {
            unsigned ord = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, lo), v));
            unsigned spc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp));
            /* bad: neither ordinary nor SP, or an SP not followed by an ordinary octet */
            bad = (~(ord | spc) & 0xffffu) | (spc & ~(ord >> 1) & 0xffffu);
        } else {
            bad = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
        }
        if (bad)
            return done + (size_t)__builtin_ctz(bad);
        done += 16;
    }
    return done;
}
#endif

void mm_dkim_body_update(mm_dkim_body *b, const uint8_t *p, size_t n)
{
    const bool relaxed = b->c == MM_DKIM_RELAXED;
    size_t i = 0;
    if (n && b->pending_cr) {
        b->pending_cr = false;
        if (p[0] == '\n') {
            line_end(b);
            i = 1;
        } else {
            content(b, '\r');
        }
    }
    uint8_t *buf = b->buf;
    const size_t cap = sizeof(b->buf) - 2; /* room for a pair (SP + octet, CR LF) */
    size_t blen = b->blen;
    uint64_t out = b->out - blen; /* octets emitted before buf[0]; + blen at the end */
    /* one test on the hot path: bit 1 = line not open, bit 2 = a WSP run is pending */
    unsigned st = (b->line_open ? 0u : 1u) | (b->pending_wsp ? 2u : 0u);
    for (; i < n; i++) {
#if defined(__SSE2__)
        if (st == 0 && n - i >= 16) {
            size_t k = verbatim_prefix(p + i, n - i, relaxed);
            while (k) {
                size_t room = sizeof(b->buf) - blen;
                if (room == 0) {
                    b->blen = blen;
                    flush(b);
                    out += blen;
                    blen = 0;
                    room = sizeof(b->buf);
                }
                size_t take = k < room ? k : room;
                memcpy(buf + blen, p + i, take);
                blen += take;
                i += take;
                k -= take;
            }
            if (blen >= cap) {
                b->blen = blen;
                flush(b);
                out += blen;
                blen = 0;
            }
            if (i >= n)
                break;
        }
#endif
        uint8_t c = p[i];
        if (__builtin_expect(c <= ' ', 0)) {
            if (c == '\n') {
                if (!(st & 1u)) {
                    buf[blen++] = '\r';
                    buf[blen++] = '\n';
                } else {
                    b->pending_nl++;
                }
                st = 1u;
                goto room;
            }
            if (relaxed && (c == ' ' || c == '\t')) {
                st |= 2u;
                continue;
            }
            if (c == '\r') {
                if (i + 1 == n) {
                    b->pending_cr = true; /* decided by the next chunk */
                    break;
                }
                if (p[i + 1] == '\n')
                    continue; /* CRLF: the LF ends the line */
            }
        }
        /* an ordinary octet (or a bare CR, which is content) */
        if (__builtin_expect(st != 0, 0)) {
            if ((st & 1u) && b->pending_nl) {
                b->blen = blen;
                b->out = out + blen;
                put_pending_lines(b);
                blen = b->blen;
                out = b->out - blen;
            }
            if (st & 2u)
                buf[blen++] = ' ';
            st = 0;
        }
        buf[blen++] = c;
    room:
        if (__builtin_expect(blen >= cap, 0)) {
            b->blen = blen;
            flush(b);
            out += blen;
            blen = 0;
        }
    }
    b->blen = blen;
    b->out = out + blen;
    b->pending_wsp = (st & 2u) != 0;
    b->line_open = (st & 1u) == 0;
}

void mm_dkim_body_final(mm_dkim_body *b)
{
    if (b->pending_cr) {
        b->pending_cr = false;
        content(b, '\r');
    }
    b->pending_wsp = false;
    if (b->line_open) {
        /* a last line without CRLF gets one (3.4.3, 3.4.4) */
        put(b, '\r');
        put(b, '\n');
        b->line_open = false;
    }
    /* 3.4.3: an empty simple body is one CRLF; relaxed empty body stays empty. */
    if (b->c == MM_DKIM_SIMPLE && b->out == 0) {
        put(b, '\r');
        put(b, '\n');
    }
    b->pending_nl = 0;
    flush(b);
}
