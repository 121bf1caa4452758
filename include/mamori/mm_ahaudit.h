/*
 * mm_ahaudit.h - find IP Authentication Header (AH, IP protocol 51, RFC 4302)
 * use on a host and its network: packets (pcap/pcapng files, live capture),
 * kernel IPsec state (XFRM SAs and policies over netlink, per network
 * namespace) and IKE daemon configuration (strongSwan swanctl.conf and
 * ipsec.conf, libreswan ipsec.conf).
 *
 * draft-herbert-deprecate-auth-header-00 deprecates AH (obsoletes RFC 4302);
 * every finding carries its recommendation: move to ESP (RFC 4303) with an
 * AEAD cipher, or ESP-NULL (RFC 2410) with an integrity algorithm when
 * confidentiality is not wanted.
 *
 * The packet walker (mm_ah_walk) is a pure function over one captured frame;
 * it reads only through mm_cursor and never allocates. Everything else
 * collects mm_ah_finding rows in an mm_ah_report.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_AHAUDIT_H
#define MAMORI_MM_AHAUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- packet walker */

/* Link types the walker decodes: LINKTYPE_* / DLT_* numbers of the pcap registry. */
enum mm_ah_linktype {
    MM_AH_LINK_NULL = 0,      /* BSD loopback, 4-byte address family in host order */
    MM_AH_LINK_ETHERNET = 1,  /* Ethernet II, 802.1Q/802.1ad tags */
    MM_AH_LINK_RAW_DLT = 12,  /* DLT_RAW as libpcap reports it on Linux */
    MM_AH_LINK_RAW = 101,     /* LINKTYPE_RAW: IPv4 or IPv6 by version nibble */
    MM_AH_LINK_LOOP = 108,    /* OpenBSD loopback, address family in network order */
    MM_AH_LINK_SLL = 113,     /* Linux cooked capture v1 */
    MM_AH_LINK_IPV4 = 228,
    MM_AH_LINK_IPV6 = 229,
    MM_AH_LINK_SLL2 = 276,    /* Linux cooked capture v2 */
};

/* True if the walker decodes this link type. */
bool mm_ah_linktype_supported(int linktype);

#define MM_AH_MAX_HITS 8       /* AH headers reported per frame */
#define MM_AH_MAX_LAYERS 8     /* IP headers (outer + tunnels) walked per frame */
#define MM_AH_MAX_EXTHDRS 32   /* extension headers walked per IPv6 header */

typedef struct mm_ah_hit {
    uint8_t family;          /* 4 or 6: the IP header that carries the AH */
    uint8_t src[16];         /* its addresses (IPv4 in the first 4 bytes) */
    uint8_t dst[16];
    uint32_t spi;
    uint32_t seq;
    uint8_t next_header;     /* the AH's Next Header */
    uint16_t icv_len;        /* bytes of Integrity Check Value */
    uint8_t depth;           /* 0: outermost IP header; n: inside n tunnels */
    bool truncated;          /* the capture cut the AH header (spi/seq may be 0) */
} mm_ah_hit;

typedef struct mm_ah_walk_result {
    mm_ah_hit hits[MM_AH_MAX_HITS];
    size_t nhits;
    unsigned ip_layers;      /* IP headers decoded */
    bool esp;                /* an ESP header ended the walk (payload opaque) */
    int status;              /* 0 or MM_ETRUNC / MM_EMALFORMED / MM_EUNSUPPORTED / MM_ELIMIT */
    const char *reason;      /* static text naming the problem when status != 0 */
    size_t offset;           /* byte offset in the frame where the problem is */
} mm_ah_walk_result;

/*
 * Walk one captured frame of link type linktype: link layer, IPv4 / IPv6
 * with its extension-header chain (RFC 8200 section 4), AH (RFC 4302
 * section 2), and tunnels (IPv4/IPv6 in IP, protocols 4 and 41; GRE,
 * protocol 47, RFC 2784/2890, including transparent Ethernet bridging).
 * Hits found before a problem are kept. Returns r->status.
 */
int mm_ah_walk(int linktype, const uint8_t *frame, size_t caplen, mm_ah_walk_result *r);

/* ---------------------------------------------------------------- findings */

enum mm_ah_source {
    MM_AH_SRC_PACKET = 0,   /* packets in a capture */
    MM_AH_SRC_SA,           /* kernel XFRM security association */
    MM_AH_SRC_POLICY,       /* kernel XFRM policy with an AH template */
    MM_AH_SRC_CONFIG,       /* IKE daemon configuration */
};

enum mm_ah_verdict {
    MM_AH_IN_USE = 0,       /* packets, SAs or active policies */
    MM_AH_CONFIGURED,       /* configuration enables AH */
};

typedef struct mm_ah_finding {
    enum mm_ah_source source;
    enum mm_ah_verdict verdict;
    char where[320];        /* capture file, "netns NAME", config file:line */
    char src[64];           /* peers, "" when unknown */
    char dst[64];
    bool has_spi;
    uint32_t spi;
    char detail[256];       /* mode, direction, proposal, tunnel depth ... */
    /* packets only */
    uint8_t family;
    uint8_t depth;
    uint64_t packets;
    uint64_t first_frame, last_frame;
    uint32_t seq_first, seq_last;
} mm_ah_finding;

typedef struct mm_ah_report {
    mm_ah_finding *f;
    size_t n, cap;
    char **notes;           /* non-fatal remarks (malformed frames, skipped parts) */
    size_t nnotes;
    char **errors;          /* what could not be audited and why */
    size_t nerrors;
    uint64_t frames;        /* frames read from captures */
    uint64_t frames_bad;    /* frames the walker could not fully decode */
    size_t last_packet;     /* cache: index of the last packet finding + 1 ... */
    mm_ah_hit last_hit;     /* ... and the hit (addresses, SPI, depth) that matched it */
    const char *last_where;
} mm_ah_report;

/* The recommendation every finding carries (draft-herbert-deprecate-auth-header). */
extern const char mm_ah_recommendation[];

void mm_ah_report_init(mm_ah_report *r);
void mm_ah_report_free(mm_ah_report *r);
/* Append a finding (copied); MM_ENOMEM. */
int mm_ah_report_add(mm_ah_report *r, const mm_ah_finding *f);
/* Add a note / an error (printf format). */
void mm_ah_report_note(mm_ah_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mm_ah_report_error(mm_ah_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Count one AH hit of frame number frame (1-based) read from where. The last
 * flow is cached by the where pointer: keep it unchanged (same string) while
 * the frames of one capture are counted.
 */
int mm_ah_report_packet(mm_ah_report *r, const char *where, uint64_t frame, const mm_ah_hit *h);
/* Print as text. */
void mm_ah_report_print(const mm_ah_report *r, FILE *out);
/* One JSON object (jansson json_t *, returned as void * to keep jansson out of this header). */
void *mm_ah_report_json(const mm_ah_report *r);
/* 0 none, 1 found, 2 errors (the exit status of `mamori audit ah`). */
int mm_ah_report_status(const mm_ah_report *r);
/* Format an address of family 4 or 6 into out (INET6_ADDRSTRLEN). */
void mm_ah_addr_format(uint8_t family, const uint8_t *addr, char *out, size_t outlen);

/* ---------------------------------------------------------------- captures */

typedef struct mm_ah_capture_opts {
    bool progress;          /* force the progress line on stderr */
    uint64_t progress_min;  /* otherwise shown for files at least this big when stderr is a tty */
    int duration_s;         /* live: stop after this many seconds (0: until count/signal) */
    uint64_t count;         /* live: stop after this many AH frames (0: no limit) */
    volatile int *stop;     /* live: set non-zero (signal handler) to stop */
} mm_ah_capture_opts;

/* The live-capture prefilter: AH, and the tunnels the walker looks into. */
extern const char mm_ah_bpf_filter[];

/* Read a pcap or pcapng file in one streaming pass. 0, or negative (error also in r). */
int mm_ah_capture_file(const char *path, const mm_ah_capture_opts *o, mm_ah_report *r);
/* Capture on an interface with the BPF prefilter until duration/count/stop. */
int mm_ah_capture_live(const char *iface, const mm_ah_capture_opts *o, mm_ah_report *r);

/* ---------------------------------------------------------------- kernel XFRM */

/*
 * Dump SAs and policies over NETLINK_XFRM in the current network namespace
 * (netns NULL) or in /var/run/netns/NETNS (entered with setns(2) and left
 * again). Needs CAP_NET_ADMIN. Key material in the dump is never read.
 */
int mm_ah_xfrm_scan(const char *netns, mm_ah_report *r);
/* Note (not a finding) whether the running kernel can do AH: modules ah4/ah6, its config. */
void mm_ah_kernel_note(mm_ah_report *r);
/* The same in the namespace of nsfile (e.g. /proc/PID/ns/net); label names it in findings. */
int mm_ah_xfrm_scan_nsfile(const char *nsfile, const char *label, mm_ah_report *r);
/*
 * Parse one buffer of netlink messages from an XFRM dump (NEWSA / NEWPOLICY,
 * DONE, ERROR) and add AH findings labelled where. Returns 1 when DONE was
 * seen, 0 if more messages are expected, negative on a malformed buffer or
 * a netlink error.
 */
int mm_ah_xfrm_parse(const uint8_t *buf, size_t len, const char *where, mm_ah_report *r);

/* ---------------------------------------------------------------- IKE configs */

enum mm_ah_conf_kind {
    MM_AH_CONF_AUTO = 0,    /* swanctl syntax if the file has sections, else ipsec.conf */
    MM_AH_CONF_SWANCTL,     /* strongSwan swanctl.conf */
    MM_AH_CONF_IPSEC,       /* ipsec.conf, strongSwan starter or libreswan */
};

/* Scan a config file (includes followed, depth-limited). 0 or negative (error also in r). */
int mm_ah_conf_scan_file(const char *path, enum mm_ah_conf_kind kind, mm_ah_report *r);
/* Scan config text of len bytes; name labels findings. */
int mm_ah_conf_scan_buf(const char *text, size_t len, const char *name, enum mm_ah_conf_kind kind,
                        mm_ah_report *r);

#ifdef __cplusplus
}
#endif
#endif
