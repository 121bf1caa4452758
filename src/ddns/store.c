/*
 * The ddns store over db.h (SQLite by default, PostgreSQL for several
 * ddnsd instances): tokens (keyed hashes only), grants, zones, hosts, TXT
 * values, and the queue of RFC 2136 changes still to push.
 *
 * Durability: an update is acknowledged only after its COMMIT returned (see
 * db.c for what COMMIT guarantees on each backend). The DNS push work is
 * queued in the same transaction as the data, so a crash between commit and
 * push loses no DNS change either.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "db.h"
#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

struct mm_ddns_store {
    db *db;
};

/* One row per table: SQLite and PostgreSQL spellings of the same schema. */
static const struct { const char *lite, *pg; } schema[] = {
    {"CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
     " hint TEXT NOT NULL, scopes INTEGER NOT NULL, created INTEGER NOT NULL,"
     " expires INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0)",
     "CREATE TABLE IF NOT EXISTS tokens(id BIGSERIAL PRIMARY KEY, hash BYTEA NOT NULL UNIQUE,"
     " hint TEXT NOT NULL, scopes BIGINT NOT NULL, created BIGINT NOT NULL,"
     " expires BIGINT NOT NULL DEFAULT 0, revoked BIGINT NOT NULL DEFAULT 0)"},
    {"CREATE TABLE IF NOT EXISTS grants(token_id INTEGER NOT NULL, kind TEXT NOT NULL,"
     " name TEXT NOT NULL, PRIMARY KEY(token_id, kind, name))",
     "CREATE TABLE IF NOT EXISTS grants(token_id BIGINT NOT NULL, kind TEXT NOT NULL,"
     " name TEXT NOT NULL, PRIMARY KEY(token_id, kind, name))"},
    {"CREATE TABLE IF NOT EXISTS zones(name TEXT PRIMARY KEY, server TEXT NOT NULL,"
     " port INTEGER NOT NULL, key_name TEXT NOT NULL, key_alg TEXT NOT NULL,"
     " key_secret TEXT NOT NULL)",
     "CREATE TABLE IF NOT EXISTS zones(name TEXT PRIMARY KEY, server TEXT NOT NULL,"
     " port BIGINT NOT NULL, key_name TEXT NOT NULL, key_alg TEXT NOT NULL,"
     " key_secret TEXT NOT NULL)"},
    {"CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY, zone TEXT NOT NULL,"
     " ipv4 TEXT NOT NULL DEFAULT '', ipv6 TEXT NOT NULL DEFAULT '', ttl INTEGER NOT NULL,"
     " created INTEGER NOT NULL, updated INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0)",
     "CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY, zone TEXT NOT NULL,"
     " ipv4 TEXT NOT NULL DEFAULT '', ipv6 TEXT NOT NULL DEFAULT '', ttl BIGINT NOT NULL,"
     " created BIGINT NOT NULL, updated BIGINT NOT NULL, count BIGINT NOT NULL DEFAULT 0)"},
    {"CREATE TABLE IF NOT EXISTS txt(owner TEXT NOT NULL, value TEXT NOT NULL,"
     " ttl INTEGER NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(owner, value))",
     "CREATE TABLE IF NOT EXISTS txt(owner TEXT NOT NULL, value TEXT NOT NULL,"
     " ttl BIGINT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY(owner, value))"},
    {"CREATE TABLE IF NOT EXISTS push(id INTEGER PRIMARY KEY AUTOINCREMENT, zone TEXT NOT NULL,"
     " name TEXT NOT NULL, rtype INTEGER NOT NULL, op INTEGER NOT NULL, data TEXT NOT NULL,"
     " ttl INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
     " next_ms INTEGER NOT NULL DEFAULT 0)",
     "CREATE TABLE IF NOT EXISTS push(id BIGSERIAL PRIMARY KEY, zone TEXT NOT NULL,"
     " name TEXT NOT NULL, rtype BIGINT NOT NULL, op BIGINT NOT NULL, data TEXT NOT NULL,"
     " ttl BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,"
     " next_ms BIGINT NOT NULL DEFAULT 0)"},
};

static void copy(char *out, size_t outlen, const char *in)
{
    snprintf(out, outlen, "%s", in);
}

int mm_ddns_store_open(const char *target, mm_ddns_store **out)
{
    mm_ddns_store *s = calloc(1, sizeof(*s));
    if (!s)
        return MM_ENOMEM;
    int rc = db_open(target, &s->db);
    for (size_t i = 0; rc == 0 && i < sizeof(schema) / sizeof(schema[0]); i++) {
        int e = db_exec(s->db, db_is_pg(s->db) ? schema[i].pg : schema[i].lite, NULL);
        rc = e < 0 && e != MM_EEXIST ? e : 0; /* two instances creating at once */
    }
    if (rc < 0) {
        mm_ddns_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mm_ddns_store_close(mm_ddns_store *s)
{
    if (!s)
        return;
    db_close(s->db);
    free(s);
}

int mm_ddns_store_relax(mm_ddns_store *s)
{
    return db_relax(s->db);
}

int mm_ddns_store_group_begin(mm_ddns_store *s)
{
    return db_group_begin(s->db);
}

int mm_ddns_store_group_end(mm_ddns_store *s, bool commit)
{
    return db_group_end(s->db, commit);
}

/* ------------------------------------------------------------ tokens and grants */

int mm_ddns_store_token_add(mm_ddns_store *s, const uint8_t hash[MM_DDNS_HASH_LEN],
                            const char *hint, uint32_t scopes, int64_t expires, int64_t *id)
{
    db_rows *r = db_query(s->db, "INSERT INTO tokens(hash,hint,scopes,created,expires)"
                                 " VALUES(?,?,?,?,?) RETURNING id",
                          "btiii", hash, hint, (int64_t)scopes, (int64_t)time(NULL), expires);
    if (!r)
        return MM_EIO;
    int rc = db_next(r) ? 0 : MM_EIO;
    if (rc == 0)
        *id = db_int(r, 0);
    db_done(r);
    return rc;
}

int mm_ddns_store_token_find(mm_ddns_store *s, const uint8_t hash[MM_DDNS_HASH_LEN],
                             mm_ddns_token_info *out)
{
    /*
     * The index lookup is not constant time, but it is keyed by an HMAC
     * under a secret key: its timing says nothing about stored tokens. The
     * stored hash is compared again in constant time all the same.
     */
    db_rows *r = db_query(s->db, "SELECT id, hash, scopes, revoked, expires, hint FROM tokens"
                                 " WHERE hash = ?", "b", hash);
    if (!r)
        return MM_EIO;
    int rc = MM_ENOENT;
    size_t bl = 0;
    if (db_next(r)) {
        const uint8_t *b = db_blob(r, 1, &bl);
        if (b && bl == MM_DDNS_HASH_LEN && mm_ddns_hash_equal(b, hash)) {
            out->id = db_int(r, 0);
            out->scopes = (uint32_t)db_int(r, 2);
            out->revoked = db_int(r, 3) != 0;
            out->expires = db_int(r, 4);
            copy(out->hint, sizeof(out->hint), db_text(r, 5));
            rc = 0;
        }
    }
    db_done(r);
    return rc;
}

int mm_ddns_store_token_revoke(mm_ddns_store *s, int64_t id)
{
    int n = db_exec(s->db, "UPDATE tokens SET revoked = 1 WHERE id = ?", "i", id);
    return n < 0 ? n : n == 1 ? 0 : MM_ENOENT;
}

int mm_ddns_store_grant_add(mm_ddns_store *s, int64_t token_id, const char *kind,
                            const char *name)
{
    int rc = db_exec(s->db, "INSERT INTO grants(token_id,kind,name) VALUES(?,?,?)", "itt",
                     token_id, kind, name);
    return rc == MM_EEXIST || rc >= 0 ? 0 : rc;
}

int mm_ddns_store_may_manage(mm_ddns_store *s, int64_t token_id, const char *name, bool *ok)
{
    *ok = false;
    db_rows *r = db_query(s->db, "SELECT kind, name FROM grants WHERE token_id = ?", "i", token_id);
    if (!r)
        return MM_EIO;
    while (!*ok && db_next(r)) {
        const char *kind = db_text(r, 0), *g = db_text(r, 1);
        if (strcmp(kind, "host") == 0)
            *ok = strcmp(g, name) == 0;
        else if (strcmp(kind, "zone") == 0)
            *ok = mm_ddns_name_in_zone(name, g);
    }
    db_done(r);
    return 0;
}

/* ------------------------------------------------------------ zones and hosts */

int mm_ddns_store_zone_add(mm_ddns_store *s, const mm_ddns_zone *z)
{
    int rc = db_exec(s->db, "INSERT INTO zones VALUES(?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE"
                            " SET server=excluded.server, port=excluded.port,"
                            " key_name=excluded.key_name, key_alg=excluded.key_alg,"
                            " key_secret=excluded.key_secret",
                     "ttittt", z->name, z->server, (int64_t)z->port, z->key_name, z->key_alg,
                     z->key_secret);
    if (rc < 0)
        return rc;
    /* Hosts already registered under the new zone now belong to it. */
    db_rows *r = db_query(s->db, "SELECT name, zone FROM hosts", NULL);
    if (!r)
        return MM_EIO;
    char names[256][MM_DDNS_HOSTNAME_MAX + 1];
    size_t n = 0;
    while (db_next(r) && n < 256)
        if (mm_ddns_name_in_zone(db_text(r, 0), z->name) && strlen(db_text(r, 1)) < strlen(z->name))
            copy(names[n++], sizeof(names[0]), db_text(r, 0));
    db_done(r);
    for (size_t i = 0; i < n; i++)
        MM_GUARD(db_exec(s->db, "UPDATE hosts SET zone = ? WHERE name = ?", "tt", z->name, names[i]));
    return 0;
}

int mm_ddns_store_zone_get(mm_ddns_store *s, const char *name, mm_ddns_zone *out)
{
    db_rows *r = db_query(s->db, "SELECT name, server, port, key_name, key_alg, key_secret"
                                 " FROM zones WHERE name = ?", "t", name);
    if (!r)
        return MM_EIO;
    int rc = MM_ENOENT;
    if (db_next(r)) {
        copy(out->name, sizeof(out->name), db_text(r, 0));
        copy(out->server, sizeof(out->server), db_text(r, 1));
        out->port = (uint16_t)db_int(r, 2);
        copy(out->key_name, sizeof(out->key_name), db_text(r, 3));
        copy(out->key_alg, sizeof(out->key_alg), db_text(r, 4));
        copy(out->key_secret, sizeof(out->key_secret), db_text(r, 5));
        rc = 0;
    }
    db_done(r);
    return rc;
}

/* The longest configured zone covering name, "" if none. */
static int zone_of(mm_ddns_store *s, const char *name, char *out, size_t outlen)
{
    out[0] = 0;
    db_rows *r = db_query(s->db, "SELECT name FROM zones", NULL);
    if (!r)
        return MM_EIO;
    while (db_next(r)) {
        const char *z = db_text(r, 0);
        if (mm_ddns_name_in_zone(name, z) && strlen(z) > strlen(out))
            copy(out, outlen, z);
    }
    db_done(r);
    return 0;
}

int mm_ddns_store_host_add(mm_ddns_store *s, const char *name, int64_t now_ms)
{
    char zone[MM_DDNS_HOSTNAME_MAX + 1];
    MM_GUARD(zone_of(s, name, zone, sizeof(zone)));
    int rc = db_exec(s->db, "INSERT INTO hosts(name,zone,ttl,created,updated) VALUES(?,?,?,?,?)",
                     "ttiii", name, zone, (int64_t)MM_DDNS_TTL_DEFAULT, now_ms, now_ms);
    return rc < 0 ? rc : 0;
}

#define HOST_COLS "name, zone, ipv4, ipv6, ttl, created, updated, count"

static void host_row(db_rows *r, mm_ddns_host *h)
{
    copy(h->name, sizeof(h->name), db_text(r, 0));
    copy(h->zone, sizeof(h->zone), db_text(r, 1));
    copy(h->ipv4, sizeof(h->ipv4), db_text(r, 2));
    copy(h->ipv6, sizeof(h->ipv6), db_text(r, 3));
    h->ttl = (uint32_t)db_int(r, 4);
    h->created_ms = db_int(r, 5);
    h->updated_ms = db_int(r, 6);
    h->update_count = db_int(r, 7);
}

int mm_ddns_store_host_get(mm_ddns_store *s, const char *name, mm_ddns_host *out)
{
    db_rows *r = db_query(s->db, "SELECT " HOST_COLS " FROM hosts WHERE name = ?", "t", name);
    if (!r)
        return MM_EIO;
    int rc = MM_ENOENT;
    if (db_next(r)) {
        host_row(r, out);
        rc = 0;
    }
    db_done(r);
    return rc;
}

int mm_ddns_store_host_each(mm_ddns_store *s, int64_t token_id, mm_ddns_host_cb cb, void *arg)
{
    db_rows *r = db_query(s->db, "SELECT " HOST_COLS " FROM hosts ORDER BY name", NULL);
    if (!r)
        return MM_EIO;
    int rc = 0;
    /* Collect first: grant checks query the same connection. */
    mm_ddns_host *hs = NULL;
    size_t n = 0, cap = 0;
    while (rc == 0 && db_next(r)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            mm_ddns_host *nh = realloc(hs, cap * sizeof(*hs));
            if (!nh) {
                rc = MM_ENOMEM;
                break;
            }
            hs = nh;
        }
        host_row(r, &hs[n++]);
    }
    db_done(r);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool ok = token_id < 0;
        if (!ok)
            rc = mm_ddns_store_may_manage(s, token_id, hs[i].name, &ok);
        if (rc == 0 && ok)
            rc = cb(&hs[i], arg);
    }
    free(hs);
    return rc;
}

int mm_ddns_store_list(mm_ddns_store *s, mm_ddns_row_cb cb, void *arg)
{
    char line[1024];
    int rc = 0;
    db_rows *r = db_query(s->db, "SELECT name, server, port, key_name FROM zones ORDER BY name", NULL);
    while (r && rc == 0 && db_next(r)) {
        snprintf(line, sizeof(line), "%s primary=%s@%lld key=%s", db_text(r, 0), db_text(r, 1),
                 (long long)db_int(r, 2), db_text(r, 3)[0] ? db_text(r, 3) : "-");
        rc = cb("zone", line, arg);
    }
    db_done(r);
    r = rc == 0 ? db_query(s->db, "SELECT name, zone, ipv4, ipv6, ttl FROM hosts ORDER BY name", NULL)
                : NULL;
    while (r && rc == 0 && db_next(r)) {
        snprintf(line, sizeof(line), "%s zone=%s ipv4=%s ipv6=%s ttl=%lld", db_text(r, 0),
                 db_text(r, 1)[0] ? db_text(r, 1) : "-", db_text(r, 2)[0] ? db_text(r, 2) : "-",
                 db_text(r, 3)[0] ? db_text(r, 3) : "-", (long long)db_int(r, 4));
        rc = cb("host", line, arg);
    }
    db_done(r);
    r = rc == 0 ? db_query(s->db, "SELECT t.id, t.hint, t.scopes, t.revoked, g.kind, g.name FROM"
                                  " tokens t LEFT JOIN grants g ON g.token_id = t.id"
                                  " ORDER BY t.id, g.kind, g.name", NULL)
                : NULL;
    int64_t cur = -1;
    size_t n = 0;
    while (r && rc == 0 && db_next(r)) {
        if (db_int(r, 0) != cur) {
            if (cur >= 0)
                rc = cb("token", line, arg);
            char sc[128];
            mm_ddns_scopes_format((uint32_t)db_int(r, 2), sc, sizeof(sc));
            cur = db_int(r, 0);
            n = (size_t)snprintf(line, sizeof(line), "id=%lld hint=%s scopes=%s revoked=%lld grants=",
                                 (long long)cur, db_text(r, 1), sc, (long long)db_int(r, 3));
        }
        if (db_text(r, 4)[0] && n < sizeof(line))
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s:%s",
                                  line[n - 1] == '=' ? "" : ",", db_text(r, 4), db_text(r, 5));
    }
    if (rc == 0 && cur >= 0)
        rc = cb("token", line, arg);
    db_done(r);
    return rc;
}

/* ------------------------------------------------------------ updates */

static int push_add(mm_ddns_store *s, const char *zone, const char *name, int rtype, int op,
                    const char *data, uint32_t ttl)
{
    if (!zone[0])
        return 0; /* no zone configured for this name: nothing to push */
    int rc = db_exec(s->db, "INSERT INTO push(zone,name,rtype,op,data,ttl) VALUES(?,?,?,?,?,?)",
                     "ttiiti", zone, name, (int64_t)rtype, (int64_t)op, data, (int64_t)ttl);
    return rc < 0 ? rc : 0;
}

/* One address family of an update: new text into cur, queue the DNS change. */
static int apply_family(mm_ddns_store *s, const mm_ddns_host *b, enum mm_ddns_tri tri,
                        const mm_ddns_addr *a, char *cur, size_t curlen, int rtype, uint32_t ttl,
                        bool ttl_changed, bool *changed)
{
    char text[46] = "";
    if (tri == MM_DDNS_SET)
        mm_ddns_addr_format(a, text, sizeof(text));
    if (tri == MM_DDNS_SET || tri == MM_DDNS_NULL) {
        if (strcmp(cur, text) != 0)
            *changed = true;
        copy(cur, curlen, text);
    }
    bool differs = (tri == MM_DDNS_SET || tri == MM_DDNS_NULL) &&
                   strcmp(rtype == 1 ? b->ipv4 : b->ipv6, text) != 0;
    if (!differs && !(ttl_changed && cur[0]))
        return 0;
    if (cur[0])
        return push_add(s, b->zone, b->name, rtype, MM_DDNS_PUSH_SET, cur, ttl);
    return push_add(s, b->zone, b->name, rtype, MM_DDNS_PUSH_DELETE_RRSET, "", ttl);
}

int mm_ddns_store_host_update(mm_ddns_store *s, const mm_ddns_update_req *r, int64_t now_ms,
                              mm_ddns_host *before, mm_ddns_host *after, bool *changed)
{
    *changed = false;
    /* Writers of one name serialise here, so previous_* is exactly what was stored. */
    MM_GUARD(db_begin_write(s->db, r->hostname));
    int rc = mm_ddns_store_host_get(s, r->hostname, before);
    if (rc < 0)
        goto out;
    *after = *before;
    uint32_t ttl = r->has_ttl ? r->ttl : before->ttl;
    bool ttl_changed = ttl != before->ttl;
    after->ttl = ttl;
    rc = apply_family(s, before, r->v4, &r->a4, after->ipv4, sizeof(after->ipv4), 1, ttl,
                      ttl_changed, changed);
    if (rc == 0)
        rc = apply_family(s, before, r->v6, &r->a6, after->ipv6, sizeof(after->ipv6), 28, ttl,
                          ttl_changed, changed);
    if (rc < 0)
        goto out;
    after->updated_ms = now_ms;
    after->update_count = before->update_count + 1;
    rc = db_exec(s->db, "UPDATE hosts SET ipv4=?, ipv6=?, ttl=?, updated=?, count=count+1"
                        " WHERE name=?", "ttiit", after->ipv4, after->ipv6, (int64_t)ttl, now_ms,
                 r->hostname);
    rc = rc < 0 ? rc : 0;
out:
    if (rc == 0)
        return db_commit(s->db);
    db_rollback(s->db);
    return rc;
}

/* ------------------------------------------------------------ TXT */

int mm_ddns_store_txt_get(mm_ddns_store *s, const char *owner,
                          char (*values)[MM_DDNS_TXT_VALUE_MAX + 1], size_t max, size_t *n,
                          uint32_t *ttl)
{
    *n = 0;
    *ttl = MM_DDNS_TXT_TTL_DEFAULT;
    db_rows *r = db_query(s->db, "SELECT value, ttl FROM txt WHERE owner = ? ORDER BY created, value",
                          "t", owner);
    if (!r)
        return MM_EIO;
    while (*n < max && db_next(r)) {
        copy(values[*n], MM_DDNS_TXT_VALUE_MAX + 1, db_text(r, 0));
        *ttl = (uint32_t)db_int(r, 1);
        (*n)++;
    }
    db_done(r);
    return 0;
}

static int txt_count(mm_ddns_store *s, const char *owner, size_t *count)
{
    db_rows *r = db_query(s->db, "SELECT count(*) FROM txt WHERE owner = ?", "t", owner);
    if (!r)
        return MM_EIO;
    int rc = db_next(r) ? 0 : MM_EIO;
    *count = rc == 0 ? (size_t)db_int(r, 0) : 0;
    db_done(r);
    return rc;
}

int mm_ddns_store_txt_add(mm_ddns_store *s, const char *owner, const char *zone,
                          const char *value, uint32_t ttl, int64_t now_ms, size_t *count)
{
    MM_GUARD(db_begin_write(s->db, owner));
    size_t n = 0;
    int rc = txt_count(s, owner, &n);
    if (rc == 0) {
        /* ON CONFLICT DO NOTHING: an existing value is a no-op (and keeps PG's transaction usable) */
        rc = db_exec(s->db, "INSERT INTO txt(owner,value,ttl,created) VALUES(?,?,?,?)"
                            " ON CONFLICT DO NOTHING", "ttii", owner, value, (int64_t)ttl, now_ms);
        if (rc == 0) {
            rc = 1; /* already there: idempotent, nothing to push */
        } else if (rc > 0 && n + 1 > MM_DDNS_TXT_MAX_RECORDS) {
            rc = MM_ELIMIT;
        } else if (rc > 0) {
            n++;
            rc = push_add(s, zone, owner, 16, MM_DDNS_PUSH_ADD, value, ttl);
        }
    }
    *count = n;
    if (rc >= 0)
        return db_commit(s->db);
    db_rollback(s->db);
    return rc;
}

int mm_ddns_store_txt_delete(mm_ddns_store *s, const char *owner, const char *zone,
                             const char *value, size_t *removed, size_t *remaining)
{
    MM_GUARD(db_begin_write(s->db, owner));
    int rc = value ? db_exec(s->db, "DELETE FROM txt WHERE owner = ? AND value = ?", "tt", owner, value)
                   : db_exec(s->db, "DELETE FROM txt WHERE owner = ?", "t", owner);
    *removed = rc > 0 ? (size_t)rc : 0;
    rc = rc < 0 ? rc : 0;
    if (rc == 0 && *removed)
        rc = push_add(s, zone, owner, 16, value ? MM_DDNS_PUSH_DELETE_RR : MM_DDNS_PUSH_DELETE_RRSET,
                      value ? value : "", 0);
    if (rc == 0)
        rc = txt_count(s, owner, remaining);
    if (rc == 0)
        return db_commit(s->db);
    db_rollback(s->db);
    return rc;
}

/* ------------------------------------------------------------ push queue */

int mm_ddns_store_push_next(mm_ddns_store *s, int64_t now_ms, mm_ddns_push_item *out)
{
    /* Several instances on one PostgreSQL: one pusher at a time keeps the order. */
    if (!db_push_leader(s->db))
        return MM_ENOENT;
    /* Strict order: a later change of a name must never overtake an earlier one. */
    db_rows *r = db_query(s->db, "SELECT id, zone, name, rtype, op, data, ttl, attempts, next_ms"
                                 " FROM push ORDER BY id LIMIT 1", NULL);
    if (!r)
        return MM_EIO;
    int rc = MM_ENOENT;
    if (db_next(r) && db_int(r, 8) <= now_ms) {
        out->id = db_int(r, 0);
        copy(out->zone, sizeof(out->zone), db_text(r, 1));
        copy(out->name, sizeof(out->name), db_text(r, 2));
        out->rtype = (uint16_t)db_int(r, 3);
        out->op = (int)db_int(r, 4);
        copy(out->data, sizeof(out->data), db_text(r, 5));
        out->ttl = (uint32_t)db_int(r, 6);
        out->attempts = (uint32_t)db_int(r, 7);
        rc = 0;
    }
    db_done(r);
    return rc;
}

/*
 * The oldest due items of one zone, in queue order, for one coalesced UPDATE
 * (push.c): the run stops at the first item of another zone or not yet due,
 * so nothing is ever sent ahead of an older change it was queued after.
 */
int mm_ddns_store_push_batch(mm_ddns_store *s, int64_t now_ms, mm_ddns_push_item *out, size_t max,
                             size_t *n)
{
    *n = 0;
    if (max == 0 || !db_push_leader(s->db))
        return MM_ENOENT;
    db_rows *r = db_query(s->db, "SELECT id, zone, name, rtype, op, data, ttl, attempts, next_ms"
                                 " FROM push ORDER BY id LIMIT ?", "i", (int64_t)max);
    if (!r)
        return MM_EIO;
    while (*n < max && db_next(r)) {
        if (db_int(r, 8) > now_ms || (*n && strcmp(db_text(r, 1), out[0].zone) != 0))
            break;
        mm_ddns_push_item *it = &out[*n];
        it->id = db_int(r, 0);
        copy(it->zone, sizeof(it->zone), db_text(r, 1));
        copy(it->name, sizeof(it->name), db_text(r, 2));
        it->rtype = (uint16_t)db_int(r, 3);
        it->op = (int)db_int(r, 4);
        copy(it->data, sizeof(it->data), db_text(r, 5));
        it->ttl = (uint32_t)db_int(r, 6);
        it->attempts = (uint32_t)db_int(r, 7);
        (*n)++;
    }
    db_done(r);
    return *n ? 0 : MM_ENOENT;
}

/*
 * Remove exactly these ids in one transaction: a crash leaves all of them
 * queued (re-sent, idempotent) or none. By id, not by range: with PostgreSQL
 * an id inside the range may commit after the batch was read.
 */
int mm_ddns_store_push_done_many(mm_ddns_store *s, const int64_t *ids, size_t n)
{
    int rc = db_begin_write(s->db, "push");
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc >= 0 && i < n; i++)
        rc = db_exec(s->db, "DELETE FROM push WHERE id = ?", "i", ids[i]);
    if (rc < 0) {
        db_rollback(s->db);
        return rc;
    }
    return db_commit(s->db);
}

int mm_ddns_store_push_done(mm_ddns_store *s, int64_t id)
{
    int rc = db_exec(s->db, "DELETE FROM push WHERE id = ?", "i", id);
    return rc < 0 ? rc : 0;
}

int mm_ddns_store_push_retry(mm_ddns_store *s, int64_t id, int64_t next_ms)
{
    int rc = db_exec(s->db, "UPDATE push SET attempts = attempts + 1, next_ms = ? WHERE id = ?",
                     "ii", next_ms, id);
    return rc < 0 ? rc : 0;
}

int64_t mm_ddns_store_push_pending(mm_ddns_store *s)
{
    db_rows *r = db_query(s->db, "SELECT count(*) FROM push", NULL);
    if (!r)
        return MM_EIO;
    int64_t n = db_next(r) ? db_int(r, 0) : MM_EIO;
    db_done(r);
    return n;
}
