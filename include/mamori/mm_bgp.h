/*
 * mm_bgp.h - BGP-4 message codec (RFC 4271) shared by the BMP collector and
 * the BGP speaker: message header, OPEN with capabilities, UPDATE with its
 * path attributes, NOTIFICATION, KEEPALIVE, and the NLRI forms the suite
 * uses (IPv4/IPv6 unicast, FlowSpec kept as bytes with a component decoder).
 *
 * Decoding never allocates: decoded structures point into the caller's
 * buffer, which must outlive them. Every byte is read through mm_cursor.
 * Path attributes are described by one table (bgp_attr.c): adding an
 * attribute is adding a row.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_BGP_H
#define MAMORI_MM_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- header (RFC 4271 §4.1) */

#define MM_BGP_MARKER_LEN 16
#define MM_BGP_HDR_LEN 19
#define MM_BGP_MAX_LEN 4096      /* RFC 4271 §4 */
#define MM_BGP_EXT_MAX_LEN 65535 /* RFC 8654 extended messages */

enum mm_bgp_msg_type {
    MM_BGP_OPEN = 1,
    MM_BGP_UPDATE = 2,
    MM_BGP_NOTIFICATION = 3,
    MM_BGP_KEEPALIVE = 4,
    MM_BGP_ROUTE_REFRESH = 5,
};

typedef struct mm_bgp_hdr {
    uint16_t len; /* whole message incl. the 19-byte header */
    uint8_t type;
} mm_bgp_hdr;

/*
 * Read a header and check the marker (all ones) and 19 <= len <= max_len.
 * On success the cursor is past the header and body (len - 19 bytes) is
 * available as a sub-cursor. MM_EMALFORMED/MM_ETRUNC otherwise.
 */
int mm_bgp_hdr_decode(mm_cursor *c, size_t max_len, mm_bgp_hdr *h, mm_cursor *body);
/* Write a header; returns the offset of the length field for mm_bgp_hdr_finish(). */
size_t mm_bgp_hdr_begin(mm_cursor *w, uint8_t type);
/* Patch the length of the message begun at hdr_off (offset of the marker). */
void mm_bgp_hdr_finish(mm_cursor *w, size_t hdr_off);
const char *mm_bgp_msg_type_name(uint8_t type);

/* ---------------------------------------------------------------- AFI/SAFI */

enum { MM_BGP_AFI_IPV4 = 1, MM_BGP_AFI_IPV6 = 2 };
enum {
    MM_BGP_SAFI_UNICAST = 1,
    MM_BGP_SAFI_MULTICAST = 2,
    MM_BGP_SAFI_FLOWSPEC = 133,
    MM_BGP_SAFI_FLOWSPEC_VPN = 134,
};
const char *mm_bgp_afi_name(uint16_t afi);
const char *mm_bgp_safi_name(uint8_t safi);

/* ---------------------------------------------------------------- OPEN (RFC 4271 §4.2, RFC 5492)
 */

/* Capability codes the codec names (table in bgp_open.c). */
enum {
    MM_BGP_CAP_MP = 1, /* RFC 4760 */
    MM_BGP_CAP_ROUTE_REFRESH = 2,
    MM_BGP_CAP_EXT_MSG = 6,  /* RFC 8654 */
    MM_BGP_CAP_GR = 64,      /* RFC 4724 */
    MM_BGP_CAP_AS4 = 65,     /* RFC 6793 */
    MM_BGP_CAP_ADDPATH = 69, /* RFC 7911 */
    MM_BGP_CAP_ENH_RR = 70,
    MM_BGP_CAP_LLGR = 71,
    MM_BGP_CAP_FQDN = 73,
};

#define MM_BGP_OPEN_MAX_CAPS 64
#define MM_BGP_OPEN_MAX_MP 16

typedef struct mm_bgp_cap {
    uint8_t code;
    uint8_t len;
    const uint8_t *val;
} mm_bgp_cap;

typedef struct mm_bgp_open {
    uint8_t version;
    uint16_t my_as; /* 2-octet field (AS_TRANS when the real AS is 4-octet) */
    uint16_t hold_time;
    uint32_t bgp_id;
    uint32_t as4; /* from capability 65, else my_as */
    bool has_as4;
    bool route_refresh;
    bool ext_msg;
    bool addpath_any; /* some AFI/SAFI negotiates receive of Add-Path */
    size_t n_mp;
    struct {
        uint16_t afi;
        uint8_t safi;
    } mp[MM_BGP_OPEN_MAX_MP];
    size_t n_caps;
    mm_bgp_cap caps[MM_BGP_OPEN_MAX_CAPS]; /* in wire order (more are counted, not kept) */
    size_t n_caps_dropped;
} mm_bgp_open;

/* Decode an OPEN body (after the header). */
int mm_bgp_open_decode(mm_cursor *body, mm_bgp_open *o);
/* Encode a full OPEN message (header included) with o's caps[] as one Capabilities parameter. */
int mm_bgp_open_encode(mm_cursor *w, const mm_bgp_open *o);
const char *mm_bgp_cap_name(uint8_t code);

/* ---------------------------------------------------------------- NOTIFICATION (RFC 4271 §4.5) */

typedef struct mm_bgp_notification {
    uint8_t code;
    uint8_t subcode;
    const uint8_t *data;
    size_t data_len;
} mm_bgp_notification;

int mm_bgp_notification_decode(mm_cursor *body, mm_bgp_notification *n);
int mm_bgp_notification_encode(mm_cursor *w, const mm_bgp_notification *n);
const char *mm_bgp_notification_code_name(uint8_t code);
/* KEEPALIVE is a bare header (RFC 4271 §4.4). */
int mm_bgp_keepalive_encode(mm_cursor *w);

/* ---------------------------------------------------------------- prefixes and NLRI */

typedef struct mm_bgp_prefix {
    uint16_t afi;
    uint8_t len;      /* prefix length in bits */
    uint8_t addr[16]; /* zero-padded */
    uint32_t path_id; /* RFC 7911, when add-path is in use */
} mm_bgp_prefix;

/*
 * Next prefix of an IPv4/IPv6 unicast NLRI list (RFC 4271 §4.3, RFC 4760).
 * Returns 1 with *p filled, 0 at the end, MM_EMALFORMED for a length over
 * the address size or a truncated prefix. addpath: a 4-byte path id precedes.
 */
int mm_bgp_nlri_next(mm_cursor *c, uint16_t afi, bool addpath, mm_bgp_prefix *p);
int mm_bgp_nlri_encode(mm_cursor *w, const mm_bgp_prefix *p, bool addpath);
/* "192.0.2.0/24" or "2001:db8::/32" into out (>= 64 bytes). */
void mm_bgp_prefix_format(const mm_bgp_prefix *p, char *out, size_t outlen);
/* Parse the same textual form; MM_EINVAL if not a prefix. */
int mm_bgp_prefix_parse(const char *s, mm_bgp_prefix *p);

/*
 * FlowSpec NLRI (RFC 8955 §4, RFC 8956): next rule as raw bytes (without
 * the 1- or 2-byte length). Returns 1, 0 at the end, or MM_EMALFORMED.
 */
int mm_bgp_flowspec_next(mm_cursor *c, const uint8_t **rule, size_t *rule_len);
/*
 * Render one rule's components as text ("dst 10.0.0.0/24 proto =6 dport >=1000&<=2000").
 * Unknown component types stop decoding with MM_EUNSUPPORTED (the text so far is kept).
 */
int mm_bgp_flowspec_format(uint16_t afi, const uint8_t *rule, size_t rule_len, mm_buf *out);

/* ---------------------------------------------------------------- path attributes (RFC 4271 §4.3)
 */

enum mm_bgp_attr_code {
    MM_BGP_ATTR_ORIGIN = 1,
    MM_BGP_ATTR_AS_PATH = 2,
    MM_BGP_ATTR_NEXT_HOP = 3,
    MM_BGP_ATTR_MED = 4,
    MM_BGP_ATTR_LOCAL_PREF = 5,
    MM_BGP_ATTR_ATOMIC_AGGREGATE = 6,
    MM_BGP_ATTR_AGGREGATOR = 7,
    MM_BGP_ATTR_COMMUNITIES = 8,   /* RFC 1997 */
    MM_BGP_ATTR_ORIGINATOR_ID = 9, /* RFC 4456 */
    MM_BGP_ATTR_CLUSTER_LIST = 10,
    MM_BGP_ATTR_MP_REACH = 14, /* RFC 4760 */
    MM_BGP_ATTR_MP_UNREACH = 15,
    MM_BGP_ATTR_EXT_COMMUNITIES = 16, /* RFC 4360 */
    MM_BGP_ATTR_AS4_PATH = 17,        /* RFC 6793 */
    MM_BGP_ATTR_AS4_AGGREGATOR = 18,
    MM_BGP_ATTR_LARGE_COMMUNITIES = 32, /* RFC 8092 */
};

#define MM_BGP_ATTR_F_OPTIONAL 0x80
#define MM_BGP_ATTR_F_TRANSITIVE 0x40
#define MM_BGP_ATTR_F_PARTIAL 0x20
#define MM_BGP_ATTR_F_EXTLEN 0x10

typedef struct mm_bgp_attr {
    uint8_t flags;
    uint8_t code;
    uint16_t len;
    const uint8_t *val;
} mm_bgp_attr;

/* What the table knows of one attribute code (one row per code). */
typedef struct mm_bgp_attr_desc {
    uint8_t code;
    const char *name; /* JSON key, pmacct-like where pmacct has one */
    uint8_t flags;    /* expected optional/transitive bits */
    uint16_t min_len;
    uint16_t max_len;  /* 0xffff: no maximum */
    uint16_t multiple; /* length must be a multiple of this (0: any) */
} mm_bgp_attr_desc;

const mm_bgp_attr_desc *mm_bgp_attr_desc_find(uint8_t code);

#define MM_BGP_UPDATE_MAX_ATTRS 64

typedef struct mm_bgp_mp {
    bool present;
    uint16_t afi;
    uint8_t safi;
    const uint8_t *nh; /* MP_REACH only */
    uint8_t nh_len;
    const uint8_t *nlri;
    size_t nlri_len;
} mm_bgp_mp;

/* A decoded UPDATE: spans into the message plus the attributes in wire order. */
typedef struct mm_bgp_update {
    const uint8_t *withdrawn;
    size_t withdrawn_len;
    const uint8_t *nlri;
    size_t nlri_len;
    size_t n_attrs;
    mm_bgp_attr attrs[MM_BGP_UPDATE_MAX_ATTRS];
    mm_bgp_mp mp_reach;
    mm_bgp_mp mp_unreach;
    bool as4;     /* AS_PATH carries 4-octet ASNs (decode context) */
    bool addpath; /* NLRI carry path ids (decode context) */
    /* What is wrong (first problem found), NULL if nothing; error_attr names the code. */
    const char *error;
    uint8_t error_attr;
} mm_bgp_update;

/*
 * Decode an UPDATE body. as4/addpath give the session context (BMP: the
 * per-peer A flag; the speaker: negotiated capabilities). Structural errors
 * (lengths that do not add up) return MM_EMALFORMED; a well-framed but bad
 * attribute returns 0 with u->error set, so the caller can apply RFC 7606
 * (treat-as-withdraw, attribute discard) itself. Structural errors set
 * u->error too.
 */
int mm_bgp_update_decode(mm_cursor *body, bool as4, bool addpath, mm_bgp_update *u);
/* Encode a full UPDATE message (header included) from u's spans and attrs[] in order. */
int mm_bgp_update_encode(mm_cursor *w, const mm_bgp_update *u);
/* Append one attribute (flags fixed up for the extended-length bit). */
int mm_bgp_attr_encode(mm_cursor *w, uint8_t flags, uint8_t code, const uint8_t *val, size_t len);
/* The first attribute with this code, or NULL. */
const mm_bgp_attr *mm_bgp_update_attr(const mm_bgp_update *u, uint8_t code);

/* An End-of-RIB marker (RFC 4724 §2): empty UPDATE, or MP_UNREACH with no NLRI. */
bool mm_bgp_update_is_eor(const mm_bgp_update *u);

/*
 * Text renderings of attribute values used by JSON writers. Each appends
 * to out and returns 0 or a negative MM_E* code for a malformed value:
 *  AS_PATH "65001 65002 {65003,65004}" (as4: 4-octet ASNs),
 *  communities "65001:1 65001:2", large "1:2:3 4:5:6",
 *  extended communities "RT:65000:100 rate-limit:1000 0x81aa00011234560f".
 */
int mm_bgp_aspath_format(const uint8_t *v, size_t len, bool as4, mm_buf *out);
int mm_bgp_communities_format(const uint8_t *v, size_t len, mm_buf *out);
int mm_bgp_ext_communities_format(const uint8_t *v, size_t len, mm_buf *out);
int mm_bgp_large_communities_format(const uint8_t *v, size_t len, mm_buf *out);
/* The origin code as pmacct prints it ("i", "e", "u" for INCOMPLETE), NULL for a bad value. */
const char *mm_bgp_origin_name(uint8_t origin);

#ifdef __cplusplus
}
#endif
#endif
