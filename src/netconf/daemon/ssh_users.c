/*
 * ssh_users.c - who may log in over SSH, read from the server's own
 * configuration: ietf-netconf-server's ssh-server-parameters
 * (ietf-ssh-server grouping) client-authentication/users/user, each with
 * inline public keys in ssh-public-key-format (ietf-crypto-types: the
 * RFC 4253 section 6.6 encoding, base64 in YANG). The user's name is the
 * SSH user name and so the NACM user.
 *
 * The table is rebuilt from running on every change and swapped whole; the
 * transport asks it on each authentication and on each periodic
 * re-verification, so an added key works for the next login and a removed
 * one ends the sessions that used it.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "netconfd_ssh_users.h"
#ifdef MM_NC_HAVE_SSH
#include "mamori/mm_netconf_ssh.h"
#endif

#define NCS "/ietf-netconf-server:netconf-server"
#define USERS_REL "ssh/ssh-server-parameters/client-authentication/users/user"
#define SSH_FORMAT "ietf-crypto-types:ssh-public-key-format"

struct entry {
    char *scope, *user, *key; /* key: base64 without whitespace */
};

struct mm_netconfd_ssh_users {
    struct entry *e;
    size_t n, cap;
};

static const char *child_value(const struct lyd_node *parent, const char *path)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(parent, path, 0, &n) != LY_SUCCESS || !n)
        return NULL;
    return lyd_get_value(n);
}

/* The base64 text without the whitespace XML may carry in it. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t o = 0;
    for (; out && *s; s++)
        if (!isspace((unsigned char)*s))
            out[o++] = *s;
    if (out)
        out[o] = '\0';
    return out;
}

static int add(struct mm_netconfd_ssh_users *t, const char *scope, const char *user,
               const char *key)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct entry *e = realloc(t->e, cap * sizeof(*e));
        MM_ENSURE(e, MM_ENOMEM);
        t->e = e;
        t->cap = cap;
    }
    struct entry *e = &t->e[t->n];
    e->scope = strdup(scope);
    e->user = strdup(user);
    e->key = squeeze(key);
    if (!e->scope || !e->user || !e->key) {
        free(e->scope);
        free(e->user);
        free(e->key);
        return MM_ENOMEM;
    }
    t->n++;
    return 0;
}

/* fn(scope, user, format, key, key's node, arg) for every configured public key. */
typedef int (*visit_fn)(const char *scope, const char *user, const char *format,
                        const char *key, const struct lyd_node *node, void *arg);

/* Scope of a listen endpoint's users "listen:<endpoint>", of a call-home client's "call-home:<client>". */
static int visit_users(const struct lyd_node *ep, const char *name, bool listen, visit_fn fn,
                       void *arg)
{
    char scope[160];
    snprintf(scope, sizeof(scope), "%s%s", listen ? MM_NETCONFD_SCOPE_LISTEN
                                                   : MM_NETCONFD_SCOPE_CALL_HOME,
             name ? name : "");
    struct ly_set *users = NULL;
    if (lyd_find_xpath(ep, USERS_REL, &users) != LY_SUCCESS)
        return 0; /* no ssh case in this context */
    int rc = 0;
    for (uint32_t i = 0; i < users->count && rc == 0; i++) {
        const char *user = child_value(users->dnodes[i], "name");
        struct ly_set *keys = NULL;
        if (!user || lyd_find_xpath(users->dnodes[i], "public-keys/inline-definition/public-key",
                                    &keys) != LY_SUCCESS)
            continue;
        for (uint32_t k = 0; k < keys->count && rc == 0; k++) {
            const char *fmt = child_value(keys->dnodes[k], "public-key-format");
            const char *key = child_value(keys->dnodes[k], "public-key");
            rc = fn(scope, user, fmt ? fmt : "", key ? key : "", keys->dnodes[k], arg);
        }
        ly_set_free(keys, NULL);
    }
    ly_set_free(users, NULL);
    return rc;
}

static int visit_all(const struct lyd_node *running, visit_fn fn, void *arg)
{
    if (!running)
        return 0;
    struct ly_set *set = NULL;
    int rc = 0;
    if (lyd_find_xpath(running, NCS "/listen/endpoints/endpoint[ssh]", &set) == LY_SUCCESS) {
        for (uint32_t i = 0; i < set->count && rc == 0; i++)
            rc = visit_users(set->dnodes[i], child_value(set->dnodes[i], "name"), true, fn, arg);
        ly_set_free(set, NULL);
    }
    set = NULL;
    if (rc == 0 &&
        lyd_find_xpath(running, NCS "/call-home/netconf-client", &set) == LY_SUCCESS) {
        for (uint32_t i = 0; i < set->count && rc == 0; i++) {
            const char *name = child_value(set->dnodes[i], "name");
            struct ly_set *eps = NULL;
            if (!name ||
                lyd_find_xpath(set->dnodes[i], "endpoints/endpoint[ssh]", &eps) != LY_SUCCESS)
                continue;
            for (uint32_t j = 0; j < eps->count && rc == 0; j++)
                rc = visit_users(eps->dnodes[j], name, false, fn, arg);
            ly_set_free(eps, NULL);
        }
        ly_set_free(set, NULL);
    }
    return rc;
}

static int collect(const char *scope, const char *user, const char *format, const char *key,
                   const struct lyd_node *node, void *arg)
{
    (void)node;
    if (strcmp(format, SSH_FORMAT) != 0) {
        /* The running check refuses these; a startup file edited by hand may still have one. */
        mm_log_warn("netconfd-ssh-users", "user=%s format=%s err=\"only %s keys are used\"", user,
                    format, SSH_FORMAT);
        return 0;
    }
    return add(arg, scope, user, key);
}

int mm_netconfd_ssh_users_from_running(const struct lyd_node *running,
                                       mm_netconfd_ssh_users **out)
{
    *out = NULL;
    struct mm_netconfd_ssh_users *t = calloc(1, sizeof(*t));
    MM_ENSURE(t, MM_ENOMEM);
    int rc = visit_all(running, collect, t);
    if (rc < 0) {
        mm_netconfd_ssh_users_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

static bool scope_match(const char *entry, const char *scope)
{
    if (!scope[0]) /* bootstrap listener: the users of any listen endpoint */
        return !strncmp(entry, MM_NETCONFD_SCOPE_LISTEN, strlen(MM_NETCONFD_SCOPE_LISTEN));
    return !strcmp(entry, scope);
}

bool mm_netconfd_ssh_users_allow(const mm_netconfd_ssh_users *t, const char *scope,
                                 const char *user, const char *key_b64)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (scope_match(t->e[i].scope, scope) && !strcmp(t->e[i].user, user) &&
            !strcmp(t->e[i].key, key_b64))
            return true;
    return false;
}

size_t mm_netconfd_ssh_users_count(const mm_netconfd_ssh_users *t) { return t ? t->n : 0; }

void mm_netconfd_ssh_users_free(mm_netconfd_ssh_users *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].scope);
        free(t->e[i].user);
        free(t->e[i].key);
    }
    free(t->e);
    free(t);
}

struct check {
    char *path, *msg;
    size_t path_len, msg_len;
};

static int check_one(const char *scope, const char *user, const char *format, const char *key,
                     const struct lyd_node *node, void *arg)
{
    (void)scope;
    struct check *c = arg;
    char why[200] = "";
    int rc = 0;
    if (strcmp(format, SSH_FORMAT) != 0) {
        snprintf(why, sizeof(why), "public-key-format %s is not supported here (use %s)",
                 format, SSH_FORMAT);
        rc = MM_EINVAL;
    }
#ifdef MM_NC_HAVE_SSH
    char *k = rc == 0 ? squeeze(key) : NULL;
    char type[64];
    if (rc == 0)
        rc = k ? mm_nc_ssh_pubkey_check(k, type, sizeof(type), why, sizeof(why)) : MM_ENOMEM;
    free(k);
#else
    (void)key;
#endif
    if (rc < 0) {
        char *p = lyd_path(node, LYD_PATH_STD, NULL, 0);
        snprintf(c->path, c->path_len, "%s", p ? p : "public-key");
        free(p);
        snprintf(c->msg, c->msg_len, "user %s: %s", user, why);
    }
    return rc;
}

int mm_netconfd_ssh_users_check(const struct lyd_node *proposed, char *path, size_t path_len,
                                char *msg, size_t msg_len)
{
    struct check c = {path, msg, path_len, msg_len};
    return visit_all(proposed, check_one, &c);
}

#ifdef MM_NC_HAVE_SSH
int mm_netconfd_ssh_endpoints_from_running(const struct lyd_node *running,
                                           mm_nc_ssh_endpoint *eps, size_t max, size_t *n)
{
    *n = 0;
    struct ly_set *set = NULL;
    if (!running || lyd_find_xpath(running, NCS "/listen/endpoints/endpoint[ssh]", &set) !=
                        LY_SUCCESS)
        return 0;
    int rc = 0;
    for (uint32_t i = 0; i < set->count && rc == 0; i++) {
        const char *name = child_value(set->dnodes[i], "name");
        struct ly_set *binds = NULL;
        if (lyd_find_xpath(set->dnodes[i], "ssh/tcp-server-parameters/local-bind", &binds) !=
            LY_SUCCESS)
            continue;
        for (uint32_t j = 0; j < binds->count && rc == 0; j++) {
            if (*n == max) {
                rc = MM_ELIMIT;
                break;
            }
            const char *addr = child_value(binds->dnodes[j], "local-address");
            const char *port = child_value(binds->dnodes[j], "local-port");
            mm_nc_ssh_endpoint *e = &eps[*n];
            memset(e, 0, sizeof(*e));
            if (!addr || strlen(addr) >= sizeof(e->address))
                continue;
            snprintf(e->address, sizeof(e->address), "%s", addr);
            e->port = (uint16_t)(port ? strtoul(port, NULL, 10) : MM_NC_SSH_PORT);
            snprintf(e->scope, sizeof(e->scope), MM_NETCONFD_SCOPE_LISTEN "%.50s",
                     name ? name : "");
            (*n)++;
        }
        ly_set_free(binds, NULL);
    }
    ly_set_free(set, NULL);
    return rc;
}
#endif
