/*
 * bgpd_nft.h - install mode of mamori-bgpd (nft.c): FlowSpec rules to an
 * nftables table through libnftables' JSON commands.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_BGPD_NFT_H
#define MAMORI_BGPD_NFT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct bgpd_nft bgpd_nft;

typedef struct bgpd_nft_rule {
    uint16_t afi;
    const uint8_t *rule;
    size_t rule_len;
    const uint8_t *ecomm;
    size_t ecomm_len;
    const char *comment; /* may be NULL */
} bgpd_nft_rule;

int bgpd_nft_new(const char *table, bgpd_nft **out);
/* Delete the table and free. */
void bgpd_nft_free(bgpd_nft *n);
/* Replace the table's content with rules (already in RFC 8955 §5.1 order), atomically. */
int bgpd_nft_sync(bgpd_nft *n, const bgpd_nft_rule *rules, size_t nrules, size_t *installed,
                  char *err, size_t errlen);
/* The nftables rules (a list of expression lists) of one FlowSpec rule, or NULL with *why. */
json_t *bgpd_nft_rule_expr(uint16_t afi, const uint8_t *rule, size_t len, const uint8_t *ec,
                           size_t eclen, const char *counter, const char **why);
/* [{name, packets, bytes}] of the named (IFIT) counters. */
json_t *bgpd_nft_counters(bgpd_nft *n);

#endif
