/*
 * acdc_names.c - EVERY provisional [P] name of the ACDC profile, in one table.
 *
 * The body of draft-nurpmeso-dkim-access-control-diff-changes-10 could not be
 * read (see ../shared/specs/dkim-acdc.md 0 and 6); these names are the
 * project's own and are replaced here, and only here, once the draft's real
 * tag names, header field and reason strings are known.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mamori/mm_dkim.h"

static const struct {
    enum mm_dkim_acdc_id id;
    const char *name;
    const char *what; /* spec section of the provisional profile */
} acdc_names[MM_ACDC_ID_COUNT] = {
    {MM_ACDC_TAG_N, "acdc_n", "5.2 instance number 1..255 (marks an ACDC signature)"},
    {MM_ACDC_TAG_S, "acdc_s", "5.2 per-signature salt, base64 of 16 octets"},
    {MM_ACDC_TAG_MF, "acdc_mf", "5.3 envelope hash of MAIL FROM"},
    {MM_ACDC_TAG_RT, "acdc_rt", "5.3 sorted envelope hashes of every RCPT TO"},
    {MM_ACDC_TAG_PR, "acdc_pr", "5.3 RCPT TO this hop received for, under instance k-1's salt"},
    {MM_ACDC_TAG_PS, "acdc_ps", "5.4 SHA-256 of instance k-1's decoded b="},
    {MM_ACDC_TAG_D, "acdc_d", "5.2 1 = this hop added a change record"},
    {MM_ACDC_HDR_DIFF, "ACDC-Diff", "5.5 differential change record header field"},
    {MM_ACDC_KIND_MAILFROM, "MAIL FROM", "5.3 EH kind label"},
    {MM_ACDC_KIND_RCPT, "RCPT TO", "5.3 EH kind label"},
    {MM_ACDC_R_MAILFROM, "acdc-envelope-mailfrom-mismatch", "5.8 reason"},
    {MM_ACDC_R_RCPT, "acdc-envelope-rcpt-not-authorized", "5.8 reason"},
    {MM_ACDC_R_CHAIN, "acdc-chain-broken", "5.8 reason"},
    {MM_ACDC_R_DIFF, "acdc-diff-invalid", "5.8 reason"},
    {MM_ACDC_R_SEQUENCE, "acdc-instance-sequence-invalid", "5.4 reason (permerror)"},
};

const char *mm_dkim_acdc_name(enum mm_dkim_acdc_id id)
{
    if ((unsigned)id >= MM_ACDC_ID_COUNT || acdc_names[id].id != id)
        return "?";
    return acdc_names[id].name;
}
