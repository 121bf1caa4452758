/*
 * bmp_store_pg.c - the PostgreSQL store of mamori-bmpd, for several
 * collectors writing one database.
 *
 * The event loop never waits for PostgreSQL: it turns each decoded message
 * into rows (text parameters of one prepared statement each) and appends
 * them to a bounded queue; a writer thread takes up to PG_BATCH rows at a
 * time and writes them as one transaction in libpq pipeline mode (one round
 * trip per batch). When PostgreSQL is down the writer keeps its batch and
 * reconnects with back-off; the queue fills up to its byte bound, and then
 * the configured policy applies (MM_BMP_PG_DROP: the push fails and the
 * caller counts, logs and audits the drop; MM_BMP_PG_PAUSE: the push is
 * accepted and the caller stops reading routers until the queue drains).
 *
 * Rows carry natural keys (router address, peer type, RD, peer address) and
 * the collector's name instead of row ids, so collectors need no id
 * round trip and never race for ids; peers and routers are upserts.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

/*
 * Rows per transaction. Each INSERT's reply is ~20 bytes: 1000 of them stay
 * far below the socket buffers, which a blocking-mode pipeline needs (the
 * server must never block writing replies while we are still sending).
 */
#define PG_BATCH 1000
#define PG_MAXP 13

/*
 * One advisory lock key for schema creation: two collectors starting at once
 * would otherwise race in CREATE TABLE IF NOT EXISTS (duplicate pg_type).
 */
static const char schema[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7854);"
    "CREATE TABLE IF NOT EXISTS routers("
    " addr text PRIMARY KEY, collector text NOT NULL, sysname text, sysdescr text,"
    " state text NOT NULL, first_seen_us bigint NOT NULL, last_change_us bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS peers("
    " router text NOT NULL, peer_type smallint NOT NULL, rd text NOT NULL, peer_ip text NOT NULL,"
    " peer_asn bigint NOT NULL, bgp_id text, table_name text, state text NOT NULL,"
    " collector text NOT NULL, last_change_us bigint NOT NULL,"
    " PRIMARY KEY(router, peer_type, rd, peer_ip));"
    "CREATE TABLE IF NOT EXISTS peer_events("
    " id bigserial PRIMARY KEY, router text NOT NULL, peer_type smallint NOT NULL,"
    " rd text NOT NULL, peer_ip text NOT NULL, collector text NOT NULL, ts_us bigint NOT NULL,"
    " event text NOT NULL, reason integer, detail text);"
    "CREATE TABLE IF NOT EXISTS stats("
    " router text NOT NULL, peer_type smallint NOT NULL, rd text NOT NULL, peer_ip text NOT NULL,"
    " collector text NOT NULL, ts_us bigint NOT NULL, type integer NOT NULL, name text,"
    " afi integer, safi integer, value numeric(20,0), raw_hex text, reason text);"
    "COMMIT;";

enum { P_ROUTER_UP, P_ROUTER_DOWN, P_ROUTER_INFO, P_PEER, P_EVENT, P_STAT, P_COUNT };

static const struct {
    const char *name;
    int nparams;
    const char *sql;
} stmts[P_COUNT] = {
    [P_ROUTER_UP] = {"bmp_router_up", 3,
                     "INSERT INTO routers(addr, collector, state, first_seen_us, last_change_us)"
                     " VALUES($1,$2,'up',$3,$3) ON CONFLICT(addr) DO UPDATE SET state='up',"
                     " collector=$2, last_change_us=$3"},
    /* A router's session ended at this collector: it and its peers are down/unknown. */
    [P_ROUTER_DOWN] = {"bmp_router_down", 3,
                       "WITH r AS (UPDATE routers SET state='down', last_change_us=$2"
                       " WHERE addr=$1 AND collector=$3 RETURNING addr)"
                       " UPDATE peers SET state='unknown', last_change_us=$2"
                       " WHERE router IN (SELECT addr FROM r)"},
    [P_ROUTER_INFO] = {"bmp_router_info", 3,
                       "UPDATE routers SET sysname=coalesce($2,sysname),"
                       " sysdescr=coalesce($3,sysdescr) WHERE addr=$1"},
    [P_PEER] =
        {"bmp_peer", 10,
         "INSERT INTO peers(router, peer_type, rd, peer_ip, peer_asn, bgp_id, table_name,"
         " state, collector, last_change_us)"
         " VALUES($1,$2,$3,$4,$5,$6,$7,coalesce($8::text,'up'),$9,$10)"
         " ON CONFLICT(router, peer_type, rd, peer_ip) DO UPDATE SET"
         " peer_asn=EXCLUDED.peer_asn, bgp_id=EXCLUDED.bgp_id,"
         " table_name=coalesce(EXCLUDED.table_name, peers.table_name),"
         " state=coalesce($8::text, peers.state), collector=EXCLUDED.collector,"
         " last_change_us=CASE WHEN $8::text IS NULL THEN peers.last_change_us ELSE $10 END"},
    [P_EVENT] = {"bmp_event", 9,
                 "INSERT INTO peer_events(router, peer_type, rd, peer_ip, collector, ts_us, event,"
                 " reason, detail) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)"},
    [P_STAT] = {"bmp_stat", 13,
                "INSERT INTO stats(router, peer_type, rd, peer_ip, collector, ts_us, type, name,"
                " afi, safi, value, raw_hex, reason)"
                " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"},
};

/* One queued row: the statement and its text parameters (NULL = SQL NULL), in one block. */
struct pg_row {
    struct pg_row *next;
    size_t bytes;
    uint8_t stmt;
    const char *v[PG_MAXP];
    char data[];
};

struct mm_bmp_pgstore {
    char *conninfo;
    char collector[128];
    size_t limit;
    enum mm_bmp_pg_overflow overflow;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pg_row *head, *tail;
    size_t queued_bytes; /* queued + in the writer's batch, until committed */
    size_t queued_rows;
    bool stop;
    /* Read by the loop without the lock. */
    atomic_uint_fast64_t written, dropped, failures;
    atomic_bool connected;
    char last_error[256]; /* under mu */
    PGconn *conn;         /* writer thread only */
};

/* ---------------------------------------------------------------- writer thread */

static void set_error(mm_bmp_pgstore *s, const char *what, const char *msg)
{
    char buf[sizeof(s->last_error)];
    snprintf(buf, sizeof(buf), "%s: %s", what, msg ? msg : "?");
    /* libpq messages end with a newline. */
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    pthread_mutex_lock(&s->mu);
    memcpy(s->last_error, buf, sizeof(buf));
    pthread_mutex_unlock(&s->mu);
}

static void pg_disconnect(mm_bmp_pgstore *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    atomic_store(&s->connected, false);
}

/* The server's NOTICEs ("relation already exists, skipping") are not for our log. */
static void notice_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int pg_connect(mm_bmp_pgstore *s)
{
    /*
     * Bounded waits by default, so that a server that vanishes without a
     * reset cannot hold the writer (and a clean stop) for TCP's minutes:
     * 10 s to connect, 10 s for unacknowledged data. The user's connection
     * string comes later and overrides both.
     */
    static const char *const keys[] = {"connect_timeout", "tcp_user_timeout", "dbname", NULL};
    const char *vals[] = {"10", "10000", s->conninfo, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        set_error(s, "connect", PQerrorMessage(s->conn));
        pg_disconnect(s);
        return MM_EIO;
    }
    PQsetNoticeProcessor(s->conn, notice_quiet, NULL);
    PGresult *r = PQexec(s->conn, schema);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        set_error(s, "schema", PQresultErrorMessage(r));
    PQclear(r);
    for (int i = 0; ok && i < P_COUNT; i++) {
        r = PQprepare(s->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            set_error(s, stmts[i].name, PQresultErrorMessage(r));
        PQclear(r);
    }
    if (!ok) {
        pg_disconnect(s);
        return MM_EIO;
    }
    atomic_store(&s->connected, true);
    return 0;
}

/*
 * One transaction for the batch, pipelined: BEGIN, the rows, COMMIT, sync;
 * then read every result. Any error aborts the whole transaction (the
 * pipeline skips the rest), so a failed batch is retried whole.
 */
static int pg_write(mm_bmp_pgstore *s, struct pg_row *batch, size_t n)
{
    if (!s->conn && pg_connect(s) < 0)
        return MM_EIO;
    PGconn *c = s->conn;
    bool ok = PQenterPipelineMode(c) == 1 &&
              PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1;
    for (struct pg_row *r = batch; ok && r; r = r->next)
        ok = PQsendQueryPrepared(c, stmts[r->stmt].name, stmts[r->stmt].nparams, r->v, NULL, NULL,
                                 0) == 1;
    ok = ok && PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
         PQpipelineSync(c) == 1;
    if (!ok) {
        set_error(s, "send", PQerrorMessage(c));
        pg_disconnect(s);
        return MM_EIO;
    }
    /* n + 2 queries, each followed by a NULL, then the sync result. */
    size_t nulls = 0;
    bool failed = false;
    for (;;) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            if (++nulls > n + 3 || PQstatus(c) == CONNECTION_BAD)
                break;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            PQexitPipelineMode(c);
            break;
        }
        if (st == PGRES_FATAL_ERROR) {
            if (!failed)
                set_error(s, "write", PQresultErrorMessage(r));
            failed = true;
        } else if (st == PGRES_PIPELINE_ABORTED) {
            failed = true;
        }
        PQclear(r);
    }
    if (PQstatus(c) == CONNECTION_BAD || PQpipelineStatus(c) != PQ_PIPELINE_OFF) {
        set_error(s, "connection", PQerrorMessage(c));
        pg_disconnect(s);
        return MM_EIO;
    }
    return failed ? MM_EIO : 0;
}

static void rows_free(struct pg_row *r)
{
    while (r) {
        struct pg_row *next = r->next;
        free(r);
        r = next;
    }
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * Idle: check the connection (or connect) every PG_IDLE_CHECK_S seconds, so
 * an outage or a recovery shows in the metrics and the audit log before
 * rows are waiting.
 */
#define PG_IDLE_CHECK_S 1

static void pg_idle_check(mm_bmp_pgstore *s)
{
    if (!s->conn) {
        if (pg_connect(s) < 0)
            atomic_fetch_add(&s->failures, 1);
        return;
    }
    PGresult *r = PQexec(s->conn, "SELECT 1");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) {
        set_error(s, "connection", PQerrorMessage(s->conn));
        pg_disconnect(s);
        atomic_fetch_add(&s->failures, 1);
    }
}

static void *writer_main(void *arg)
{
    mm_bmp_pgstore *s = arg;
    unsigned backoff = 0;
    int stop_tries = 0;
    if (pg_connect(s) < 0)
        atomic_fetch_add(&s->failures, 1);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += PG_IDLE_CHECK_S;
            if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0 && !s->head && !s->stop) {
                pthread_mutex_unlock(&s->mu);
                pg_idle_check(s);
                pthread_mutex_lock(&s->mu);
            }
        }
        if (!s->head) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        /* Detach up to PG_BATCH rows; their bytes stay counted until committed. */
        struct pg_row *batch = s->head, *last = s->head;
        size_t n = 1, bytes = last->bytes;
        while (n < PG_BATCH && last->next) {
            last = last->next;
            bytes += last->bytes;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        bool stopping = s->stop;
        pthread_mutex_unlock(&s->mu);

        int rc;
        while ((rc = pg_write(s, batch, n)) < 0) {
            atomic_fetch_add(&s->failures, 1);
            if (stopping && ++stop_tries >= 5)
                break;
            backoff = backoff ? (backoff * 2 > 5000 ? 5000 : backoff * 2) : 100;
            sleep_ms(backoff);
            pthread_mutex_lock(&s->mu);
            stopping = s->stop;
            pthread_mutex_unlock(&s->mu);
        }
        backoff = 0;
        if (rc == 0)
            atomic_fetch_add(&s->written, n);
        else
            atomic_fetch_add(&s->dropped, n); /* shutdown with PostgreSQL unreachable */
        pthread_mutex_lock(&s->mu);
        s->queued_bytes -= bytes;
        s->queued_rows -= n;
        pthread_mutex_unlock(&s->mu);
        rows_free(batch);
        if (rc < 0 && stopping) {
            /* Give up on the rest too: count it, the caller logs the total. */
            pthread_mutex_lock(&s->mu);
            atomic_fetch_add(&s->dropped, s->queued_rows);
            rows_free(s->head);
            s->head = s->tail = NULL;
            s->queued_rows = s->queued_bytes = 0;
            pthread_mutex_unlock(&s->mu);
            break;
        }
    }
    pg_disconnect(s);
    return NULL;
}

/* ---------------------------------------------------------------- the loop's side */

int mm_bmp_pgstore_open(const char *conninfo, const char *collector, size_t queue_bytes,
                        enum mm_bmp_pg_overflow overflow, mm_bmp_pgstore **out)
{
    mm_bmp_pgstore *s = calloc(1, sizeof(*s));
    if (!s)
        return MM_ENOMEM;
    s->conninfo = strdup(conninfo);
    snprintf(s->collector, sizeof(s->collector), "%s", collector);
    s->limit = queue_bytes;
    s->overflow = overflow;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (!s->conninfo) {
        mm_bmp_pgstore_close(s);
        return MM_ENOMEM;
    }
    /* Check the connection info at start: a typo is a config error, not an outage. */
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts) {
        mm_log_error("bmp-pg", "error=\"connection string does not parse\"");
        mm_bmp_pgstore_close(s);
        return MM_ECONFIG;
    }
    PQconninfoFree(opts);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        mm_bmp_pgstore_close(s);
        return MM_ESYS;
    }
    s->started = true;
    *out = s;
    return 0;
}

void mm_bmp_pgstore_close(mm_bmp_pgstore *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        uint64_t dropped = atomic_load(&s->dropped);
        mm_log(dropped ? MM_LOG_WARN : MM_LOG_INFO, "store-pg-closed",
               "collector=%s rows_written=%llu rows_dropped=%llu%s", s->collector,
               (unsigned long long)atomic_load(&s->written), (unsigned long long)dropped,
               dropped ? " reason=\"rows dropped (queue full or PostgreSQL unreachable at exit)\""
                       : "");
    }
    rows_free(s->head);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->conninfo);
    free(s);
}

void mm_bmp_pgstore_status(mm_bmp_pgstore *s, mm_bmp_pgstore_stats *st)
{
    pthread_mutex_lock(&s->mu);
    st->queued_bytes = s->queued_bytes;
    st->queued_rows = s->queued_rows;
    snprintf(st->last_error, sizeof(st->last_error), "%s", s->last_error);
    pthread_mutex_unlock(&s->mu);
    st->limit = s->limit;
    st->written = atomic_load(&s->written);
    st->dropped = atomic_load(&s->dropped);
    st->failures = atomic_load(&s->failures);
    st->connected = atomic_load(&s->connected);
}

/* Queue one row; MM_ELIMIT (counted as dropped) when full under the drop policy. */
static int push(mm_bmp_pgstore *s, int stmt, const char *const v[])
{
    size_t n = stmts[stmt].nparams, len[PG_MAXP], total = sizeof(struct pg_row);
    for (size_t i = 0; i < n; i++) {
        len[i] = v[i] ? strlen(v[i]) + 1 : 0;
        total += len[i];
    }
    pthread_mutex_lock(&s->mu);
    bool full = s->queued_bytes + total > s->limit;
    pthread_mutex_unlock(&s->mu);
    if (full && s->overflow == MM_BMP_PG_DROP) {
        atomic_fetch_add(&s->dropped, 1);
        return MM_ELIMIT;
    }
    struct pg_row *r = malloc(total);
    if (!r) {
        atomic_fetch_add(&s->dropped, 1);
        return MM_ENOMEM;
    }
    r->next = NULL;
    r->bytes = total;
    r->stmt = (uint8_t)stmt;
    char *p = r->data;
    for (size_t i = 0; i < PG_MAXP; i++) {
        r->v[i] = NULL;
        if (i < n && v[i]) {
            memcpy(p, v[i], len[i]);
            r->v[i] = p;
            p += len[i];
        }
    }
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->queued_bytes += total;
    s->queued_rows++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

bool mm_bmp_pgstore_full(mm_bmp_pgstore *s)
{
    pthread_mutex_lock(&s->mu);
    bool full = s->queued_bytes >= s->limit;
    pthread_mutex_unlock(&s->mu);
    return full;
}

void mm_bmp_pgstore_flush(mm_bmp_pgstore *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->head)
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int mm_bmp_pgstore_router_up(mm_bmp_pgstore *s, const char *addr, int64_t now_us)
{
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now_us);
    const char *v[] = {addr, s->collector, ts};
    return push(s, P_ROUTER_UP, v);
}

int mm_bmp_pgstore_router_down(mm_bmp_pgstore *s, const char *addr, int64_t now_us)
{
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now_us);
    const char *v[] = {addr, ts, s->collector};
    return push(s, P_ROUTER_DOWN, v);
}

/* The natural key of the message's peer, as text. */
struct peer_key {
    char type[4], rd[17], ip[INET6_ADDRSTRLEN], asn[12], bgp_id[INET_ADDRSTRLEN];
};

static void peer_key(const mm_bmp_msg *m, struct peer_key *k)
{
    snprintf(k->type, sizeof(k->type), "%u", m->peer.type);
    mm_hex_encode(m->peer.rd, 8, k->rd);
    mm_bmp_peer_addr_format(&m->peer, k->ip, sizeof(k->ip));
    snprintf(k->asn, sizeof(k->asn), "%" PRIu32, m->peer.as);
    uint32_t nid = htonl(m->peer.bgp_id);
    inet_ntop(AF_INET, &nid, k->bgp_id, sizeof(k->bgp_id));
}

/* Text of an information TLV (copied: TLV values are not NUL-terminated). */
static const char *tlv_text(const mm_bmp_msg *m, uint16_t type, char *buf, size_t len)
{
    mm_cursor c = m->tlvs;
    mm_bmp_tlv t;
    while (mm_bmp_tlv_next(&c, &t) > 0)
        if (t.type == type) {
            size_t n = t.len < len - 1 ? t.len : len - 1;
            memcpy(buf, t.val, n);
            buf[n] = 0;
            /* A NUL inside would cut the text; PostgreSQL text cannot hold one anyway. */
            return buf;
        }
    return NULL;
}

static int push_peer(mm_bmp_pgstore *s, const char *router, const mm_bmp_msg *m,
                     const struct peer_key *k, const char *state, const char *ts)
{
    char table[256];
    const char *tname = NULL;
    if (m->type == MM_BMP_PEER_UP || (m->type == MM_BMP_PEER_DOWN && m->down_reason == 6))
        tname = tlv_text(m, MM_BMP_INFO_VRF_TABLE_NAME, table, sizeof(table));
    const char *v[] = {router,    k->type, k->rd, k->ip,        k->asn,
                       k->bgp_id, tname,   state, s->collector, ts};
    return push(s, P_PEER, v);
}

static int push_stats(mm_bmp_pgstore *s, const char *router, const mm_bmp_msg *m,
                      const struct peer_key *k, const char *ts)
{
    mm_cursor c = m->stats;
    mm_bmp_stat st;
    int rc = 0;
    for (uint32_t i = 0; i < m->stats_count && mm_bmp_stat_next(&c, &st) > 0; i++) {
        char type[8], afi[8], safi[8], value[24];
        char *hex = NULL;
        snprintf(type, sizeof(type), "%u", st.type);
        snprintf(afi, sizeof(afi), "%u", st.afi);
        snprintf(safi, sizeof(safi), "%u", st.safi);
        snprintf(value, sizeof(value), "%" PRIu64, st.value);
        bool opaque = st.kind == MM_BMP_STAT_OPAQUE;
        if (opaque) {
            hex = malloc(2 * (size_t)st.len + 1);
            if (!hex)
                return MM_ENOMEM;
            mm_hex_encode(st.val, st.len, hex);
        }
        bool keyed = st.kind == MM_BMP_STAT_AFISAFI_GAUGE64;
        const char *v[] = {router,
                           k->type,
                           k->rd,
                           k->ip,
                           s->collector,
                           ts,
                           type,
                           st.def ? st.def->name : NULL,
                           keyed ? afi : NULL,
                           keyed ? safi : NULL,
                           opaque ? NULL : value,
                           hex,
                           opaque ? (st.reason ? st.reason : "opaque") : NULL};
        int r = push(s, P_STAT, v);
        free(hex);
        if (r < 0)
            rc = r;
    }
    return rc;
}

int mm_bmp_pgstore_msg(mm_bmp_pgstore *s, const char *router, const mm_bmp_msg *m, int64_t now_us)
{
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now_us);
    struct peer_key k;
    switch (m->type) {
    case MM_BMP_INITIATION: {
        char name[256], descr[1024];
        const char *v[] = {router, tlv_text(m, MM_BMP_INFO_SYSNAME, name, sizeof(name)),
                           tlv_text(m, MM_BMP_INFO_SYSDESCR, descr, sizeof(descr))};
        return push(s, P_ROUTER_INFO, v);
    }
    case MM_BMP_PEER_UP:
    case MM_BMP_PEER_DOWN: {
        bool up = m->type == MM_BMP_PEER_UP;
        peer_key(m, &k);
        int rc = push_peer(s, router, m, &k, up ? "up" : "down", ts);
        char reason[8];
        snprintf(reason, sizeof(reason), "%u", m->down_reason);
        const char *v[] = {router,
                           k.type,
                           k.rd,
                           k.ip,
                           s->collector,
                           ts,
                           up ? "up" : "down",
                           up ? NULL : reason,
                           up ? NULL : mm_bmp_peer_down_reason_name(m->down_reason)};
        int rc2 = push(s, P_EVENT, v);
        return rc < 0 ? rc : rc2;
    }
    case MM_BMP_STATS_REPORT: {
        peer_key(m, &k);
        int rc = push_peer(s, router, m, &k, NULL, ts);
        int rc2 = push_stats(s, router, m, &k, ts);
        return rc < 0 ? rc : rc2;
    }
    default:
        return 0;
    }
}
