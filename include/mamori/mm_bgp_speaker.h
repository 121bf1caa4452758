/*
 * mm_bgp_speaker.h - the BGP speaker built on the codec of mm_bgp.h:
 * FlowSpec rules as structures (RFC 8955/8956: components, operators,
 * §5.1 ordering, §6 validation), FlowSpec traffic actions and the IFIT
 * extended communities (provisional table), RFC 7606 per-attribute error
 * handling, the RFC 4271 §8 FSM, a transport-free session and the RIB.
 *
 * Like the codec, decoders never allocate and read through mm_cursor.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_BGP_SPEAKER_H
#define MAMORI_MM_BGP_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ FlowSpec (flowspec.c) */

#define MM_BGP_FS_MAX_TYPE 13
#define MM_BGP_FS_MAX_TERMS 24
#define MM_BGP_FS_MAX_LEN 4095 /* RFC 8955 §4.1: 12-bit length */

enum mm_bgp_fs_kind { MM_BGP_FS_PREFIX, MM_BGP_FS_NUMERIC, MM_BGP_FS_BITMASK };

/* Operator bits (RFC 8955 §4.2.1.1 numeric, §4.2.1.2 bitmask). */
#define MM_BGP_FS_OP_END 0x80
#define MM_BGP_FS_OP_AND 0x40
#define MM_BGP_FS_OP_LEN 0x30
#define MM_BGP_FS_OP_LT 0x04
#define MM_BGP_FS_OP_GT 0x02
#define MM_BGP_FS_OP_EQ 0x01
#define MM_BGP_FS_OP_NOT 0x02
#define MM_BGP_FS_OP_MATCH 0x01

typedef struct mm_bgp_fs_term {
    uint8_t op;     /* as on the wire, e and len bits included */
    uint64_t value; /* 1, 2, 4 or 8 bytes per the len bits */
} mm_bgp_fs_term;

typedef struct mm_bgp_fs_comp {
    uint8_t type;
    /* prefix components (1, 2) */
    uint8_t plen;
    uint8_t offset; /* IPv6 only (RFC 8956 §3.1) */
    uint8_t addr[16];
    /* operator components */
    size_t n_terms;
    mm_bgp_fs_term terms[MM_BGP_FS_MAX_TERMS];
    /* the component's value bytes on the wire (after the type), for §5.1 */
    const uint8_t *raw;
    size_t raw_len;
} mm_bgp_fs_comp;

typedef struct mm_bgp_fs_rule {
    uint16_t afi;
    size_t n_comp;
    mm_bgp_fs_comp comp[MM_BGP_FS_MAX_TYPE];
} mm_bgp_fs_rule;

enum mm_bgp_fs_kind mm_bgp_fs_kind_of(uint8_t type);
const char *mm_bgp_fs_comp_name(uint16_t afi, uint8_t type);

/*
 * Decode one rule (component bytes without the length prefix) and check
 * it per RFC 8955 §4.2 and RFC 8956: types strictly increasing, every
 * type known for the family, prefix lengths/offsets in range, reserved
 * operator bits zero, the list ends with the e bit. MM_EMALFORMED with
 * *why set otherwise. r->comp[].raw point into rule.
 */
int mm_bgp_fs_decode(uint16_t afi, const uint8_t *rule, size_t len, mm_bgp_fs_rule *r,
                     const char **why);
/* Encode r's components (no length prefix) from the structured fields. */
int mm_bgp_fs_encode(const mm_bgp_fs_rule *r, mm_cursor *w);
/* Append the RFC 8955 §4.1 length prefix plus the rule bytes. */
int mm_bgp_fs_nlri_encode(mm_cursor *w, const uint8_t *rule, size_t len);
/*
 * Parse the text form "dst 10.0.0.0/24 proto =17 dport >=1000&<=2000
 * tcp-flags =0x02 fragment 0x04" (the codec's mm_bgp_flowspec_format
 * writes the same) into rule bytes in out (capacity outcap), in
 * canonical type order whatever the input order. MM_EINVAL with err.
 */
int mm_bgp_fs_parse(uint16_t afi, const char *text, uint8_t *out, size_t outcap, size_t *outlen,
                    char *err, size_t errlen);
/*
 * RFC 8955 §5.1 order: < 0 when a has precedence over b, > 0 when b has,
 * 0 when equal. Both must be valid rules of the same family.
 */
int mm_bgp_fs_cmp(uint16_t afi, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * RFC 8955 §6 validation (with RFC 9117's relaxation for iBGP). The caller
 * gives what it knows of the best unicast route for the rule's
 * destination prefix: found (false when there is none or no destination
 * component), and whether that route came from the same peer as the
 * FlowSpec route; ebgp_neighbor_as_ok is false when an eBGP route's
 * AS_PATH left-most AS is not the neighbour's AS (§6 rule c).
 */
typedef struct mm_bgp_fs_validation_input {
    bool has_dst;           /* the rule has a destination prefix component */
    bool unicast_found;     /* a best unicast route covers the destination */
    bool same_originator;   /* best unicast route's neighbour == FlowSpec route's neighbour */
    bool more_specific_other_peer; /* a more specific unicast route from another peer exists */
    bool ebgp;
    bool aspath_ok;         /* eBGP: AS_PATH left-most AS is the neighbour AS */
} mm_bgp_fs_validation_input;
/* 0 feasible, MM_EVERIFY with *why otherwise. */
int mm_bgp_fs_validate(const mm_bgp_fs_validation_input *in, const char **why);
/* The destination prefix of a decoded rule (false if it has none). */
bool mm_bgp_fs_rule_dst(const mm_bgp_fs_rule *r, mm_bgp_prefix *p);

/* ================================================================ actions and IFIT (ecomm.c) */

enum mm_bgp_ifit_method {
    MM_BGP_IFIT_IOAM_PREALLOC = 0,
    MM_BGP_IFIT_IOAM_INCREMENTAL,
    MM_BGP_IFIT_IOAM_DEX,
    MM_BGP_IFIT_IOAM_E2E,
    MM_BGP_IFIT_EAM,
    MM_BGP_IFIT_N_METHODS
};

enum mm_bgp_ifit_layout { MM_BGP_IFIT_L_TRACE, MM_BGP_IFIT_L_DEX, MM_BGP_IFIT_L_E2E, MM_BGP_IFIT_L_EAM };

/* One row of the IFIT table: PROVISIONAL codepoints (see docs/bgpd.md). */
typedef struct mm_bgp_ifit_desc {
    enum mm_bgp_ifit_method method;
    const char *name;
    uint8_t type;
    uint8_t subtype;
    enum mm_bgp_ifit_layout layout;
} mm_bgp_ifit_desc;

const mm_bgp_ifit_desc *mm_bgp_ifit_desc_get(enum mm_bgp_ifit_method m);
const mm_bgp_ifit_desc *mm_bgp_ifit_desc_by_name(const char *name);
/* Override one method's type/sub-type (config); MM_EEXIST if another method has it. */
int mm_bgp_ifit_codepoint_set(enum mm_bgp_ifit_method m, uint8_t type, uint8_t subtype);
void mm_bgp_ifit_codepoints_reset(void);

typedef struct mm_bgp_ifit {
    enum mm_bgp_ifit_method method;
    uint16_t namespace_id;
    uint32_t trace_type;   /* 24 bits, bit 0 = MSB (RFC 9197) */
    uint8_t flags;         /* trace flags; DEX extension flags */
    uint16_t e2e_type;
    uint32_t flow_mon_id;  /* 20 bits (RFC 9343) */
    uint8_t period;
    bool loss, delay;      /* EAM L and D flags */
    bool ignored;          /* lost to the conflict rule */
} mm_bgp_ifit;

#define MM_BGP_ACT_MAX_IFIT 8

typedef struct mm_bgp_fs_actions {
    bool has_rate_bytes, has_rate_packets, has_action, has_redirect, has_mark;
    uint16_t rate_bytes_as, rate_packets_as;
    float rate_bytes, rate_packets;  /* 0 bytes/s = discard (RFC 8955 §7.1) */
    bool sample, terminal;
    uint8_t redirect[8];             /* the rt-redirect EC as received */
    uint8_t dscp;
    size_t n_ifit;
    mm_bgp_ifit ifit[MM_BGP_ACT_MAX_IFIT];
    size_t n_unknown;                /* kept verbatim in the attribute */
    size_t n_conflicts;              /* actions ignored by the interference rules */
} mm_bgp_fs_actions;

/* Decode an EXTENDED_COMMUNITIES value (length a multiple of 8, else MM_EMALFORMED). */
int mm_bgp_fs_actions_decode(const uint8_t *v, size_t len, mm_bgp_fs_actions *a);
/* Decode one IFIT EC (MM_ENOENT if its type/sub-type is not in the table). */
int mm_bgp_ifit_decode(const uint8_t ec[8], mm_bgp_ifit *f);
int mm_bgp_ifit_encode(const mm_bgp_ifit *f, uint8_t ec[8]);
/*
 * Parse one action in text form into an 8-byte EC: "discard",
 * "rate-bytes N", "rate-packets N", "action sample|terminal|sample-terminal",
 * "redirect AS:N | A.B.C.D:N | AS4:N" (AS4 when AS > 65535), "mark DSCP",
 * "ifit METHOD key value..." and "ec 0x<16 hex>".
 */
int mm_bgp_fs_action_parse(const char *text, uint8_t ec[8], char *err, size_t errlen);
/* Append a JSON-ish text description of the decoded actions ("rate-bytes 0 ifit ..."). */
int mm_bgp_fs_actions_format(const mm_bgp_fs_actions *a, mm_buf *out);
int mm_bgp_ifit_format(const mm_bgp_ifit *f, mm_buf *out);

/* ================================================================ RFC 7606 (rfc7606.c) */

enum mm_bgp_err_action {
    MM_BGP_ERR_NONE = 0,
    MM_BGP_ERR_DISCARD,        /* attribute discard (§2) */
    MM_BGP_ERR_WITHDRAW,       /* treat-as-withdraw (§2) */
    MM_BGP_ERR_AFISAFI,        /* AFI/SAFI disable (§2); we reset the session instead */
    MM_BGP_ERR_RESET,          /* session reset with NOTIFICATION */
};

typedef struct mm_bgp_update_verdict {
    enum mm_bgp_err_action action;
    uint8_t attr;              /* attribute that decided, 0 if none */
    uint8_t notif_code, notif_subcode; /* for RESET */
    const char *why;
    uint64_t discard_mask[4];  /* attributes to drop under DISCARD, bit per code */
} mm_bgp_update_verdict;

const char *mm_bgp_err_action_name(enum mm_bgp_err_action a);
/* The action RFC 7606 §7 assigns to a malformed attribute of this code. */
enum mm_bgp_err_action mm_bgp_rfc7606_action(uint8_t code);
/*
 * Judge a whole UPDATE body: decode it (as4, addpath as negotiated) and
 * check every attribute and every FlowSpec rule; the strongest action
 * wins. ibgp matters for LOCAL_PREF (§7.5). u is left decoded.
 */
void mm_bgp_update_judge(mm_cursor *body, bool as4, bool ibgp, mm_bgp_update *u,
                         mm_bgp_update_verdict *v);

/* ================================================================ FSM (fsm.c, RFC 4271 §8) */

enum mm_bgp_state {
    MM_BGP_ST_IDLE = 1,
    MM_BGP_ST_CONNECT,
    MM_BGP_ST_ACTIVE,
    MM_BGP_ST_OPENSENT,
    MM_BGP_ST_OPENCONFIRM,
    MM_BGP_ST_ESTABLISHED,
};

/* RFC 4271 §8.1 event numbers (the subset a speaker without DelayOpen uses). */
enum mm_bgp_event {
    MM_BGP_EV_MANUAL_START = 1,
    MM_BGP_EV_MANUAL_STOP = 2,
    MM_BGP_EV_MANUAL_START_PASSIVE = 4,
    MM_BGP_EV_CONNECT_RETRY_EXPIRES = 9,
    MM_BGP_EV_HOLD_EXPIRES = 10,
    MM_BGP_EV_KEEPALIVE_EXPIRES = 11,
    MM_BGP_EV_TCP_CONFIRMED = 17,    /* inbound connection accepted */
    MM_BGP_EV_TCP_ACKNOWLEDGED = 16, /* outbound connection completed */
    MM_BGP_EV_TCP_FAILS = 18,
    MM_BGP_EV_OPEN = 19,
    MM_BGP_EV_HEADER_ERR = 21,
    MM_BGP_EV_OPEN_ERR = 22,
    MM_BGP_EV_NOTIF_VERSION_ERR = 24,
    MM_BGP_EV_NOTIF = 25,
    MM_BGP_EV_KEEPALIVE = 26,
    MM_BGP_EV_UPDATE = 27,
    MM_BGP_EV_UPDATE_ERR = 28,
};

/* What the FSM asks its owner to do, as flags (in this order). */
enum {
    MM_BGP_DO_SEND_NOTIF = 1u << 0,
    MM_BGP_DO_DROP_TCP = 1u << 1,
    MM_BGP_DO_CONNECT = 1u << 2,
    MM_BGP_DO_SEND_OPEN = 1u << 3,
    MM_BGP_DO_SEND_KEEPALIVE = 1u << 4,
    MM_BGP_DO_START_CONNECT_RETRY = 1u << 5,
    MM_BGP_DO_STOP_CONNECT_RETRY = 1u << 6,
    MM_BGP_DO_START_HOLD_LARGE = 1u << 7, /* §8: 4 minutes in OpenSent */
    MM_BGP_DO_START_HOLD = 1u << 8,       /* negotiated */
    MM_BGP_DO_RESTART_HOLD = 1u << 9,
    MM_BGP_DO_START_KEEPALIVE = 1u << 10,
    MM_BGP_DO_STOP_TIMERS = 1u << 11,
    MM_BGP_DO_RELEASE_ROUTES = 1u << 12,
    MM_BGP_DO_ESTABLISHED = 1u << 13,
    MM_BGP_DO_PROCESS_UPDATE = 1u << 14,
    MM_BGP_DO_CONNECT_RETRY_INC = 1u << 15,
};

typedef struct mm_bgp_fsm_step {
    enum mm_bgp_state next;
    uint32_t actions;
    uint8_t notif_code, notif_subcode; /* with MM_BGP_DO_SEND_NOTIF */
} mm_bgp_fsm_step;

/* One transition of RFC 4271 §8.2.2; passive selects Active rather than Connect. */
mm_bgp_fsm_step mm_bgp_fsm_next(enum mm_bgp_state s, enum mm_bgp_event ev, bool passive);
const char *mm_bgp_state_name(enum mm_bgp_state s);

/* ================================================================ session (session.c) */

#define MM_BGP_DEFAULT_HOLD 90
#define MM_BGP_OPENSENT_HOLD 240
#define MM_BGP_CONNECT_RETRY 120

typedef struct mm_bgp_session mm_bgp_session;

typedef struct mm_bgp_session_config {
    uint32_t local_as, peer_as;
    uint32_t router_id;     /* host order */
    uint32_t peer_router_id; /* 0: any */
    uint16_t hold_time;     /* proposed; 0 or >= 3 */
    uint16_t connect_retry; /* seconds; 0 = MM_BGP_CONNECT_RETRY */
    bool passive;
    bool ibgp_allowed;      /* local_as == peer_as is an iBGP session */
    bool fam_v4_unicast, fam_v6_unicast, fam_flow4, fam_flow6;
    bool ext_msg;           /* offer RFC 8654 */
    bool graceful_restart;  /* advertise GR receiver capability (restart time 0, no flags) */
} mm_bgp_session_config;

/* Callbacks into the owner (daemon or test). */
typedef struct mm_bgp_session_ops {
    int (*send)(void *arg, const uint8_t *p, size_t n);
    void (*state)(void *arg, enum mm_bgp_state from, enum mm_bgp_state to, const char *why);
    /* An UPDATE that passed RFC 7606 judging (verdict may be WITHDRAW or DISCARD). */
    void (*update)(void *arg, const mm_bgp_update *u, const mm_bgp_update_verdict *v);
    void (*notification)(void *arg, bool sent, const mm_bgp_notification *n);
    void (*timer)(void *arg, int which, uint32_t seconds); /* 0 = stop */
    void (*drop)(void *arg);     /* close the TCP connection */
    void (*connect)(void *arg);  /* start an outbound connection */
    void (*route_refresh)(void *arg, uint16_t afi, uint8_t safi);
    /* Every whole message sent or received, before it is processed (BMP, mirroring). */
    void (*message)(void *arg, bool received, const uint8_t *p, size_t n);
} mm_bgp_session_ops;

enum { MM_BGP_TIMER_CONNECT_RETRY, MM_BGP_TIMER_HOLD, MM_BGP_TIMER_KEEPALIVE, MM_BGP_N_TIMERS };

int mm_bgp_session_new(const mm_bgp_session_config *cfg, const mm_bgp_session_ops *ops, void *arg,
                       mm_bgp_session **out);
void mm_bgp_session_free(mm_bgp_session *s);
/* Feed an FSM event that carries no message (start, stop, timers, TCP). */
void mm_bgp_session_event(mm_bgp_session *s, enum mm_bgp_event ev);
/*
 * Feed bytes received from the peer; whole messages are processed, a
 * partial one is kept (bounded by the maximum message size). Returns 0,
 * or MM_ECLOSED once the session has dropped the connection.
 */
int mm_bgp_session_input(mm_bgp_session *s, const uint8_t *p, size_t n);
/* Send an administrative shutdown (RFC 9003 communication, may be NULL) and stop. */
void mm_bgp_session_shutdown(mm_bgp_session *s, uint8_t subcode, const char *text);
/* Send a raw UPDATE message (whole message incl. header) when Established. */
int mm_bgp_session_send_update(mm_bgp_session *s, const uint8_t *msg, size_t n);
enum mm_bgp_state mm_bgp_session_state(const mm_bgp_session *s);
/* Negotiated values, valid in OpenConfirm/Established. */
typedef struct mm_bgp_session_info {
    uint16_t hold_time;
    uint32_t peer_as;
    uint32_t peer_router_id;
    bool as4, ext_msg, route_refresh, peer_gr;
    bool fam_v4_unicast, fam_v6_unicast, fam_flow4, fam_flow6; /* both sides */
    uint64_t msgs_in, msgs_out, updates_in, updates_out, withdraw_treated, attr_discarded;
    uint8_t last_notif_code, last_notif_subcode;
    bool last_notif_sent;
} mm_bgp_session_info;
const mm_bgp_session_info *mm_bgp_session_get_info(const mm_bgp_session *s);
/* Build an UPDATE announcing (or withdrawing) FlowSpec rule bytes; ecomms is 8*n bytes. */
int mm_bgp_flowspec_update_build(mm_cursor *w, uint16_t afi, bool withdraw, const uint8_t *rule,
                                 size_t rule_len, uint32_t local_as, bool as4, bool ibgp,
                                 const uint8_t *ecomms, size_t ecomms_len);

/* ================================================================ RIB (rib.c) */

/*
 * Adj-RIB-In of every peer plus the locally originated routes (peer 0) in
 * one hash keyed by (peer, AFI, SAFI, NLRI bytes). The Loc-RIB view of an
 * NLRI is its entry with the lowest peer number (local first). Values are
 * copies: the RIB owns its memory.
 */
typedef struct mm_bgp_rib mm_bgp_rib;

typedef struct mm_bgp_route {
    uint32_t peer;
    uint16_t afi;
    uint8_t safi;
    uint16_t nlri_len;
    uint16_t ecomm_len;
    uint8_t origin;
    bool valid;           /* RFC 8955 §6 outcome (true when validation is off) */
    uint8_t *nlri;        /* FlowSpec rule bytes, or (len byte + address bytes) for unicast */
    uint8_t *ecomm;
    char *aspath;         /* text form */
    /* RIB-private: the chain, and the shared attribute set ecomm/aspath point into. */
    struct mm_bgp_route *next;
    void *attrs;
} mm_bgp_route;

int mm_bgp_rib_new(size_t buckets_log2, mm_bgp_rib **out);
void mm_bgp_rib_free(mm_bgp_rib *rib);
/* Insert or replace; *replaced tells which. */
int mm_bgp_rib_add(mm_bgp_rib *rib, const mm_bgp_route *r, bool *replaced);
/* 0 if removed, MM_ENOENT if absent. */
int mm_bgp_rib_del(mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi, const uint8_t *nlri,
                   size_t nlri_len);
const mm_bgp_route *mm_bgp_rib_get(const mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi,
                                   const uint8_t *nlri, size_t nlri_len);
size_t mm_bgp_rib_count(const mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi);
typedef void (*mm_bgp_rib_cb)(void *arg, const mm_bgp_route *r);
/* Visit entries (peer UINT32_MAX = every peer; afi 0 = every family). */
void mm_bgp_rib_walk(const mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi,
                     mm_bgp_rib_cb cb, void *arg);
/*
 * A resumable walk for callers that give the event loop back between steps
 * (the control socket streaming a full table): visits whole buckets, about
 * max_buckets of them, and returns the cursor to pass next (0: done; start
 * with 0). The cursor survives any add/del between calls, including the
 * table doubling: buckets go in reverse-binary order, so the buckets already
 * visited at one size are exactly the ones covered at twice the size. An
 * entry present from start to end is visited once; one added or removed
 * meanwhile, at most once.
 */
uint64_t mm_bgp_rib_scan(const mm_bgp_rib *rib, uint64_t cursor, size_t max_buckets, uint32_t peer,
                         uint16_t afi, uint8_t safi, mm_bgp_rib_cb cb, void *arg);
/* Remove every entry of a peer, calling cb on each first; returns how many. */
size_t mm_bgp_rib_flush_peer(mm_bgp_rib *rib, uint32_t peer, mm_bgp_rib_cb cb, void *arg);
/* Longest-match unicast lookup over every peer: the best route covering p, or NULL. */
const mm_bgp_route *mm_bgp_rib_lookup(const mm_bgp_rib *rib, const mm_bgp_prefix *p);
/* Is r the Loc-RIB (best) entry of its NLRI? */
bool mm_bgp_rib_is_best(const mm_bgp_rib *rib, const mm_bgp_route *r);
size_t mm_bgp_rib_size(const mm_bgp_rib *rib);
/* Unicast NLRI key: length byte + the address bytes the length covers. */
size_t mm_bgp_rib_prefix_key(const mm_bgp_prefix *p, uint8_t out[17]);
/*
 * A hint that this key will be added, deleted or looked up soon: stage 0
 * prefetches its bucket, stage 1 (issued later, when the bucket is likely in
 * cache) prefetches the first route of its chain. Changes nothing.
 */
void mm_bgp_rib_prefetch(const mm_bgp_rib *rib, uint16_t afi, uint8_t safi, const uint8_t *nlri,
                         size_t nlri_len, int stage);

#ifdef __cplusplus
}
#endif
#endif
