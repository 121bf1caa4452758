/*
 * bmp.c - `mamori bmp`: decode BMP captures (raw streams or pcap files, TCP
 * reassembled) to the collector's JSON Lines, show the statistics and peers
 * from a mamori-bmpd store, and replay a capture to a collector.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/err.h>
#include <sqlite3.h>

#include "cli.h"
#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"

#define NOUN "bmp"
#define READ_CHUNK 65536

static void bmp_help(void)
{
    puts("usage: mamori bmp COMMAND [options]\n"
         "\n"
         "BGP Monitoring Protocol (RFC 7854, 8671, 9069) tools.\n"
         "\n"
         "commands:\n"
         "  decode FILE [--max-msg N]\n"
         "      decode a raw BMP byte stream or a pcap capture (TCP reassembled) and print\n"
         "      the collector's JSON Lines; a summary goes to stderr\n"
         "  stats --db FILE | --pg CONNINFO [--json]\n"
         "      latest value of every statistic per router and peer from a mamori-bmpd store\n"
         "      (SQLite file, or the PostgreSQL store several collectors share)\n"
         "  peers --db FILE | --pg CONNINFO [--json]\n"
         "      routers and their monitored peers with state and up/down counts\n"
         "  types [--json]\n"
         "      the statistics registry: type, kind, name, description\n"
         "  replay FILE --to HOST:PORT [--rate N] [--linger MS] [--from ADDR]\n"
         "      send a raw BMP stream to a collector; --rate N sends N messages per second\n"
         "      (framed by the BMP length), otherwise the bytes go as fast as possible;\n"
         "      --linger keeps the connection open MS milliseconds after the last byte;\n"
         "      --from binds the source address\n"
         "      --tls [--pki-dir DIR] [--ca F] [--cert F] [--key F] speaks TLS 1.3 to a\n"
         "      collector's TLS listener with a client certificate (default: the PKI's\n"
         "      ca.crt, client.crt, client.key; --pki-dir default $MM_PKI_DIR or ./var/pki)\n"
         "\n"
         "Exit status: 0 ok, 1 failure (including messages that did not decode), 2 usage.");
}

/* ---------------------------------------------------------------- decode */

struct decode_state {
    mm_bmp_json_ctx ctx;
    size_t max_msg;
    uint64_t messages, errors, lines;
    bool fatal;
    mm_buf out;
    mm_bmp_addpath *ap; /* of the raw stream (pcap: each flow has its own) */
};

/* Decode every complete message at the front of in; framing errors stop the stream. */
static void decode_buf(struct decode_state *st, mm_buf *in, const char *router, uint16_t port,
                       mm_bmp_addpath **ap)
{
    st->ctx.router = router;
    st->ctx.router_port = port;
    size_t off = 0;
    while (!st->fatal) {
        uint32_t len;
        uint8_t type;
        int rc = mm_bmp_hdr_peek(in->data + off, in->len - off, st->max_msg, &len, &type);
        if (rc == MM_EAGAIN)
            break;
        if (rc < 0) {
            fprintf(stderr, "mamori bmp: %s at offset %zu: %s\n", router, off,
                    rc == MM_EUNSUPPORTED ? "unsupported BMP version"
                    : rc == MM_ELIMIT     ? "message over the size cap"
                                          : "message length below the common header");
            st->errors++;
            st->fatal = true;
            break;
        }
        if (in->len - off < len)
            break;
        mm_bmp_msg m;
        st->messages++;
        int n;
        if (mm_bmp_msg_decode_ap(in->data + off, len, *ap, &m) < 0) {
            st->errors++;
            n = mm_bmp_json_render_error(&st->ctx, in->data + off, len, m.error, &st->out);
        } else {
            /* RFC 7911: Peer Up's OPENs say which peers' NLRI carry path ids. */
            if (m.type == MM_BMP_PEER_UP && !*ap)
                *ap = mm_bmp_addpath_new(0);
            if (*ap && mm_bmp_addpath_learn(*ap, &m) < 0)
                fprintf(stderr, "mamori bmp: %s: Add-Path state of a peer not kept\n", router);
            st->ctx.ap = *ap;
            n = mm_bmp_json_render(&st->ctx, &m, &st->out);
        }
        if (n > 0)
            st->lines += (uint64_t)n;
        off += len;
        if (st->out.len > (1u << 20)) {
            fwrite(st->out.data, 1, st->out.len, stdout);
            mm_buf_reset(&st->out);
        }
    }
    mm_buf_consume(in, off);
}

static int decode_raw(FILE *f, struct decode_state *st)
{
    mm_buf in;
    mm_buf_init(&in, st->max_msg + READ_CHUNK);
    uint8_t chunk[READ_CHUNK];
    size_t n;
    while (!st->fatal && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (mm_buf_append(&in, chunk, n) < 0) {
            st->fatal = true;
            break;
        }
        decode_buf(st, &in, "file", 0, &st->ap);
    }
    if (!st->fatal && in.len) {
        fprintf(stderr, "mamori bmp: %zu trailing bytes (truncated message)\n", in.len);
        st->errors++;
    }
    mm_buf_free(&in);
    return 0;
}

/* pcap (libpcap format, microsecond or nanosecond), TCP flows reassembled in order. */
#define PCAP_MAX_FLOWS 256

struct flow {
    uint8_t src[16], dst[16];
    int af;
    uint16_t sport, dport;
    uint32_t next_seq;
    bool have_seq, broken;
    char router[INET6_ADDRSTRLEN];
    mm_buf data;
    mm_bmp_addpath *ap;
};

static uint32_t rd32(const uint8_t *p, bool swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swap ? __builtin_bswap32(v) : v;
}

static struct flow *flow_get(struct flow *flows, size_t *n, int af, const uint8_t *src,
                             const uint8_t *dst, uint16_t sport, uint16_t dport, size_t max_msg)
{
    size_t alen = af == AF_INET ? 4 : 16;
    for (size_t i = 0; i < *n; i++)
        if (flows[i].af == af && flows[i].sport == sport && flows[i].dport == dport &&
            !memcmp(flows[i].src, src, alen) && !memcmp(flows[i].dst, dst, alen))
            return &flows[i];
    if (*n == PCAP_MAX_FLOWS)
        return NULL;
    struct flow *fl = &flows[(*n)++];
    memset(fl, 0, sizeof(*fl));
    fl->af = af;
    memcpy(fl->src, src, alen);
    memcpy(fl->dst, dst, alen);
    fl->sport = sport;
    fl->dport = dport;
    inet_ntop(af, src, fl->router, sizeof(fl->router));
    mm_buf_init(&fl->data, max_msg + READ_CHUNK);
    return fl;
}

/* One captured frame: link header, IPv4/IPv6, TCP; payload appended to its flow. */
static void pcap_packet(const uint8_t *p, size_t caplen, uint32_t linktype, struct flow *flows,
                        size_t *nflows, struct decode_state *st)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, caplen);
    uint16_t ethertype = 0;
    switch (linktype) {
    case 1: /* Ethernet */
        mm_cursor_skip(&c, 12);
        ethertype = mm_cursor_read_u16(&c);
        while (ethertype == 0x8100) { /* VLAN tags */
            mm_cursor_skip(&c, 2);
            ethertype = mm_cursor_read_u16(&c);
        }
        break;
    case 113: /* Linux cooked v1 */
        mm_cursor_skip(&c, 14);
        ethertype = mm_cursor_read_u16(&c);
        break;
    case 276: /* Linux cooked v2 */
        ethertype = mm_cursor_read_u16(&c);
        mm_cursor_skip(&c, 18);
        break;
    case 0: { /* BSD loopback: host-order address family */
        uint32_t fam = mm_cursor_read_u32(&c);
        ethertype = (fam == 2 || fam == 0x02000000) ? 0x0800 : 0x86dd;
        break;
    }
    case 101:
    case 12: /* raw IP */
        ethertype = caplen && (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
        break;
    default:
        return;
    }
    uint8_t src[16] = {0}, dst[16] = {0};
    int af;
    size_t ip_payload;
    if (ethertype == 0x0800) {
        uint8_t vihl = mm_cursor_read_u8(&c);
        mm_cursor_skip(&c, 1);
        uint16_t total = mm_cursor_read_u16(&c);
        mm_cursor_skip(&c, 5);
        uint8_t proto = mm_cursor_read_u8(&c);
        mm_cursor_skip(&c, 2);
        mm_cursor_read_bytes(&c, src, 4);
        mm_cursor_read_bytes(&c, dst, 4);
        size_t ihl = (size_t)(vihl & 15) * 4;
        if (mm_cursor_error(&c) || proto != 6 || ihl < 20 || total < ihl)
            return;
        mm_cursor_skip(&c, ihl - 20);
        ip_payload = total - ihl;
        af = AF_INET;
    } else if (ethertype == 0x86dd) {
        mm_cursor_skip(&c, 4);
        ip_payload = mm_cursor_read_u16(&c);
        uint8_t nh = mm_cursor_read_u8(&c);
        mm_cursor_skip(&c, 1);
        mm_cursor_read_bytes(&c, src, 16);
        mm_cursor_read_bytes(&c, dst, 16);
        if (mm_cursor_error(&c) || nh != 6) /* extension headers are not followed */
            return;
        af = AF_INET6;
    } else {
        return;
    }
    mm_cursor tcp;
    mm_cursor_sub(&c, ip_payload < mm_cursor_remaining(&c) ? ip_payload : mm_cursor_remaining(&c),
                  &tcp);
    uint16_t sport = mm_cursor_read_u16(&tcp), dport = mm_cursor_read_u16(&tcp);
    uint32_t seq = mm_cursor_read_u32(&tcp);
    mm_cursor_skip(&tcp, 4);
    uint8_t off = mm_cursor_read_u8(&tcp);
    uint8_t flags = mm_cursor_read_u8(&tcp);
    size_t thl = (size_t)(off >> 4) * 4;
    if (mm_cursor_error(&tcp) || thl < 20)
        return;
    mm_cursor_skip(&tcp, thl - 14);
    if (mm_cursor_error(&tcp))
        return;
    size_t plen = mm_cursor_remaining(&tcp);
    struct flow *fl = flow_get(flows, nflows, af, src, dst, sport, dport, st->max_msg);
    if (!fl || fl->broken)
        return;
    if (flags & 0x02) { /* SYN consumes one sequence number */
        fl->next_seq = seq + 1;
        fl->have_seq = true;
        return;
    }
    if (plen == 0)
        return;
    if (!fl->have_seq) {
        fl->next_seq = seq;
        fl->have_seq = true;
    }
    int32_t delta = (int32_t)(seq - fl->next_seq);
    if (delta > 0) { /* a gap (lost segment in the capture): this flow cannot be decoded further */
        fprintf(stderr, "mamori bmp: %s:%u: %d bytes missing in the capture, flow abandoned\n",
                fl->router, sport, delta);
        fl->broken = true;
        st->errors++;
        return;
    }
    size_t skip = (size_t)(-delta); /* retransmitted bytes already seen */
    if (skip >= plen)
        return;
    if (mm_buf_append(&fl->data, mm_cursor_ptr(&tcp) + skip, plen - skip) < 0) {
        fl->broken = true;
        return;
    }
    fl->next_seq += (uint32_t)(plen - skip);
    bool fatal_before = st->fatal;
    decode_buf(st, &fl->data, fl->router, sport, &fl->ap);
    if (st->fatal && !fatal_before) {
        fl->broken = true; /* only this flow stops */
        st->fatal = false;
    }
}

static int decode_pcap(FILE *f, struct decode_state *st)
{
    uint8_t gh[24];
    if (fread(gh, 1, sizeof(gh), f) != sizeof(gh))
        return mm_cli_fail(NOUN, "decode: truncated pcap header");
    uint32_t magic = rd32(gh, false);
    bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    uint32_t linktype = rd32(gh + 20, swap) & 0xffff;
    struct flow *flows = calloc(PCAP_MAX_FLOWS, sizeof(*flows));
    if (!flows)
        return mm_cli_fail(NOUN, "decode: out of memory");
    size_t nflows = 0;
    uint8_t *pkt = malloc(262144);
    uint8_t rh[16];
    while (pkt && fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
        uint32_t caplen = rd32(rh + 8, swap);
        if (caplen > 262144) {
            fprintf(stderr, "mamori bmp: pcap record of %u bytes: corrupt capture\n", caplen);
            st->errors++;
            break;
        }
        if (fread(pkt, 1, caplen, f) != caplen)
            break;
        pcap_packet(pkt, caplen, linktype, flows, &nflows, st);
    }
    for (size_t i = 0; i < nflows; i++) {
        mm_buf_free(&flows[i].data);
        mm_bmp_addpath_free(flows[i].ap);
    }
    free(flows);
    free(pkt);
    return 0;
}

static int bmp_decode(int argc, char **argv)
{
    const char *file = NULL;
    struct decode_state st;
    memset(&st, 0, sizeof(st));
    st.max_msg = MM_BMP_DEFAULT_MAX_MSG;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--max-msg") == 0 && i + 1 < argc)
            st.max_msg = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' && argv[i][1])
            return mm_cli_usage_error(NOUN, "decode: unknown option '%s'", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return mm_cli_usage_error(NOUN, "decode: one FILE only");
    }
    if (!file)
        return mm_cli_usage_error(NOUN, "decode: FILE missing");
    if (st.max_msg < 64)
        return mm_cli_usage_error(NOUN, "decode: --max-msg too small");
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f)
        return mm_cli_fail(NOUN, "decode: %s: %s", file, strerror(errno));
    mm_buf_init(&st.out, 256u << 20);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    st.ctx.arrival_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    int c0 = fgetc(f);
    if (c0 != EOF)
        ungetc(c0, f);
    /* pcap magics start with 0xd4/0xa1/0x4d; a BMP stream starts with version 3. */
    int rc = (c0 == 0xd4 || c0 == 0xa1 || c0 == 0x4d) ? decode_pcap(f, &st) : decode_raw(f, &st);
    if (st.out.len)
        fwrite(st.out.data, 1, st.out.len, stdout);
    fflush(stdout);
    mm_buf_free(&st.out);
    mm_bmp_addpath_free(st.ap);
    if (f != stdin)
        fclose(f);
    fprintf(stderr, "mamori bmp: %llu messages, %llu lines, %llu errors\n",
            (unsigned long long)st.messages, (unsigned long long)st.lines,
            (unsigned long long)st.errors);
    if (rc)
        return rc;
    return st.errors ? MM_CLI_EXIT_FAIL : MM_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- store queries */

static const char sql_stats[] =
    "SELECT r.addr, p.peer_ip, p.peer_type, s.type, s.name, s.afi, s.safi, s.value, s.raw_hex,"
    " s.reason, max(s.ts_us) FROM stats s JOIN peers p ON p.id = s.peer_id"
    " JOIN routers r ON r.id = p.router_id"
    " GROUP BY s.peer_id, s.type, s.afi, s.safi ORDER BY r.addr, p.peer_ip, p.peer_type, s.type, "
    "s.afi, s.safi";

static const char sql_peers[] =
    "SELECT r.addr, r.sysname, r.state, p.peer_ip, p.peer_asn, p.peer_type, p.bgp_id, p.table_name,"
    " p.state, p.last_change_us,"
    " (SELECT count(*) FROM peer_events e WHERE e.peer_id = p.id AND e.event = 'up'),"
    " (SELECT count(*) FROM peer_events e WHERE e.peer_id = p.id AND e.event = 'down')"
    " FROM peers p JOIN routers r ON r.id = p.router_id ORDER BY r.addr, p.peer_type, p.peer_ip";

/* The same columns from the shared PostgreSQL store (natural keys instead of ids). */
static const char pg_stats[] =
    "SELECT DISTINCT ON (router, peer_ip, peer_type, type, afi, safi) router, peer_ip, peer_type,"
    " type, name, afi, safi, value, raw_hex, reason, ts_us FROM stats"
    " ORDER BY router, peer_ip, peer_type, type, afi, safi, ts_us DESC";

static const char pg_peers[] =
    "SELECT p.router, r.sysname, r.state, p.peer_ip, p.peer_asn, p.peer_type, p.bgp_id,"
    " p.table_name, p.state, p.last_change_us,"
    " (SELECT count(*) FROM peer_events e WHERE (e.router, e.peer_type, e.rd, e.peer_ip) ="
    "  (p.router, p.peer_type, p.rd, p.peer_ip) AND e.event = 'up'),"
    " (SELECT count(*) FROM peer_events e WHERE (e.router, e.peer_type, e.rd, e.peer_ip) ="
    "  (p.router, p.peer_type, p.rd, p.peer_ip) AND e.event = 'down')"
    " FROM peers p LEFT JOIN routers r ON r.addr = p.router"
    " ORDER BY p.router, p.peer_type, p.peer_ip";

/* One result row of either store. */
struct qrow {
    sqlite3_stmt *q; /* SQLite, or */
    PGresult *res;   /* PostgreSQL (text results) */
    int row;
};

static bool row_null(const struct qrow *w, int i)
{
    return w->q ? sqlite3_column_type(w->q, i) == SQLITE_NULL : PQgetisnull(w->res, w->row, i) == 1;
}

static const char *row_text(const struct qrow *w, int i)
{
    if (row_null(w, i))
        return "";
    return w->q ? (const char *)sqlite3_column_text(w->q, i) : PQgetvalue(w->res, w->row, i);
}

/* Integers; a numeric(20,0) gauge from PostgreSQL keeps its 64 bits as SQLite's do. */
static int64_t row_i64(const struct qrow *w, int i)
{
    if (w->q)
        return sqlite3_column_int64(w->q, i);
    const char *t = row_text(w, i);
    return t[0] == '-' ? strtoll(t, NULL, 10) : (int64_t)strtoull(t, NULL, 10);
}

static void print_peer_row(const struct qrow *w, bool json, json_t *arr)
{
    if (json) {
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:s, s:I, s:I, s:I}", "router",
                      row_text(w, 0), "sysname", row_text(w, 1), "router_state", row_text(w, 2),
                      "peer_ip", row_text(w, 3), "peer_asn", (json_int_t)row_i64(w, 4), "peer_type",
                      (int)row_i64(w, 5), "bgp_id", row_text(w, 6), "table_name", row_text(w, 7),
                      "state", row_text(w, 8), "last_change_us", (json_int_t)row_i64(w, 9), "ups",
                      (json_int_t)row_i64(w, 10), "downs", (json_int_t)row_i64(w, 11)));
        return;
    }
    printf("%-20s %-16s %-6s %-24s %-10lld %-4d %-8s %-5lld %-5lld\n", row_text(w, 0),
           row_text(w, 1), row_text(w, 2), row_text(w, 3), (long long)row_i64(w, 4),
           (int)row_i64(w, 5), row_text(w, 8), (long long)row_i64(w, 10),
           (long long)row_i64(w, 11));
}

static void print_stat_row(const struct qrow *w, bool json, json_t *arr)
{
    bool opaque = row_null(w, 7);
    int type = (int)row_i64(w, 3);
    const mm_bmp_stat_type *def = mm_bmp_stat_type_find((uint16_t)type);
    const char *name = !row_null(w, 4) ? row_text(w, 4) : def ? def->name : "unknown";
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:s, s:I}", "router", row_text(w, 0), "peer_ip",
                              row_text(w, 1), "peer_type", (int)row_i64(w, 2), "counter_type", type,
                              "counter_name", name, "ts_us", (json_int_t)row_i64(w, 10));
        if (!row_null(w, 5)) {
            json_object_set_new(o, "afi", json_integer(row_i64(w, 5)));
            json_object_set_new(o, "safi", json_integer(row_i64(w, 6)));
        }
        if (opaque) {
            json_object_set_new(o, "raw_hex", json_string(row_text(w, 8)));
            json_object_set_new(o, "reason", json_string(row_text(w, 9)));
        } else {
            json_object_set_new(o, "counter_value", json_integer((json_int_t)row_i64(w, 7)));
        }
        json_array_append_new(arr, o);
        return;
    }
    char as[16] = "-";
    if (!row_null(w, 5))
        snprintf(as, sizeof(as), "%d/%d", (int)row_i64(w, 5), (int)row_i64(w, 6));
    char val[64];
    if (opaque)
        snprintf(val, sizeof(val), "0x%.40s (%s)", row_text(w, 8), row_text(w, 9));
    else
        snprintf(val, sizeof(val), "%llu", (unsigned long long)row_i64(w, 7));
    printf("%-20s %-24s %-4d %-6d %-44s %-9s %s\n", row_text(w, 0), row_text(w, 1),
           (int)row_i64(w, 2), type, name, as, val);
}

static void print_header(bool peers)
{
    if (peers)
        printf("%-20s %-16s %-6s %-24s %-10s %-4s %-8s %-5s %-5s\n", "ROUTER", "SYSNAME", "STATE",
               "PEER", "ASN", "TYPE", "STATE", "UPS", "DOWNS");
    else
        printf("%-20s %-24s %-4s %-6s %-44s %-9s %s\n", "ROUTER", "PEER", "PT", "TYPE", "NAME",
               "AFI/SAFI", "VALUE");
}

static int query_sqlite(const char *verb, const char *db, bool peers, bool json, json_t *arr)
{
    sqlite3 *h;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int r = mm_cli_fail(NOUN, "%s: %s: %s", verb, db, sqlite3_errmsg(h));
        sqlite3_close(h);
        return r;
    }
    sqlite3_busy_timeout(h, 5000);
    struct qrow w = {0};
    if (sqlite3_prepare_v2(h, peers ? sql_peers : sql_stats, -1, &w.q, NULL) != SQLITE_OK) {
        int r =
            mm_cli_fail(NOUN, "%s: %s: not a mamori-bmpd store (%s)", verb, db, sqlite3_errmsg(h));
        sqlite3_close(h);
        return r;
    }
    if (!json)
        print_header(peers);
    while (sqlite3_step(w.q) == SQLITE_ROW)
        (peers ? print_peer_row : print_stat_row)(&w, json, arr);
    sqlite3_finalize(w.q);
    sqlite3_close(h);
    return MM_CLI_EXIT_OK;
}

static int query_pg(const char *verb, const char *conninfo, bool peers, bool json, json_t *arr)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        int r = mm_cli_fail(NOUN, "%s: PostgreSQL: %s", verb, PQerrorMessage(c));
        PQfinish(c);
        return r;
    }
    struct qrow w = {.res = PQexec(c, peers ? pg_peers : pg_stats)};
    if (PQresultStatus(w.res) != PGRES_TUPLES_OK) {
        int r = mm_cli_fail(NOUN, "%s: not a mamori-bmpd PostgreSQL store (%s)", verb,
                            PQresultErrorMessage(w.res));
        PQclear(w.res);
        PQfinish(c);
        return r;
    }
    if (!json)
        print_header(peers);
    for (w.row = 0; w.row < PQntuples(w.res); w.row++)
        (peers ? print_peer_row : print_stat_row)(&w, json, arr);
    PQclear(w.res);
    PQfinish(c);
    return MM_CLI_EXIT_OK;
}

static int bmp_query(int argc, char **argv, bool peers)
{
    const char *db = NULL, *pg = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
            pg = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return mm_cli_usage_error(NOUN, "%s: unknown argument '%s'", argv[0], argv[i]);
    }
    if (!db == !pg)
        return mm_cli_usage_error(NOUN, "%s: one of --db FILE or --pg CONNINFO", argv[0]);
    json_t *arr = json_array();
    int rc =
        db ? query_sqlite(argv[0], db, peers, json, arr) : query_pg(argv[0], pg, peers, json, arr);
    if (json && rc == MM_CLI_EXIT_OK)
        mm_cli_json_print(json_pack("{s:o}", peers ? "peers" : "stats", arr));
    else
        json_decref(arr);
    return rc;
}

static int bmp_types(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    size_t n;
    const mm_bmp_stat_type *t = mm_bmp_stat_types(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (json)
            json_array_append_new(arr,
                                  json_pack("{s:i, s:s, s:s, s:s, s:s}", "type", t[i].type, "kind",
                                            mm_bmp_stat_kind_name(t[i].kind), "name", t[i].name,
                                            "descr", t[i].descr, "source", t[i].source));
        else
            printf("%-6u %-17s %-46s %s\n", t[i].type, mm_bmp_stat_kind_name(t[i].kind), t[i].name,
                   t[i].source);
    }
    if (json)
        mm_cli_json_print(json_pack("{s:o}", "types", arr));
    else
        json_decref(arr);
    return MM_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- replay */

static int connect_to(const char *target, const char *from)
{
    char host[256];
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof(host))
        return -1;
    size_t hl = (size_t)(colon - target);
    if (target[0] == '[' && hl >= 2 && target[hl - 1] == ']') {
        memcpy(host, target + 1, hl - 2);
        host[hl - 2] = 0;
    } else {
        memcpy(host, target, hl);
        host[hl] = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd >= 0 && from) { /* a chosen source address: tests play several routers on loopback */
            struct sockaddr_storage ss = {.ss_family = (sa_family_t)a->ai_family};
            void *ap = a->ai_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                                                : (void *)&((struct sockaddr_in *)&ss)->sin_addr;
            if (inet_pton(a->ai_family, from, ap) != 1 ||
                bind(fd, (struct sockaddr *)&ss,
                     a->ai_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in)) != 0) {
                close(fd);
                fd = -1;
                continue;
            }
        }
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static void sleep_us(int64_t us)
{
    if (us <= 0)
        return;
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The replay's connection: the socket, or TLS over it. */
struct replay_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static int replay_write(struct replay_conn *c, const uint8_t *p, size_t n)
{
    if (!c->ssl)
        return mm_write_all(c->fd, p, n);
    while (n > 0) {
        size_t w = 0;
        if (SSL_write_ex(c->ssl, p, n, &w) != 1)
            return MM_EIO;
        p += w;
        n -= w;
    }
    return 0;
}

struct replay_tls_opts {
    bool on;
    const char *pki_dir, *ca, *cert, *key;
};

/* TLS 1.3 client with a certificate over the connected socket, checking the collector's name. */
static int replay_tls_start(struct replay_conn *c, const struct replay_tls_opts *o, const char *to)
{
    char ca[1100], cert[1100], key[1100];
    const char *dir = o->pki_dir ? o->pki_dir : getenv("MM_PKI_DIR");
    if (!dir || !*dir)
        dir = "./var/pki";
    if (!o->ca)
        MM_GUARD(mm_pki_path(dir, MM_PKI_CA_CERT, ca, sizeof(ca)));
    if (!o->cert)
        MM_GUARD(mm_pki_path(dir, MM_PKI_CLIENT_CERT, cert, sizeof(cert)));
    if (!o->key)
        MM_GUARD(mm_pki_path(dir, MM_PKI_CLIENT_KEY, key, sizeof(key)));
    mm_tls_config cfg = {.ca_file = o->ca ? o->ca : ca,
                         .cert_file = o->cert ? o->cert : cert,
                         .key_file = o->key ? o->key : key};
    /* --cert none: no client certificate (to see a collector refuse it). */
    if (o->cert && strcmp(o->cert, "none") == 0)
        cfg.cert_file = cfg.key_file = NULL;
    if (!(c->ctx = mm_tls_ctx_new_client(&cfg)) || !(c->ssl = SSL_new(c->ctx)))
        return MM_ECRYPTO;
    char host[256];
    const char *colon = strrchr(to, ':');
    size_t hl = colon ? (size_t)(colon - to) : 0;
    if (hl >= sizeof(host))
        return MM_EINVAL;
    memcpy(host, to, hl);
    host[hl] = 0;
    const char *name = host;
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        name = host + 1;
    }
    MM_GUARD(mm_tls_set_peer_name(c->ssl, name));
    if (SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1)
        return MM_ECRYPTO;
    fprintf(stderr, "mamori bmp: TLS %s, group %s\n", SSL_get_version(c->ssl),
            mm_tls_negotiated_group_name(c->ssl) ? mm_tls_negotiated_group_name(c->ssl) : "?");
    return 0;
}

static void replay_close(struct replay_conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

static int bmp_replay(int argc, char **argv)
{
    const char *file = NULL, *to = NULL, *from = NULL;
    unsigned long rate = 0, linger = 0;
    struct replay_tls_opts tls = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc)
            linger = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--tls") == 0)
            tls.on = true;
        else if (strcmp(argv[i], "--pki-dir") == 0 && i + 1 < argc)
            tls.pki_dir = argv[++i];
        else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
            tls.ca = argv[++i];
        else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
            tls.cert = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            tls.key = argv[++i];
        else if (argv[i][0] == '-')
            return mm_cli_usage_error(NOUN, "replay: unknown option '%s'", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return mm_cli_usage_error(NOUN, "replay: one FILE only");
    }
    if (!file || !to)
        return mm_cli_usage_error(NOUN, "replay: FILE and --to HOST:PORT are required");
    FILE *f = fopen(file, "rb");
    if (!f)
        return mm_cli_fail(NOUN, "replay: %s: %s", file, strerror(errno));
    mm_buf data;
    mm_buf_init(&data, (size_t)4 << 30);
    int rc = mm_buf_read_stream(&data, f);
    fclose(f);
    if (rc < 0) {
        mm_buf_free(&data);
        return mm_cli_fail(NOUN, "replay: %s: %s", file, mm_strerror(rc));
    }
    struct replay_conn conn = {.fd = connect_to(to, from)};
    if (conn.fd < 0) {
        mm_buf_free(&data);
        return mm_cli_fail(NOUN, "replay: cannot connect to %s", to);
    }
    if (tls.on && replay_tls_start(&conn, &tls, to) < 0) {
        char err[200] = "?";
        ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
        replay_close(&conn);
        mm_buf_free(&data);
        return mm_cli_fail(NOUN, "replay: TLS with %s failed: %s", to, err);
    }
    size_t off = 0, msgs = 0;
    int64_t start = mm_monotonic_us();
    while (off < data.len) {
        size_t n = data.len - off;
        if (rate) {
            uint32_t len;
            uint8_t type;
            if (mm_bmp_hdr_peek(data.data + off, n, UINT32_MAX, &len, &type) == 0 && len <= n)
                n = len;
            /* Pace: message k leaves at start + k/rate seconds. */
            sleep_us(start + (int64_t)(msgs * 1000000ull / rate) - mm_monotonic_us());
        }
        if (replay_write(&conn, data.data + off, n) < 0) {
            rc = mm_cli_fail(NOUN, "replay: write to %s failed after %zu bytes", to, off);
            break;
        }
        off += n;
        msgs++;
    }
    if (linger)
        sleep_us((int64_t)linger * 1000);
    replay_close(&conn);
    fprintf(stderr, "mamori bmp: sent %zu bytes%s%s to %s\n", off, rate ? " (paced)" : "",
            tls.on ? " over TLS" : "", to);
    mm_buf_free(&data);
    return rc ? rc : MM_CLI_EXIT_OK;
}

int mm_cli_bmp(int argc, char **argv)
{
    if (argc < 2)
        return mm_cli_usage_error(NOUN, "COMMAND missing");
    if (mm_cli_is_help(argv[1])) {
        bmp_help();
        return MM_CLI_EXIT_OK;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "decode") == 0)
        return bmp_decode(argc - 1, argv + 1);
    if (strcmp(verb, "stats") == 0)
        return bmp_query(argc - 1, argv + 1, false);
    if (strcmp(verb, "peers") == 0)
        return bmp_query(argc - 1, argv + 1, true);
    if (strcmp(verb, "types") == 0)
        return bmp_types(argc - 1, argv + 1);
    if (strcmp(verb, "replay") == 0)
        return bmp_replay(argc - 1, argv + 1);
    return mm_cli_usage_error(NOUN, "unknown command '%s'", verb);
}
