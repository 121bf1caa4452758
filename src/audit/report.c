/*
 * report.c - the findings of `mamori audit ah`: collect, aggregate packets
 * per flow (family, addresses, SPI, tunnel depth), print as text or JSON.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"

/* Flows kept per report; more are counted in a note (bounded memory on hostile captures). */
#define MAX_PACKET_FLOWS 4096

const char mm_ah_recommendation[] =
    "AH (RFC 4302) is deprecated by draft-herbert-deprecate-auth-header-00: move this traffic to "
    "ESP (RFC 4303) with an AEAD cipher, or ESP-NULL (RFC 2410 null encryption plus an integrity "
    "algorithm) if confidentiality is not wanted; note that ESP does not protect the outer IP "
    "header fields AH covers";

static const char *const source_names[] = {"packet", "sa", "policy", "config"};
static const char *const verdict_names[] = {"AH_IN_USE", "AH_CONFIGURED"};

void mm_ah_report_init(mm_ah_report *r) { memset(r, 0, sizeof(*r)); }

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void mm_ah_report_free(mm_ah_report *r)
{
    free(r->f);
    strv_free(r->notes, r->nnotes);
    strv_free(r->errors, r->nerrors);
    memset(r, 0, sizeof(*r));
}

int mm_ah_report_add(mm_ah_report *r, const mm_ah_finding *f)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        mm_ah_finding *nf = realloc(r->f, cap * sizeof(*nf));
        if (!nf)
            return MM_ENOMEM;
        r->f = nf;
        r->cap = cap;
    }
    r->f[r->n++] = *f;
    return 0;
}

__attribute__((format(printf, 3, 0))) static void vpush(char ***v, size_t *n, const char *fmt,
                                                      va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return;
    (void)mm_strv_push(v, n, s);
}

void mm_ah_report_note(mm_ah_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(&r->notes, &r->nnotes, fmt, ap);
    va_end(ap);
}

void mm_ah_report_error(mm_ah_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpush(&r->errors, &r->nerrors, fmt, ap);
    va_end(ap);
}

void mm_ah_addr_format(uint8_t family, const uint8_t *addr, char *out, size_t outlen)
{
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, out, (socklen_t)outlen))
        snprintf(out, outlen, "?");
}

static bool same_flow(const mm_ah_finding *f, const char *where, const mm_ah_hit *h,
                      const char *src, const char *dst)
{
    return f->source == MM_AH_SRC_PACKET && f->spi == h->spi && f->family == h->family &&
           f->depth == h->depth && !strcmp(f->src, src) && !strcmp(f->dst, dst) &&
           !strcmp(f->where, where);
}

/* Same flow as the cached hit: compare raw fields, no formatting (the hot path). */
static bool same_as_last(const mm_ah_report *r, const char *where, const mm_ah_hit *h)
{
    const mm_ah_hit *l = &r->last_hit;
    return r->last_packet && r->last_where == where && l->family == h->family &&
           l->spi == h->spi && l->depth == h->depth && !memcmp(l->src, h->src, 16) &&
           !memcmp(l->dst, h->dst, 16);
}

int mm_ah_report_packet(mm_ah_report *r, const char *where, uint64_t frame, const mm_ah_hit *h)
{
    if (same_as_last(r, where, h)) {
        mm_ah_finding *lf = &r->f[r->last_packet - 1];
        lf->packets++;
        lf->last_frame = frame;
        lf->seq_last = h->seq;
        return 0;
    }
    char src[64], dst[64];
    mm_ah_addr_format(h->family, h->src, src, sizeof(src));
    mm_ah_addr_format(h->family, h->dst, dst, sizeof(dst));
    mm_ah_finding *f = NULL;
    /* Captures are bursty per flow: try the last flow first, then all. */
    if (r->last_packet && same_flow(&r->f[r->last_packet - 1], where, h, src, dst))
        f = &r->f[r->last_packet - 1];
    size_t flows = 0;
    for (size_t i = 0; !f && i < r->n; i++) {
        if (r->f[i].source != MM_AH_SRC_PACKET)
            continue;
        flows++;
        if (same_flow(&r->f[i], where, h, src, dst)) {
            f = &r->f[i];
            r->last_packet = i + 1;
        }
    }
    if (!f) {
        if (flows >= MAX_PACKET_FLOWS) {
            if (flows == MAX_PACKET_FLOWS && r->nnotes < 64)
                mm_ah_report_note(r, "%s: more than %d AH flows; further flows not listed", where,
                                  MAX_PACKET_FLOWS);
            return 0;
        }
        mm_ah_finding nf;
        memset(&nf, 0, sizeof(nf));
        nf.source = MM_AH_SRC_PACKET;
        nf.verdict = MM_AH_IN_USE;
        snprintf(nf.where, sizeof(nf.where), "%s", where);
        memcpy(nf.src, src, sizeof(nf.src));
        memcpy(nf.dst, dst, sizeof(nf.dst));
        nf.has_spi = true;
        nf.spi = h->spi;
        nf.family = h->family;
        nf.depth = h->depth;
        nf.first_frame = frame;
        nf.seq_first = h->seq;
        snprintf(nf.detail, sizeof(nf.detail), "IPv%u%s, next header %u, ICV %u octets",
                 h->family, h->depth ? " inside a tunnel" : "", h->next_header, h->icv_len);
        MM_GUARD(mm_ah_report_add(r, &nf));
        f = &r->f[r->n - 1];
        r->last_packet = r->n;
    }
    f->packets++;
    f->last_frame = frame;
    f->seq_last = h->seq;
    r->last_hit = *h;
    r->last_where = where;
    return 0;
}

int mm_ah_report_status(const mm_ah_report *r)
{
    if (r->nerrors)
        return 2;
    return r->n ? 1 : 0;
}

void mm_ah_report_print(const mm_ah_report *r, FILE *out)
{
    for (size_t i = 0; i < r->n; i++) {
        const mm_ah_finding *f = &r->f[i];
        fprintf(out, "%s %s: %s", verdict_names[f->verdict], source_names[f->source], f->where);
        if (f->src[0] || f->dst[0])
            fprintf(out, " %s -> %s", f->src[0] ? f->src : "*", f->dst[0] ? f->dst : "*");
        if (f->has_spi)
            fprintf(out, " spi 0x%08x", f->spi);
        fprintf(out, "\n  %s\n", f->detail);
        if (f->source == MM_AH_SRC_PACKET)
            fprintf(out, "  %llu packets, frames %llu-%llu, seq %u-%u\n",
                    (unsigned long long)f->packets, (unsigned long long)f->first_frame,
                    (unsigned long long)f->last_frame, f->seq_first, f->seq_last);
    }
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(out, "note: %s\n", r->notes[i]);
    for (size_t i = 0; i < r->nerrors; i++)
        fprintf(out, "error: %s\n", r->errors[i]);
    if (r->n)
        fprintf(out, "recommendation: %s.\n", mm_ah_recommendation);
    else if (!r->nerrors)
        fprintf(out, "NO_AH: no Authentication Header use found\n");
    if (r->frames)
        fprintf(out, "frames read: %llu (%llu not fully decoded)\n",
                (unsigned long long)r->frames, (unsigned long long)r->frames_bad);
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

void *mm_ah_report_json(const mm_ah_report *r)
{
    json_t *fs = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const mm_ah_finding *f = &r->f[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "verdict",
                              verdict_names[f->verdict], "source", source_names[f->source], "where",
                              f->where, "src", f->src, "dst", f->dst, "detail", f->detail);
        if (f->has_spi) {
            char spi[16];
            snprintf(spi, sizeof(spi), "0x%08x", f->spi);
            json_object_set_new(o, "spi", json_string(spi));
        }
        if (f->source == MM_AH_SRC_PACKET) {
            json_object_set_new(o, "family", json_integer(f->family));
            json_object_set_new(o, "tunnel_depth", json_integer(f->depth));
            json_object_set_new(o, "packets", json_integer((json_int_t)f->packets));
            json_object_set_new(o, "first_frame", json_integer((json_int_t)f->first_frame));
            json_object_set_new(o, "last_frame", json_integer((json_int_t)f->last_frame));
            json_object_set_new(o, "seq_first", json_integer(f->seq_first));
            json_object_set_new(o, "seq_last", json_integer(f->seq_last));
        }
        json_object_set_new(o, "recommendation", json_string(mm_ah_recommendation));
        json_array_append_new(fs, o);
    }
    const char *verdict = r->n ? "AH_FOUND" : "NO_AH";
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].verdict == MM_AH_IN_USE)
            verdict = "AH_IN_USE";
    if (r->n && strcmp(verdict, "AH_IN_USE"))
        verdict = "AH_CONFIGURED";
    return json_pack("{s:s, s:o, s:o, s:o, s:I, s:I, s:i}", "verdict", verdict, "findings", fs,
                     "notes", strv_json(r->notes, r->nnotes), "errors",
                     strv_json(r->errors, r->nerrors), "frames", (json_int_t)r->frames,
                     "frames_not_decoded", (json_int_t)r->frames_bad, "status",
                     mm_ah_report_status(r));
}
