/*
 * mm_bmp.h - BGP Monitoring Protocol codec (RFC 7854) with RFC 8671
 * (Adj-RIB-Out, O flag) and RFC 9069 (Loc-RIB, peer type 3, table name TLV),
 * the statistics registry as one table, and the JSON Lines rendering used
 * by mamori-bmpd and `mamori bmp decode`.
 *
 * Decoding never allocates: a decoded message points into the caller's
 * bytes. Lists (statistics, TLVs) are walked with iterators over cursors;
 * mm_bmp_msg_decode() has walked them once already, so an iterator over a
 * message that decoded with 0 cannot fail.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_BMP_H
#define MAMORI_MM_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_BMP_VERSION 3
#define MM_BMP_HDR_LEN 6
#define MM_BMP_PEER_HDR_LEN 42
#define MM_BMP_DEFAULT_MAX_MSG (1u << 20) /* 1 MiB: the collector's cap */

enum mm_bmp_msg_type {
    MM_BMP_ROUTE_MONITORING = 0,
    MM_BMP_STATS_REPORT = 1,
    MM_BMP_PEER_DOWN = 2,
    MM_BMP_PEER_UP = 3,
    MM_BMP_INITIATION = 4,
    MM_BMP_TERMINATION = 5,
    MM_BMP_ROUTE_MIRRORING = 6,
};

enum mm_bmp_peer_type {
    MM_BMP_PEER_GLOBAL = 0,
    MM_BMP_PEER_RD = 1,
    MM_BMP_PEER_LOCAL = 2,
    MM_BMP_PEER_LOC_RIB = 3, /* RFC 9069 */
};

/* Peer flags (RFC 7854 §4.2, RFC 8671 §4 O, RFC 9069 §4.2 F for peer type 3). */
#define MM_BMP_PEER_F_V 0x80
#define MM_BMP_PEER_F_L 0x40
#define MM_BMP_PEER_F_A 0x20
#define MM_BMP_PEER_F_O 0x10
#define MM_BMP_PEER_F_LOCRIB_F 0x80

/* pmacct-compatible message type names ("route_monitor", "stats", ...). */
const char *mm_bmp_msg_type_name(uint8_t type);
const char *mm_bmp_peer_type_name(uint8_t type);
const char *mm_bmp_peer_down_reason_name(uint8_t reason);

/* ---------------------------------------------------------------- per-peer header */

typedef struct mm_bmp_peer_hdr {
    uint8_t type;
    uint8_t flags;
    uint8_t rd[8];
    uint8_t addr[16]; /* IPv4 in the last 4 bytes when the V flag is clear */
    uint32_t as;
    uint32_t bgp_id;
    uint32_t ts_sec;
    uint32_t ts_usec;
} mm_bmp_peer_hdr;

int mm_bmp_peer_hdr_decode(mm_cursor *c, mm_bmp_peer_hdr *p);
void mm_bmp_peer_hdr_encode(mm_cursor *w, const mm_bmp_peer_hdr *p);
/* Peer address as text (IPv6 if V, else IPv4). out >= 46 bytes. */
void mm_bmp_peer_addr_format(const mm_bmp_peer_hdr *p, char *out, size_t outlen);
/* "ADJ-RIB-IN pre" style view flags for peer types 0-2; Loc-RIB has none of these. */
static inline bool mm_bmp_peer_is_v6(const mm_bmp_peer_hdr *p)
{
    return p->type != MM_BMP_PEER_LOC_RIB && (p->flags & MM_BMP_PEER_F_V);
}
static inline bool mm_bmp_peer_is_post(const mm_bmp_peer_hdr *p)
{
    return p->type != MM_BMP_PEER_LOC_RIB && (p->flags & MM_BMP_PEER_F_L);
}
static inline bool mm_bmp_peer_is_out(const mm_bmp_peer_hdr *p)
{
    return p->type != MM_BMP_PEER_LOC_RIB && (p->flags & MM_BMP_PEER_F_O);
}
/* AS_PATH has 4-octet ASNs unless the A flag says legacy 2-octet (RFC 7854 §4.2). */
static inline bool mm_bmp_peer_as4(const mm_bmp_peer_hdr *p)
{
    return p->type == MM_BMP_PEER_LOC_RIB || !(p->flags & MM_BMP_PEER_F_A);
}

/* ---------------------------------------------------------------- TLVs */

typedef struct mm_bmp_tlv {
    uint16_t type;
    uint16_t len;
    const uint8_t *val;
} mm_bmp_tlv;

/* Next TLV of a list: 1 with *t, 0 at the end, MM_ETRUNC if one overruns. */
int mm_bmp_tlv_next(mm_cursor *c, mm_bmp_tlv *t);
void mm_bmp_tlv_encode(mm_cursor *w, uint16_t type, const void *val, size_t len);

/* Information TLV types (Initiation/Termination/Peer Up, RFC 7854 §4.4, RFC 9069 §5). */
enum {
    MM_BMP_INFO_STRING = 0,
    MM_BMP_INFO_SYSDESCR = 1,
    MM_BMP_INFO_SYSNAME = 2,
    MM_BMP_INFO_VRF_TABLE_NAME = 3,
    MM_BMP_INFO_ADMIN_LABEL = 4,
    MM_BMP_TERM_REASON = 1, /* in Termination */
    MM_BMP_MIRROR_BGP_MSG = 0,
    MM_BMP_MIRROR_INFO = 1,
};

/* ---------------------------------------------------------------- statistics registry */

enum mm_bmp_stat_kind {
    MM_BMP_STAT_COUNTER32 = 0,       /* len 4 */
    MM_BMP_STAT_GAUGE64 = 1,         /* len 8 */
    MM_BMP_STAT_AFISAFI_GAUGE64 = 2, /* len 11: AFI u16, SAFI u8, gauge u64 */
    MM_BMP_STAT_OPAQUE = 3,          /* any length, kept as bytes */
};

/* One row of the registry: adding a type is adding a row (bmp_stats.c). */
typedef struct mm_bmp_stat_type {
    uint16_t type;
    enum mm_bmp_stat_kind kind;
    const char *name;   /* metric-friendly: "adj_rib_in_routes" */
    const char *descr;  /* human text, pmacct's wording where pmacct has one */
    const char *source; /* "RFC 7854", "RFC 8671", "RFC 9972", "FRR (experimental)" */
} mm_bmp_stat_type;

/* The row for a type (built-in or added at run time), NULL if unknown. */
const mm_bmp_stat_type *mm_bmp_stat_type_find(uint16_t type);
/* All built-in rows. */
const mm_bmp_stat_type *mm_bmp_stat_types(size_t *n);
/*
 * Add (or override) a row at run time, e.g. a draft's TBD code from the
 * config. Strings are copied. At most 64 runtime rows (MM_ELIMIT).
 */
int mm_bmp_stat_type_add(uint16_t type, enum mm_bmp_stat_kind kind, const char *name,
                         const char *descr);
size_t mm_bmp_stat_kind_len(enum mm_bmp_stat_kind kind);
const char *mm_bmp_stat_kind_name(enum mm_bmp_stat_kind kind);

/* One decoded statistic. */
typedef struct mm_bmp_stat {
    uint16_t type;
    uint16_t len;
    const uint8_t *val;
    const mm_bmp_stat_type *def; /* NULL: unknown type */
    enum mm_bmp_stat_kind kind;  /* as decoded: OPAQUE when unknown or malformed */
    uint64_t value;
    uint16_t afi;
    uint8_t safi;
    const char *reason; /* NULL, or why it is kept opaque */
} mm_bmp_stat;

/*
 * Next statistic: 1 with *s, 0 at the end, MM_ETRUNC if the record overruns.
 * A known type with an unexpected length is returned as OPAQUE with a reason
 * and the cursor still advances by the record's length (RFC 7854 §4.8).
 */
int mm_bmp_stat_next(mm_cursor *c, mm_bmp_stat *s);
/* Encode one statistic with the registry's length for its kind. MM_ENOENT for an unknown type. */
int mm_bmp_stat_encode(mm_cursor *w, uint16_t type, uint64_t value, uint16_t afi, uint8_t safi);

/* ---------------------------------------------------------------- messages */

typedef struct mm_bmp_msg {
    uint8_t version;
    uint8_t type;
    uint32_t len;
    bool has_peer;
    mm_bmp_peer_hdr peer;
    /* Body after the per-peer header, per type: */
    mm_cursor tlvs;     /* Initiation, Termination, Peer Up info, Peer Down 6, Mirroring */
    const uint8_t *bgp; /* Route Monitoring PDU; Peer Down 1/3 NOTIFICATION */
    size_t bgp_len;
    uint32_t stats_count; /* Statistics Report */
    mm_cursor stats;
    uint8_t down_reason;     /* Peer Down */
    uint16_t down_fsm_event; /* Peer Down reason 2 */
    /* Peer Up (RFC 7854 §4.10) */
    uint8_t local_addr[16];
    uint16_t local_port;
    uint16_t remote_port;
    const uint8_t *open_sent;
    size_t open_sent_len;
    const uint8_t *open_recv;
    size_t open_recv_len;
    /* Route Monitoring: the UPDATE's NLRI carry RFC 7911 path ids (from mm_bmp_addpath). */
    bool addpath;
    /* Set when decoding failed: a precise reason for the log. */
    const char *error;
} mm_bmp_msg;

/*
 * Peek at the common header: version, length and type. Returns 0 when
 * avail >= 6 and the header is acceptable (version 3, 6 <= len <= max_len),
 * MM_EAGAIN if fewer than 6 bytes are available, MM_EUNSUPPORTED for another
 * version, MM_EMALFORMED for a length below 6, MM_ELIMIT above max_len.
 */
int mm_bmp_hdr_peek(const uint8_t *p, size_t avail, size_t max_len, uint32_t *len, uint8_t *type);

/*
 * Decode one whole message (p, len = its length from the header). Every
 * list inside is walked once: a truncated per-peer header, a TLV or
 * statistic overrunning the message, a stats count larger than the records
 * present or a malformed OPEN/NOTIFICATION return MM_EMALFORMED or MM_ETRUNC
 * with m->error set. Unknown message types return MM_EUNSUPPORTED.
 */
int mm_bmp_msg_decode(const uint8_t *p, size_t len, mm_bmp_msg *m);

/* ---------------------------------------------------------------- Add-Path (RFC 7911 in BMP) */

/*
 * Per-router state: which peers' UPDATEs carry path identifiers, per
 * AFI/SAFI and direction, learned from the Sent and Received OPENs of each
 * Peer Up (Adj-RIB-In: the peer sends and the router receives; Adj-RIB-Out,
 * RFC 8671: the reverse; Loc-RIB, RFC 9069: either fabricated OPEN
 * announces it). Peer Down forgets the peer. At most max_peers peers with
 * Add-Path are remembered (MM_ELIMIT beyond).
 */
#define MM_BMP_ADDPATH_MAX_PEERS 4096
typedef struct mm_bmp_addpath mm_bmp_addpath;

mm_bmp_addpath *mm_bmp_addpath_new(size_t max_peers); /* 0: MM_BMP_ADDPATH_MAX_PEERS */
void mm_bmp_addpath_free(mm_bmp_addpath *a);
/* Learn from a decoded Peer Up / Peer Down (other types: nothing). */
int mm_bmp_addpath_learn(mm_bmp_addpath *a, const mm_bmp_msg *m);
/* Do this peer's Route Monitoring NLRI of afi/safi carry path ids? (NULL a: no) */
bool mm_bmp_addpath_get(const mm_bmp_addpath *a, const mm_bmp_peer_hdr *p, uint16_t afi,
                        uint8_t safi);
size_t mm_bmp_addpath_count(const mm_bmp_addpath *a);

/*
 * Whether a BGP UPDATE PDU (header included) of this peer carries path ids
 * (*addpath), from ap, checking that it parses that way: 0, or MM_EMALFORMED
 * with *error (a malformed UPDATE, NLRI without the negotiated path ids, or
 * an UPDATE mixing families with and without Add-Path). NULL ap: none.
 */
int mm_bmp_update_addpath(const mm_bmp_addpath *ap, const mm_bmp_peer_hdr *peer, const uint8_t *pdu,
                          size_t len, bool *addpath, const char **error);

/*
 * mm_bmp_msg_decode with the router's Add-Path state: a Route Monitoring
 * UPDATE is decoded with path ids where ap says so (m->addpath), and one
 * whose address families disagree is MM_EMALFORMED with a reason.
 */
int mm_bmp_msg_decode_ap(const uint8_t *p, size_t len, const mm_bmp_addpath *ap, mm_bmp_msg *m);

/* Encoder: begin a message (common header), add parts, finish (patches the length). */
size_t mm_bmp_msg_begin(mm_cursor *w, uint8_t type);
int mm_bmp_msg_finish(mm_cursor *w, size_t off);

/* ---------------------------------------------------------------- JSON Lines */

/* Context of one router session for the JSON rendering. */
typedef struct mm_bmp_json_ctx {
    const char *router; /* router address text */
    /* The router's Add-Path state: mirrored UPDATEs (received from the peer) use it. NULL: none. */
    const mm_bmp_addpath *ap;
    uint16_t router_port;
    uint64_t seq;       /* incremented per line written */
    int64_t arrival_us; /* wall clock of arrival (microseconds since the epoch) */
    /* Private: the last two formatted seconds (timestamps repeat from line to line). */
    int64_t ts_sec_cache[2];
    char ts_text_cache[2][24];
    /* Private: the fields shared by every line of the current message. */
    uint64_t msg_gen, pre_gen;
    const char *pre_type;
    size_t pre_len;
    char pre[1024];
} mm_bmp_json_ctx;

/*
 * Append the JSON Lines of one decoded message to out: one object per
 * statistic (Statistics Report), per prefix (Route Monitoring, IPv4/IPv6
 * unicast; FlowSpec rules as text and hex), else one per message. Field
 * names follow pmacct pmbmpd where both have the field. Returns the number
 * of lines, or a negative MM_E* (out of buffer space).
 */
int mm_bmp_json_render(mm_bmp_json_ctx *ctx, const mm_bmp_msg *m, mm_buf *out);
/* One line for a message that failed to decode (bmp_msg_type "error", with the reason). */
int mm_bmp_json_render_error(mm_bmp_json_ctx *ctx, const uint8_t *p, size_t len, const char *reason,
                             mm_buf *out);

/* ---------------------------------------------------------------- SQLite store */

/*
 * The embedded store (SQLite, WAL): routers, peers (current state), the
 * peer up/down history and the statistics time series. Schema in
 * bmp_store.c and docs/bmpd.md. Writes between begin and commit form one
 * transaction; the daemon commits once per input burst.
 */
typedef struct mm_bmp_store mm_bmp_store;

int mm_bmp_store_open(const char *path, mm_bmp_store **out);
void mm_bmp_store_close(mm_bmp_store *s);
int mm_bmp_store_begin(mm_bmp_store *s);
int mm_bmp_store_commit(mm_bmp_store *s);
/* A router connected (upsert by address); its row id in *router_id. */
int mm_bmp_store_router_up(mm_bmp_store *s, const char *addr, int64_t now_us, int64_t *router_id);
/* The router's session ended: router and all its peers marked down. */
int mm_bmp_store_router_down(mm_bmp_store *s, int64_t router_id, int64_t now_us);
/* Record what a decoded message says (Initiation, Peer Up/Down, Statistics; others ignored). */
int mm_bmp_store_msg(mm_bmp_store *s, int64_t router_id, const mm_bmp_msg *m, int64_t now_us);

/* ---------------------------------------------------------------- PostgreSQL store */

/*
 * The shared store (PostgreSQL via libpq) for several collectors writing one
 * database: same tables as the SQLite store, keyed by router address and
 * peer (type, RD, address) with the collector's name instead of row ids.
 * Writes go to a bounded in-memory queue (queue_bytes) that a writer thread
 * drains in batches, one pipelined transaction per batch, reconnecting with
 * back-off while PostgreSQL is down. When the queue is full:
 * MM_BMP_PG_DROP makes a push fail with MM_ELIMIT (counted in dropped);
 * MM_BMP_PG_PAUSE accepts it and the caller stops reading routers while
 * mm_bmp_pgstore_full() is true. Nothing is dropped silently: every drop is
 * counted, and the daemon logs and audits the episodes.
 */
enum mm_bmp_pg_overflow { MM_BMP_PG_DROP = 0, MM_BMP_PG_PAUSE = 1 };

typedef struct mm_bmp_pgstore mm_bmp_pgstore;

typedef struct mm_bmp_pgstore_stats {
    size_t queued_bytes, queued_rows, limit;
    uint64_t written, dropped, failures;
    bool connected;
    char last_error[256];
} mm_bmp_pgstore_stats;

/* conninfo: a libpq URI or key=value string. The connection is made by the writer. */
int mm_bmp_pgstore_open(const char *conninfo, const char *collector, size_t queue_bytes,
                        enum mm_bmp_pg_overflow overflow, mm_bmp_pgstore **out);
/* Writes what is queued (5 attempts if PostgreSQL is down; the rest is counted dropped). */
void mm_bmp_pgstore_close(mm_bmp_pgstore *s);
int mm_bmp_pgstore_router_up(mm_bmp_pgstore *s, const char *addr, int64_t now_us);
int mm_bmp_pgstore_router_down(mm_bmp_pgstore *s, const char *addr, int64_t now_us);
int mm_bmp_pgstore_msg(mm_bmp_pgstore *s, const char *router, const mm_bmp_msg *m, int64_t now_us);
/* End of an input burst: wake the writer. */
void mm_bmp_pgstore_flush(mm_bmp_pgstore *s);
bool mm_bmp_pgstore_full(mm_bmp_pgstore *s);
void mm_bmp_pgstore_status(mm_bmp_pgstore *s, mm_bmp_pgstore_stats *st);

#ifdef __cplusplus
}
#endif
#endif
