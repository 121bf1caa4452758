/*
 * Hostnames (spec section 10): stored as A-labels, <= 253 characters, >= 2
 * labels of 1-63 LDH characters not starting or ending with '-'; one
 * trailing dot stripped; stored lowercase. TXT owner names may start with
 * an underscore label from the allowed-prefix table (section 7.6).
 * Internationalised input (IDNA2008, RFC 5890-5891): a label with non-ASCII
 * bytes is a U-label in UTF-8, converted to its A-label with libidn2 (UTS
 * #46 non-transitional mapping, so "Bücher" works like "bücher"; STD3 rules);
 * a label given as an A-label ("xn--") must decode and re-encode to itself.
 * Either failure names the label and libidn2's reason.
 * Untrusted bytes are read through mm_cursor.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns.h"

/* Owner-name prefixes TXT may be written under (ACME DNS-01, DMARC). */
static const char *const txt_prefixes[] = {"_acme-challenge", "_dmarc"};

static bool is_ldh(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

static uint8_t lower(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch;
}

static int ldh_normalize(const char *in, size_t len, bool txt_owner, char *out)
{
    if (!in)
        return MM_EMALFORMED;
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0 || len > MM_DDNS_HOSTNAME_MAX)
        return MM_EMALFORMED;
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)in, len);
    size_t labels = 0, n = 0, label_len = 0;
    uint8_t prev = '.';
    while (mm_cursor_remaining(&c) > 0) {
        uint8_t ch = lower(mm_cursor_read_u8(&c));
        if (ch == '.') {
            if (label_len == 0 || prev == '-')
                return MM_EMALFORMED;
            labels++;
            label_len = 0;
        } else {
            bool underscore_ok = txt_owner && labels == 0 && label_len == 0 && ch == '_';
            if (!is_ldh(ch) && !underscore_ok)
                return MM_EMALFORMED;
            if (ch == '-' && label_len == 0)
                return MM_EMALFORMED;
            if (++label_len > 63)
                return MM_EMALFORMED;
        }
        out[n++] = (char)ch;
        prev = ch;
    }
    if (label_len == 0 || prev == '-')
        return MM_EMALFORMED;
    labels++;
    out[n] = 0;
    return labels >= 2 ? 0 : MM_EMALFORMED;
}

#define TOO_LONG "hostname longer than 253 characters (as A-labels)"

/* Reason texts: static storage per thread (the engine runs on one thread at a time). */
static _Thread_local char why_buf[160];

static void say(const char **why, const char *what, const char *label, size_t ll, int rc)
{
    if (!why)
        return;
    snprintf(why_buf, sizeof(why_buf), "%s '%.*s': %s", what, (int)(ll > 63 ? 63 : ll), label,
             idn2_strerror(rc));
    *why = why_buf;
}

/* Is this (lowercased) A-label a valid IDNA2008 A-label? */
static int alabel_check(const char *label, size_t ll, const char **why)
{
    char a[64], *u = NULL, *back = NULL;
    if (ll >= sizeof(a))
        return MM_EMALFORMED;
    for (size_t i = 0; i < ll; i++)
        a[i] = (char)lower((uint8_t)label[i]);
    a[ll] = 0;
    int rc = idn2_to_unicode_8z8z(a, &u, 0);
    if (rc == IDN2_OK)
        rc = idn2_to_ascii_8z(u, &back, IDN2_NONTRANSITIONAL | IDN2_USE_STD3_ASCII_RULES);
    if (rc == IDN2_OK && strcmp(back, a) != 0)
        rc = IDN2_ALABEL_ROUNDTRIP_FAILED;
    if (rc != IDN2_OK)
        say(why, "invalid A-label", label, ll, rc);
    free(u);
    free(back);
    return rc == IDN2_OK ? 0 : MM_EMALFORMED;
}

int mm_ddns_hostname_check(const char *in, size_t len, bool txt_owner, char *out, const char **why)
{
    if (why)
        *why = NULL;
    if (!in || len > MM_DDNS_HOSTNAME_MAX * 4) { /* a U-label is at most 4 bytes a character */
        if (why)
            *why = TOO_LONG;
        return MM_EMALFORMED;
    }
    /* Convert label by label into an ASCII name, then the LDH rules decide. */
    char ascii[MM_DDNS_HOSTNAME_MAX * 2 + 2];
    size_t n = 0;
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)in, len);
    while (mm_cursor_remaining(&c) > 0) {
        const char *label = (const char *)mm_cursor_ptr(&c);
        size_t rem = mm_cursor_remaining(&c), ll = 0;
        bool wide = false;
        while (ll < rem && label[ll] != '.') {
            if ((uint8_t)label[ll] >= 0x80)
                wide = true;
            ll++;
        }
        mm_cursor_skip(&c, ll < rem ? ll + 1 : ll);
        bool last_dot = ll < rem;
        if (wide) {
            /*
             * The ASCII part of a U-label is LDH like any label; checked
             * here because libidn2 2.3's STD3 handling drops a '_' silently
             * instead of refusing the label.
             */
            for (size_t i = 0; i < ll; i++) {
                uint8_t ch = lower((uint8_t)label[i]);
                if (ch < 0x80 && !is_ldh(ch)) {
                    if (why) {
                        snprintf(why_buf, sizeof(why_buf),
                                 "invalid internationalised label '%.*s': ASCII other than "
                                 "letters, digits and '-'", (int)(ll > 63 ? 63 : ll), label);
                        *why = why_buf;
                    }
                    return MM_EMALFORMED;
                }
            }
            char u[MM_DDNS_HOSTNAME_MAX * 4 + 1], *a = NULL;
            memcpy(u, label, ll);
            u[ll] = 0;
            int rc = idn2_to_ascii_8z(u, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL |
                                                   IDN2_USE_STD3_ASCII_RULES);
            if (rc != IDN2_OK) {
                say(why, "invalid internationalised label", label, ll, rc);
                return MM_EMALFORMED;
            }
            size_t al = strlen(a);
            if (n + al + 1 >= sizeof(ascii)) {
                free(a);
                if (why)
                    *why = TOO_LONG;
                return MM_EMALFORMED;
            }
            memcpy(ascii + n, a, al);
            n += al;
            free(a);
        } else {
            if (ll >= 4 && (label[0] | 0x20) == 'x' && (label[1] | 0x20) == 'n' && label[2] == '-' &&
                label[3] == '-' && alabel_check(label, ll, why) < 0)
                return MM_EMALFORMED;
            if (n + ll + 1 >= sizeof(ascii)) {
                if (why)
                    *why = TOO_LONG;
                return MM_EMALFORMED;
            }
            memcpy(ascii + n, label, ll);
            n += ll;
        }
        if (last_dot)
            ascii[n++] = '.';
    }
    int rc = ldh_normalize(ascii, n, txt_owner, out);
    if (rc < 0 && why && !*why)
        *why = n > MM_DDNS_HOSTNAME_MAX + 1 ? TOO_LONG
                                            : "hostname must be at least two labels of letters, "
                                              "digits and '-' (1-63 each, no '-' at either end)";
    return rc;
}

int mm_ddns_hostname_normalize(const char *in, size_t len, bool txt_owner, char *out)
{
    return mm_ddns_hostname_check(in, len, txt_owner, out, NULL);
}

bool mm_ddns_name_in_zone(const char *name, const char *zone)
{
    size_t n = strlen(name), z = strlen(zone);
    if (z == 0 || n < z)
        return false;
    if (n == z)
        return strcmp(name, zone) == 0;
    return name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

int mm_ddns_txt_owner_base(const char *owner, char *out, size_t outlen)
{
    const char *dot = strchr(owner, '.');
    if (!dot)
        return MM_EPERM;
    size_t l = (size_t)(dot - owner);
    for (size_t i = 0; i < sizeof(txt_prefixes) / sizeof(txt_prefixes[0]); i++) {
        if (strlen(txt_prefixes[i]) == l && memcmp(owner, txt_prefixes[i], l) == 0) {
            if (strchr(dot + 1, '.') == NULL) /* base must still have two labels */
                return MM_EPERM;
            int w = snprintf(out, outlen, "%s", dot + 1);
            return (w < 0 || (size_t)w >= outlen) ? MM_ESPACE : 0;
        }
    }
    return MM_EPERM;
}
