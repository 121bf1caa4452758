/*
 * Capture files: pcap written with libpcap's pcap_dump from frames built
 * here, a pcapng file assembled block by block, and broken files
 * (truncated, huge snaplen, unknown link type, not a capture).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <pcap/pcap.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"
#include "pkt.h"

#define A4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/mm-audit-cap.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void ah4(pkt *p, uint32_t spi, uint32_t seq, uint32_t src)
{
    pkt_payload(p, 20, 0x11);
    wrap_ah(p, 6, spi, seq, 12);
    wrap_ipv4(p, 51, src, A4(10, 0, 0, 2));
}

/* Write frames with pcap_dump; caplen[i] < frame length simulates a snaplen cut. */
static void write_pcap(const char *name, int dlt, const pkt *frames, const size_t *caplen, size_t n)
{
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    pcap_t *dead = pcap_open_dead(dlt, 65535);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr h = {.ts = {.tv_sec = 1700000000 + (long)i}};
        h.len = (bpf_u_int32)frames[i].n;
        h.caplen = (bpf_u_int32)(caplen && caplen[i] ? caplen[i] : frames[i].n);
        pcap_dump((u_char *)d, &h, frames[i].b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static mm_ah_finding *flow(mm_ah_report *r, uint32_t spi)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].source == MM_AH_SRC_PACKET && r->f[i].spi == spi)
            return &r->f[i];
    return NULL;
}

static void test_pcap_flows(void **state)
{
    pkt f[6];
    ah4(&f[0], 0x100, 1, A4(10, 0, 0, 1));
    pkt_payload(&f[1], 30, 0);
    wrap_ipv4(&f[1], 17, A4(10, 0, 0, 1), A4(10, 0, 0, 2)); /* UDP: no AH */
    ah4(&f[2], 0x100, 2, A4(10, 0, 0, 1));
    ah4(&f[3], 0x200, 5, A4(10, 0, 0, 3));
    pkt_payload(&f[4], 30, 0);
    wrap_ipv4(&f[4], 50, A4(10, 0, 0, 1), A4(10, 0, 0, 2)); /* ESP */
    ah4(&f[5], 0x100, 3, A4(10, 0, 0, 1));
    for (int i = 0; i < 6; i++)
        wrap_eth(&f[i], 0x0800, 0);
    write_pcap("flows.pcap", DLT_EN10MB, f, NULL, 6);

    mm_ah_report r;
    mm_ah_report_init(&r);
    mm_ah_capture_opts o = {0};
    assert_int_equal(mm_ah_capture_file(path, &o, &r), 0);
    assert_int_equal(r.frames, 6);
    assert_int_equal(r.frames_bad, 0);
    assert_int_equal(r.n, 2);
    mm_ah_finding *a = flow(&r, 0x100), *b = flow(&r, 0x200);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->first_frame, 1);
    assert_int_equal(a->last_frame, 6);
    assert_int_equal(a->seq_first, 1);
    assert_int_equal(a->seq_last, 3);
    assert_string_equal(a->src, "10.0.0.1");
    assert_string_equal(a->dst, "10.0.0.2");
    assert_int_equal(b->packets, 1);
    assert_string_equal(b->src, "10.0.0.3");
    assert_int_equal(mm_ah_report_status(&r), 1);

    json_t *j = mm_ah_report_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "AH_IN_USE");
    json_t *f0 = json_array_get(json_object_get(j, "findings"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "spi")), "0x00000100");
    assert_non_null(strstr(json_string_value(json_object_get(f0, "recommendation")), "ESP"));
    json_decref(j);
    mm_ah_report_free(&r);
}

static void test_pcap_no_ah(void **state)
{
    pkt f[2];
    pkt_payload(&f[0], 30, 0);
    wrap_ipv4(&f[0], 50, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
    pkt_payload(&f[1], 30, 0);
    wrap_ipv6(&f[1], 50, 1, 2);
    write_pcap("esp.pcap", DLT_RAW, f, NULL, 2);
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_capture_file(path, NULL, &r), 0);
    assert_int_equal(r.frames, 2);
    assert_int_equal(r.n, 0);
    assert_int_equal(mm_ah_report_status(&r), 0);
    mm_ah_report_free(&r);
}

/* Snaplen cuts inside the AH: counted, noted, not an error of the audit. */
static void test_pcap_snapped_frames(void **state)
{
    pkt f[2];
    ah4(&f[0], 0x300, 1, A4(10, 0, 0, 1));
    ah4(&f[1], 0x300, 2, A4(10, 0, 0, 1));
    wrap_sll2(&f[0], 0x0800);
    wrap_sll2(&f[1], 0x0800);
    size_t cap[2] = {20 + 20 + 10, 0};
    write_pcap("snapped.pcap", DLT_LINUX_SLL2, f, cap, 2);
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_capture_file(path, NULL, &r), 0);
    assert_int_equal(r.frames_bad, 1);
    assert_int_equal(r.nnotes, 1);
    assert_non_null(strstr(r.notes[0], "frame 1"));
    assert_non_null(strstr(r.notes[0], "AH header cut short"));
    assert_int_equal(r.n, 1);
    assert_int_equal(r.f[0].packets, 2);
    mm_ah_report_free(&r);
}

static void put32(FILE *fp, uint32_t v) { fwrite(&v, 4, 1, fp); }
static void put16(FILE *fp, uint16_t v) { fwrite(&v, 2, 1, fp); }

/* pcapng: Section Header, Interface Description (LINKTYPE_RAW), Enhanced Packet Blocks. */
static void test_pcapng(void **state)
{
    snprintf(path, sizeof(path), "%s/ng.pcapng", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    put32(fp, 0x0A0D0D0A);
    put32(fp, 28);
    put32(fp, 0x1A2B3C4D);
    put16(fp, 1);
    put16(fp, 0);
    put32(fp, 0xFFFFFFFF);
    put32(fp, 0xFFFFFFFF);
    put32(fp, 28);
    put32(fp, 1);
    put32(fp, 20);
    put16(fp, 101);
    put16(fp, 0);
    put32(fp, 65535);
    put32(fp, 20);
    for (uint32_t i = 0; i < 3; i++) {
        pkt p;
        pkt_payload(&p, 8, 0);
        wrap_ah(&p, 59, 0x400 + (i == 2), i + 1, 12);
        wrap_ipv6(&p, 51, 1, 2);
        uint32_t padded = (uint32_t)((p.n + 3) & ~(size_t)3);
        put32(fp, 6);
        put32(fp, 32 + padded);
        put32(fp, 0);
        put32(fp, 0);
        put32(fp, i);
        put32(fp, (uint32_t)p.n);
        put32(fp, (uint32_t)p.n);
        fwrite(p.b, 1, padded, fp);
        put32(fp, 32 + padded);
    }
    fclose(fp);
    mm_ah_report r;
    mm_ah_report_init(&r);
    mm_ah_capture_opts o = {.progress = true};
    assert_int_equal(mm_ah_capture_file(path, &o, &r), 0);
    assert_int_equal(r.frames, 3);
    assert_int_equal(r.n, 2);
    assert_int_equal(flow(&r, 0x400)->packets, 2);
    assert_int_equal(flow(&r, 0x401)->packets, 1);
    assert_string_equal(flow(&r, 0x401)->src, "fd00::1");
    mm_ah_report_free(&r);
}

static void test_broken_files(void **state)
{
    pkt f[3];
    for (int i = 0; i < 3; i++)
        ah4(&f[i], 0x500, (uint32_t)i, A4(10, 0, 0, 1));
    write_pcap("cut.pcap", DLT_RAW, f, NULL, 3);
    /* Chop the file inside the last record. */
    assert_int_equal(truncate(path, 24 + 2 * (16 + (off_t)f[0].n) + 16 + 10), 0);
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_capture_file(path, NULL, &r), MM_EMALFORMED);
    assert_int_equal(r.nerrors, 1);
    assert_non_null(strstr(r.errors[0], "after frame 2"));
    assert_int_equal(r.n, 1);
    assert_int_equal(r.f[0].packets, 2); /* what was read before the cut still counts */
    assert_int_equal(mm_ah_report_status(&r), 2);
    mm_ah_report_free(&r);

    /* Unknown link type (DLT_USER0). */
    write_pcap("user0.pcap", 147, f, NULL, 1);
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_capture_file(path, NULL, &r), MM_EUNSUPPORTED);
    assert_non_null(strstr(r.errors[0], "link type 147"));
    mm_ah_report_free(&r);

    /* Huge snaplen in the file header and a record claiming 2 GiB. */
    snprintf(path, sizeof(path), "%s/huge.pcap", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    put32(fp, 0xa1b2c3d4);
    put16(fp, 2);
    put16(fp, 4);
    put32(fp, 0);
    put32(fp, 0);
    put32(fp, 0xFFFFFFFF);
    put32(fp, 101);
    put32(fp, 1);
    put32(fp, 0);
    put32(fp, 0x7FFFFFFF);
    put32(fp, 0x7FFFFFFF);
    fwrite(f[0].b, 1, f[0].n, fp);
    fclose(fp);
    mm_ah_report_init(&r);
    assert_true(mm_ah_capture_file(path, NULL, &r) < 0);
    assert_int_equal(r.nerrors, 1);
    assert_int_equal(r.frames, 0);
    mm_ah_report_free(&r);

    /* Not a capture; missing file. */
    snprintf(path, sizeof(path), "%s/text.pcap", dir);
    fp = fopen(path, "w");
    fputs("this is not a capture file\n", fp);
    fclose(fp);
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_capture_file(path, NULL, &r), MM_EMALFORMED);
    assert_non_null(strstr(r.errors[0], "not a readable pcap"));
    mm_ah_report_free(&r);
    mm_ah_report_init(&r);
    snprintf(path, sizeof(path), "%s/missing.pcap", dir);
    assert_int_equal(mm_ah_capture_file(path, NULL, &r), MM_ENOENT);
    assert_int_equal(mm_ah_report_status(&r), 2);
    mm_ah_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_flows),
        cmocka_unit_test(test_pcap_no_ah),
        cmocka_unit_test(test_pcap_snapped_frames),
        cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_broken_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
