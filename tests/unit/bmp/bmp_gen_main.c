/*
 * bmp-gen - write synthetic BMP streams for the daemon tests and the bench.
 *   bmp-gen good N FILE        Initiation, Peer Ups (global, IPv6, Loc-RIB), N Route
 *                              Monitoring, a Stats Report of every registry type,
 *                              Route Mirroring, Peer Down, Termination
 *   bmp-gen bad KIND FILE      one bad message of KIND between two good ones:
 *                              version, short, overcap, truncpeer, trunctlv,
 *                              statsoverrun, garbageupdate
 *   bmp-gen addpath 0 FILE     Add-Path (RFC 7911): Peer Up with Add-Path for IPv4 unicast
 *                              received, Route Monitoring with path ids 1 and 2, the
 *                              peer's IPv6 (no Add-Path) and Adj-RIB-Out (other
 *                              direction) without, a Loc-RIB with path id 9, a Route
 *                              Mirroring of an UPDATE with path ids 1 and 2, Peer Down,
 *                              then the peer without Add-Path
 *   bmp-gen bench N FILE       Initiation, Peer Up, then N messages: 9 of 10 Route
 *                              Monitoring, 1 of 10 Statistics Reports
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp_gen.h"
#include "mamori/mm_core.h"

static uint8_t buf[1 << 16];

static int emit(FILE *f, mm_cursor *w)
{
    if (mm_cursor_error(w) || fwrite(buf, 1, mm_cursor_offset(w), f) != mm_cursor_offset(w))
        return -1;
    mm_cursor_init_write(w, buf, sizeof(buf));
    return 0;
}

static int good_marker(FILE *f, const char *name)
{
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    bmp_gen_initiation(&w, name, "marker");
    return emit(f, &w);
}

static int bad(FILE *f, const char *kind)
{
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, 0, 0, 1);
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    if (good_marker(f, "before-bad") < 0)
        return -1;
    if (strcmp(kind, "version") == 0) {
        bmp_gen_initiation(&w, "v4", "x");
        buf[0] = 4;
    } else if (strcmp(kind, "short") == 0) {
        static const uint8_t h[] = {3, 0, 0, 0, 2, 4};
        mm_cursor_write_bytes(&w, h, sizeof(h));
    } else if (strcmp(kind, "overcap") == 0) {
        /* 2 MiB Route Mirroring (over the 1 MiB cap), really sent: the collector skips it. */
        size_t total = 2u << 20;
        mm_cursor_write_u8(&w, 3);
        mm_cursor_write_u32(&w, (uint32_t)total);
        mm_cursor_write_u8(&w, MM_BMP_ROUTE_MIRRORING);
        if (emit(f, &w) < 0)
            return -1;
        for (size_t left = total - 6; left > 0;) {
            size_t n = left < sizeof(buf) ? left : sizeof(buf);
            memset(buf, 0xab, n);
            if (fwrite(buf, 1, n, f) != n)
                return -1;
            left -= n;
        }
    } else if (strcmp(kind, "truncpeer") == 0) {
        size_t off = mm_bmp_msg_begin(&w, MM_BMP_PEER_UP);
        mm_cursor_write_zeros(&w, 30);
        mm_bmp_msg_finish(&w, off);
    } else if (strcmp(kind, "trunctlv") == 0) {
        size_t off = mm_bmp_msg_begin(&w, MM_BMP_INITIATION);
        mm_cursor_write_u16(&w, 2);
        mm_cursor_write_u16(&w, 200);
        mm_cursor_write_bytes(&w, (const uint8_t *)"r1", 2);
        mm_bmp_msg_finish(&w, off);
    } else if (strcmp(kind, "statsoverrun") == 0) {
        size_t off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
        mm_bmp_peer_hdr_encode(&w, &p);
        mm_cursor_write_u32(&w, 1000000);
        mm_bmp_stat_encode(&w, 7, 5, 0, 0);
        mm_bmp_msg_finish(&w, off);
    } else if (strcmp(kind, "garbageupdate") == 0) {
        size_t off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MONITORING);
        mm_bmp_peer_hdr_encode(&w, &p);
        for (int i = 0; i < 40; i++)
            mm_cursor_write_u8(&w, (uint8_t)(i * 37));
        mm_bmp_msg_finish(&w, off);
    } else {
        fprintf(stderr, "bmp-gen: unknown bad kind %s\n", kind);
        return -1;
    }
    if (emit(f, &w) < 0)
        return -1;
    return good_marker(f, "after-bad");
}

static int good(FILE *f, unsigned n, bool bench)
{
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    mm_bmp_peer_hdr p4, p6, loc;
    bmp_gen_peer(&p4, MM_BMP_PEER_GLOBAL, 0, 1);
    bmp_gen_peer(&p6, MM_BMP_PEER_GLOBAL, MM_BMP_PEER_F_V, 2);
    bmp_gen_peer(&loc, MM_BMP_PEER_LOC_RIB, 0, 0);
    bmp_gen_initiation(&w, "synthetic-router", "mamori bmp-gen");
    bmp_gen_peer_up(&w, &p4, NULL);
    if (!bench) {
        bmp_gen_peer_up(&w, &p6, NULL);
        bmp_gen_peer_up(&w, &loc, "global");
    }
    if (emit(f, &w) < 0)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        if (bench && i % 10 == 9)
            bmp_gen_stats_all(&w, &p4, i);
        else if (i % 2 || bench)
            bmp_gen_route_monitoring_v4(&w, &p4, i % 256);
        else
            bmp_gen_route_monitoring_v6(&w, &p6, i % 256);
        if (emit(f, &w) < 0)
            return -1;
    }
    if (bench)
        return 0;
    bmp_gen_stats_all(&w, &p4, 1000);
    bmp_gen_route_mirroring(&w, &p4);
    bmp_gen_peer_down(&w, &p6, 3);
    bmp_gen_termination(&w, 0);
    return emit(f, &w);
}

static int addpath(FILE *f)
{
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    mm_bmp_peer_hdr in, out, loc;
    bmp_gen_peer(&in, MM_BMP_PEER_GLOBAL, 0, 1);
    bmp_gen_peer(&out, MM_BMP_PEER_GLOBAL, MM_BMP_PEER_F_O, 1);
    bmp_gen_peer(&loc, MM_BMP_PEER_LOC_RIB, 0, 0);
    static const uint32_t ids[] = {1, 2}, loc_id[] = {9};
    bmp_gen_initiation(&w, "addpath-router", "mamori bmp-gen");
    /* The router receives (1), the peer sends (2): Adj-RIB-In of IPv4 unicast has path ids. */
    bmp_gen_peer_up_addpath(&w, &in, NULL, 1, 2);
    bmp_gen_route_monitoring_v4_ap(&w, &in, 7, ids, 2);
    bmp_gen_route_monitoring_v6(&w, &in, 7);
    bmp_gen_route_monitoring_v4(&w, &out, 8);
    /* Loc-RIB (RFC 9069): fabricated OPENs announcing Add-Path both ways. */
    bmp_gen_peer_up_addpath(&w, &loc, "global", 3, 3);
    bmp_gen_route_monitoring_v4_ap(&w, &loc, 9, loc_id, 1);
    /* Route Mirroring of an UPDATE received from that peer: the same path ids. */
    uint8_t rm[512];
    mm_cursor t;
    mm_cursor_init_write(&t, rm, sizeof(rm));
    bmp_gen_route_monitoring_v4_ap(&t, &in, 11, ids, 2);
    size_t hl = MM_BMP_HDR_LEN + MM_BMP_PEER_HDR_LEN;
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MIRRORING);
    mm_bmp_peer_hdr_encode(&w, &in);
    mm_bmp_tlv_encode(&w, MM_BMP_MIRROR_BGP_MSG, rm + hl, mm_cursor_offset(&t) - hl);
    mm_bmp_msg_finish(&w, off);
    bmp_gen_peer_down(&w, &in, 4);
    bmp_gen_peer_up(&w, &in, NULL);
    bmp_gen_route_monitoring_v4(&w, &in, 10);
    return emit(f, &w);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bmp-gen good|bench N FILE | bmp-gen bad KIND FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "wb");
    if (!f)
        return 1;
    int rc;
    if (strcmp(argv[1], "bad") == 0)
        rc = bad(f, argv[2]);
    else if (strcmp(argv[1], "addpath") == 0)
        rc = addpath(f);
    else
        rc = good(f, (unsigned)strtoul(argv[2], NULL, 10), strcmp(argv[1], "bench") == 0);
    if (fclose(f) != 0)
        rc = -1;
    return rc < 0 ? 1 : 0;
}
