/*
 * Update requests (spec 7.2, 7.7, 10, 17). The order of checks is part of
 * the protocol: hostname, then TTL, then explicit addresses, then TXT; an
 * "auto" address is resolved only afterwards (mm_ddns_update_resolve_auto),
 * so `ttl: 30, ipv4: "auto"` yields invalid_ttl, never invalid_ip.
 * JSON null and an absent member are different things (-02 tri-state).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static int failf(mm_ddns_fail *f, enum mm_ddns_err e, const char *field, const char *msg)
{
    f->err = e;
    f->field = field;
    f->message = msg;
    return MM_EINVAL;
}

/* A member of obj, else of defaults (bulk "defaults"), else NULL. */
static json_t *member(const json_t *obj, const json_t *defaults, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v && defaults)
        v = json_object_get(defaults, key);
    return v;
}

static int parse_addr(json_t *v, int family, const mm_ddns_policy *pol, enum mm_ddns_tri *tri,
                      mm_ddns_addr *a, const char *field, mm_ddns_fail *f)
{
    if (!v) {
        *tri = MM_DDNS_ABSENT;
        return 0;
    }
    if (json_is_null(v)) {
        *tri = MM_DDNS_NULL;
        return 0;
    }
    if (!json_is_string(v))
        return failf(f, MM_DDNS_VALIDATION_ERROR, field, "address must be a string or null");
    const char *s = json_string_value(v);
    size_t l = json_string_length(v);
    if (l == 4 && memcmp(s, "auto", 4) == 0) {
        *tri = MM_DDNS_AUTO;
        return 0;
    }
    if (mm_ddns_addr_parse(s, l, a) < 0 || a->family != family)
        return failf(f, MM_DDNS_INVALID_IP, field,
                     family == AF_INET ? "Not an IPv4 address" : "Not an IPv6 address");
    if (!mm_ddns_addr_publishable(a, pol->allow_doc))
        return failf(f, MM_DDNS_INVALID_IP, field,
                     "Private, loopback, link-local, multicast and reserved addresses are not "
                     "allowed");
    *tri = MM_DDNS_SET;
    return 0;
}

static int parse_txt(json_t *t, mm_ddns_update_req *out, const mm_ddns_policy *pol,
                     mm_ddns_fail *f)
{
    if (!json_is_object(t))
        return failf(f, MM_DDNS_VALIDATION_ERROR, "txt", "txt must be an object");
    if (!pol->txt_enabled)
        return failf(f, MM_DDNS_TXT_NOT_SUPPORTED, "txt", NULL);
    json_t *name = json_object_get(t, "name"), *value = json_object_get(t, "value"),
           *action = json_object_get(t, "action");
    const char *act = action ? json_string_value(action) : "set";
    if (!act || (strcmp(act, "set") && strcmp(act, "delete")))
        return failf(f, MM_DDNS_VALIDATION_ERROR, "txt.action", "action must be set or delete");
    out->txt_delete = strcmp(act, "delete") == 0;
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > MM_DDNS_TXT_LABEL_MAX)
        return failf(f, MM_DDNS_TXT_INVALID_NAME, "txt.name", NULL);
    char owner[MM_DDNS_HOSTNAME_MAX + 2], base[MM_DDNS_HOSTNAME_MAX + 1];
    int w = snprintf(owner, sizeof(owner), "%s.%s", json_string_value(name), out->hostname);
    if (w < 0 || (size_t)w >= sizeof(owner) || strlen(json_string_value(name)) != json_string_length(name) ||
        mm_ddns_hostname_normalize(owner, (size_t)w, true, out->txt_owner) < 0 ||
        mm_ddns_txt_owner_base(out->txt_owner, base, sizeof(base)) < 0)
        return failf(f, MM_DDNS_TXT_INVALID_NAME, "txt.name", NULL);
    if (value && !json_is_string(value))
        return failf(f, MM_DDNS_VALIDATION_ERROR, "txt.value", "value must be a string");
    if (!value && !out->txt_delete)
        return failf(f, MM_DDNS_VALIDATION_ERROR, "txt.value", "value is required");
    if (value) {
        const char *s = json_string_value(value);
        size_t l = json_string_length(value);
        if (l > MM_DDNS_TXT_VALUE_MAX)
            return failf(f, MM_DDNS_TXT_VALUE_TOO_LONG, "txt.value", NULL);
        for (size_t i = 0; i < l; i++) /* printable ASCII: ACME tokens are base64url */
            if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
                return failf(f, MM_DDNS_VALIDATION_ERROR, "txt.value",
                             "value must be printable ASCII");
        if (l == 0 && !out->txt_delete)
            return failf(f, MM_DDNS_VALIDATION_ERROR, "txt.value", "value is required");
        memcpy(out->txt_value, s, l);
        out->txt_value[l] = 0;
        out->txt_has_value = l > 0;
    }
    out->has_txt = true;
    return 0;
}

int mm_ddns_update_parse(const void *json_obj, const void *json_defaults,
                         const mm_ddns_policy *pol, mm_ddns_update_req *out, mm_ddns_fail *f)
{
    const json_t *obj = json_obj, *defaults = json_defaults;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj))
        return failf(f, MM_DDNS_VALIDATION_ERROR, NULL, "request must be a JSON object");
    if (defaults && !json_is_object(defaults))
        defaults = NULL;
    /* 1. hostname */
    json_t *h = json_object_get(obj, "hostname");
    if (!h)
        return failf(f, MM_DDNS_VALIDATION_ERROR, "hostname", "hostname is required");
    if (!json_is_string(h))
        return failf(f, MM_DDNS_VALIDATION_ERROR, "hostname", "hostname must be a string");
    if (strlen(json_string_value(h)) != json_string_length(h))
        return failf(f, MM_DDNS_INVALID_HOSTNAME, "hostname", "hostname contains a NUL byte");
    const char *why = NULL;
    if (mm_ddns_hostname_check(json_string_value(h), json_string_length(h), false, out->hostname,
                               &why) < 0)
        return failf(f, MM_DDNS_INVALID_HOSTNAME, "hostname", why);
    /* 2. ttl: an integer in range; a float or string is a validation error */
    json_t *t = member(obj, defaults, "ttl");
    if (t) {
        if (!json_is_integer(t))
            return failf(f, MM_DDNS_INVALID_TTL, "ttl", "TTL must be an integer");
        json_int_t v = json_integer_value(t);
        if (v < MM_DDNS_TTL_MIN || v > MM_DDNS_TTL_MAX)
            return failf(f, MM_DDNS_INVALID_TTL, "ttl", NULL);
        out->has_ttl = true;
        out->ttl = (uint32_t)v;
    }
    /* 3. explicit addresses ("ip" is the mock's alias of ipv4) */
    json_t *v4 = member(obj, defaults, "ipv4");
    if (!v4)
        v4 = json_object_get(obj, "ip");
    MM_GUARD(parse_addr(v4, AF_INET, pol, &out->v4, &out->a4, "ipv4", f));
    MM_GUARD(parse_addr(member(obj, defaults, "ipv6"), AF_INET6, pol, &out->v6, &out->a6, "ipv6",
                        f));
    /* 4. TXT through /update */
    json_t *txt = json_object_get(obj, "txt");
    if (txt)
        MM_GUARD(parse_txt(txt, out, pol, f));
    /* Neither address nor TTL nor TXT: the -00 default, auto-detect IPv4 (7.2, ours). */
    if (!v4 && !json_object_get(obj, "ipv6") && !t && !txt)
        out->v4 = MM_DDNS_AUTO;
    return 0;
}

/* Loopback peers in test mode stand in for a public address of their family. */
static int auto_one(enum mm_ddns_tri *tri, mm_ddns_addr *a, int family, const mm_ddns_addr *peer,
                    const mm_ddns_policy *pol, mm_ddns_fail *f)
{
    if (*tri != MM_DDNS_AUTO)
        return 0;
    if (peer->family != family) /* -01: only the family the client connected with */
        return failf(f, family == AF_INET ? MM_DDNS_IPV4_AUTO_FAILED : MM_DDNS_IPV6_AUTO_FAILED,
                     family == AF_INET ? "ipv4" : "ipv6", NULL);
    *a = *peer;
    if (pol->allow_loopback_auto && mm_ddns_addr_classify(a) == MM_DDNS_ADDR_LOOPBACK) {
        /* 203.0.113.1 / 2001:db8::1: documentation addresses, publishable in test mode only */
        const char *sub = family == AF_INET ? "203.0.113.1" : "2001:db8::1";
        mm_ddns_addr_parse(sub, strlen(sub), a);
    }
    if (!mm_ddns_addr_publishable(a, pol->allow_doc))
        return failf(f, MM_DDNS_INVALID_IP, family == AF_INET ? "ipv4" : "ipv6",
                     "Detected client address is not public");
    *tri = MM_DDNS_SET;
    return 0;
}

int mm_ddns_update_resolve_auto(mm_ddns_update_req *r, const mm_ddns_addr *peer,
                                const mm_ddns_policy *pol, mm_ddns_fail *f)
{
    mm_ddns_addr p = *peer;
    mm_ddns_addr_unmap(&p);
    MM_GUARD(auto_one(&r->v4, &r->a4, AF_INET, &p, pol, f));
    return auto_one(&r->v6, &r->a6, AF_INET6, &p, pol, f);
}
