/*
 * nc_internal.h - private structures of the NETCONF server engine.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NC_INTERNAL_H
#define MAMORI_NC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <libyang/libyang.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "nacm.h"

#define NC_NS_BASE MM_NC_NS_BASE
#define NC_NS_NOTIF MM_NC_NS_NOTIF
#define NC_NS_NETMOD_NOTIF "urn:ietf:params:xml:ns:netmod:notification"
#define NC_NS_MONITORING "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
#define NC_NS_WD "urn:ietf:params:xml:ns:netconf:default:1.0"
#define NC_BASE10 "urn:ietf:params:netconf:base:1.0"
/* Copies of datastore trees keep the default-node flags (with-defaults). */
#define NC_DUP (LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS)
#define NC_BASE11 "urn:ietf:params:netconf:base:1.1"

/* Conventional datastores (RFC 6241 section 5.1); NMDA adds operational. */
enum nc_ds { NC_DS_RUNNING = 0, NC_DS_CANDIDATE, NC_DS_STARTUP, NC_DS_COUNT, NC_DS_OPERATIONAL };

typedef struct nc_datastore {
    struct lyd_node *tree; /* validated; default nodes included */
    uint32_t lock_sid;     /* 0: unlocked */
    time_t lock_time;
    bool modified;         /* candidate: changed since last commit/discard */
} nc_datastore;

/* A pending confirmed commit (RFC 6241 section 8.4). */
typedef struct nc_confirm {
    bool pending;
    struct lyd_node *backup; /* running before the first confirmed commit */
    uint32_t owner;          /* issuing session */
    char *persist;           /* persist token, NULL without persist */
    struct event *timer;
} nc_confirm;

typedef struct nc_counters {
    uint32_t in_rpcs, in_bad_rpcs, out_rpc_errors, out_notifications;
} nc_counters;

/* One event of the replay log. */
typedef struct nc_event {
    int64_t time_us;         /* eventTime, microseconds since the epoch */
    struct lyd_node *notif;  /* the typed notification (own tree) */
    struct lyd_node *diff;   /* netconf-config-change: the change set (own tree), or NULL */
} nc_event;

typedef struct nc_replay {
    nc_event *ev;  /* ring of cap entries */
    uint32_t cap, head, count;
    uint64_t head_seq; /* sequence number of ev[head]: events ever aged out */
    int64_t created_us;
} nc_replay;

/* RFC 5277 subscription of one session. */
typedef struct nc_sub {
    bool active;
    bool has_filter;         /* subtree filter given (an empty one selects nothing) */
    struct lyd_node *filter; /* its content (dup of the anyxml tree), may be NULL */
    char *xpath;             /* xpath filter, or NULL */
    bool has_start, has_stop;
    int64_t start_us, stop_us;
    void *chan;              /* transport notification channel, or NULL */
    struct event *stop_timer;
    /* Replay in progress (notif.c): events go out from the replay log at the
     * pace the subscriber reads them; live ones wait their turn there. */
    bool replaying;
    bool replay_done;          /* replayComplete sent; catching up with live events */
    uint64_t replay_next;      /* sequence number of the next event to send */
    uint64_t replay_end;       /* first event after the subscription's start */
    struct event *replay_timer; /* resumes a replay paused on a full queue */
} nc_sub;

/* Bounds on one message (msg_bound.c). */
typedef struct nc_msg_limits {
    uint32_t elements, attributes, depth;
} nc_msg_limits;

/* What the scan of one message found. */
typedef struct nc_msg_scan {
    uint32_t elements, max_attrs, max_depth;
    const char *limit;     /* the bound exceeded ("elements", ...), or NULL */
    char message_id[128];  /* of the root start tag, "" if absent or not plain */
} nc_msg_scan;

/* MM_ELIMIT (sc->limit says which) if msg exceeds lim; 0 otherwise. */
int nc_msg_scan_run(const char *msg, size_t len, const nc_msg_limits *lim, nc_msg_scan *sc);

struct mm_nc_server {
    struct ly_ctx *ctx;
    struct event_base *base;
    char *state_dir;
    char *recovery_user;
    size_t max_message;
    nc_msg_limits limits;
    int (*fault)(void *arg, const char *point); /* test hook, may be NULL */
    int audit_err; /* first failed audit write of the RPC being processed, 0 if none */
    void *fault_arg;
    nc_datastore ds[NC_DS_COUNT];
    nc_confirm confirm;
    mm_nc_session *sessions;
    uint32_t next_sid;
    mm_nc_running_changed_cb changed_cb;
    void *changed_arg;
    mm_nc_running_check_cb check_cb;
    void *check_arg;
    mm_audit *audit;
    mm_nacm_counters nacm;
    nc_replay replay;
    mm_buf hello_caps; /* <capability> elements of the server hello */
    time_t start_time;
    nc_counters stats;
    uint32_t in_sessions, in_bad_hellos, dropped_sessions;
    uint32_t content_id;
    struct ly_ctx *opaq_ctx; /* schema-less, for requests parsed as plain XML */
    struct nc_plock *plocks; /* RFC 5717 partial locks on running */
    size_t nplocks;
    uint32_t plock_next;
    mm_nc_event_cb event_cb; /* observability (mm_nc_server_on_event), may be NULL */
    void *event_arg;
    uint32_t notif_grace_ms;     /* notif_backlog.c */
    uint64_t session_queued_max; /* highest backlog of one session */
    uint32_t notif_overflows;    /* subscribers ended for their backlog */
};

/* Report an event to the observer, if any. */
void nc_observe(mm_nc_server *srv, enum mm_nc_event_kind kind, const char *name,
                const char *result, const char *transport, double seconds);

enum nc_end_reason { NC_END_CLOSED, NC_END_KILLED, NC_END_DROPPED, NC_END_BAD_HELLO, NC_END_OTHER };

/* A subscriber's output backlog (notif_backlog.c). */
typedef struct nc_backlog {
    struct event *timer; /* grace period, or the deferred end; NULL until needed */
    bool over;           /* over the cap: the grace runs */
    bool overflow;       /* ending: nothing more is queued for this session */
    size_t peak;         /* highest backlog seen on this session */
} nc_backlog;

struct mm_nc_session {
    mm_nc_server *srv;
    mm_nc_session *next;
    uint32_t id;
    char *username, *transport, *peer;
    bool chunked_only, recovery;
    const mm_nc_transport_ops *ops;
    void *io;
    mm_nc_framer framer;
    bool hello_done, base11;
    time_t login_time;
    nc_counters cnt;
    nc_sub sub;
    int busy;       /* > 0 while mm_nc_session_input runs */
    bool doomed;    /* end requested while busy */
    bool lost;      /* transport gone: do not call ops->close */
    enum nc_end_reason end_reason;
    uint32_t killed_by;
    nc_backlog backlog;
    bool abort_output; /* end without sending what is queued (ops->abort) */
};

/* One RPC being processed. */
typedef struct nc_rpc {
    mm_nc_session *s;
    struct lyd_node *env; /* opaque <rpc> envelope (attributes) */
    struct lyd_node *op;  /* the typed operation */
    mm_buf body;          /* reply content (e.g. <data>..</data>); empty: <ok/> */
    mm_buf errs;          /* <rpc-error> elements */
    unsigned nerr;
    bool close_after;     /* close-session: end after the reply */
    bool after_sub;       /* create-subscription: start replay after the reply */
    const char *xml;      /* the request as received (NUL-terminated), for what */
                          /* libyang drops: XML prefixes inside string values */
    struct lyd_node *raw; /* the request parsed without schema (filter attributes) */
    const char *msg_id;   /* message-id to echo when there is no env (refused unparsed) */
} nc_rpc;

/* rpc_error.c */
typedef struct nc_err {
    const char *type; /* transport | rpc | protocol | application */
    const char *tag;
    const char *app_tag;
    const struct lyd_node *path_node; /* error-path from a data node */
    const char *path;                 /* or a literal path */
    const char *message;
    const char *bad_attr, *bad_elem, *bad_ns;
    uint32_t session_id;
    bool has_session_id;
} nc_err;
int nc_xml_escape(mm_buf *b, const char *s);
void nc_rpc_error(nc_rpc *rpc, const nc_err *e);
void nc_rpc_err(nc_rpc *rpc, const char *type, const char *tag, const char *msg);
/* Map the last libyang error of ctx to an rpc-error (type application/protocol). */
void nc_rpc_err_ly(nc_rpc *rpc, const char *type, const char *fallback_tag);
int nc_error_xml(const nc_err *e, mm_buf *out);
int nc_path_xml(mm_buf *b, const char *elem_name, const char *attrs,
                const struct lyd_node *node);

/* server.c */
/* The test hook says the step named point fails. */
bool nc_fault(const mm_nc_server *srv, const char *point);
void nc_server_running_changed(mm_nc_server *srv);
mm_nc_session *nc_server_find_session(mm_nc_server *srv, uint32_t id);
mm_nacm_req nc_nacm_req(const mm_nc_session *s);
/*
 * Make the audit records of the RPC so far durable (data changes and
 * denials, mm_audit_flush_critical). A negative result, or a record that
 * could not be written earlier in the RPC, means the operation must fail.
 */
int nc_audit_commit(mm_nc_server *srv);

/* session.c */
int nc_session_send(mm_nc_session *s, const char *xml, size_t len);
void nc_session_end(mm_nc_session *s, enum nc_end_reason why, uint32_t killed_by);
/*
 * Work on s from a timer: while held, an end of s (a failed send) is only
 * marked; release ends it then and returns false when s is gone.
 */
void nc_session_hold(mm_nc_session *s);
bool nc_session_release(mm_nc_session *s);

/* rpc.c */
int nc_rpc_process(mm_nc_session *s, const char *xml, size_t len);
/* Answer a message refused before parsing (over a bound) with rpc-error too-big. */
void nc_rpc_refuse(mm_nc_session *s, const nc_msg_scan *sc);

/* datastore.c */
int nc_ds_init(mm_nc_server *srv);
void nc_ds_free(mm_nc_server *srv);
int nc_ds_persist(mm_nc_server *srv, enum nc_ds ds);
int nc_ds_parse_target(const struct lyd_node *op, const char *param, enum nc_ds *ds);
const char *nc_ds_name(enum nc_ds ds);
/* Replace a datastore's tree (takes ownership), persist, emit events; s may be NULL. */
int nc_ds_set(mm_nc_server *srv, mm_nc_session *s, enum nc_ds ds, struct lyd_node *tree);
/* The same, reporting a failure as an rpc-error. */
int nc_ds_replace(nc_rpc *rpc, enum nc_ds ds, struct lyd_node *tree);
int nc_ds_from_identity(const char *ident, enum nc_ds *ds);
/* The user's writes of before->after allowed by NACM? Adds access-denied. */
/* The yang:operation of a lyd_diff node, or inherited. */
const char *nc_diff_op(const struct lyd_node *n, const char *inherited);
/*
 * May rpc's session change ds from before to after? NACM write rules and,
 * for running, other sessions' partial locks, on one computed change set.
 */
bool nc_ds_write_check(nc_rpc *rpc, enum nc_ds ds, const struct lyd_node *before,
                       const struct lyd_node *after);
bool nc_ds_writable_by(nc_rpc *rpc, enum nc_ds ds);
void nc_ds_release_locks(mm_nc_server *srv, uint32_t sid);
void nc_ds_release_locks_one(mm_nc_server *srv, enum nc_ds ds);
int nc_ds_validate(nc_rpc *rpc, struct lyd_node **tree);

/* edit.c */
enum nc_edit_op { NC_OP_MERGE, NC_OP_REPLACE, NC_OP_CREATE, NC_OP_DELETE, NC_OP_REMOVE, NC_OP_NONE };
typedef struct nc_edit {
    nc_rpc *rpc;
    enum nc_edit_op dflt;
    bool continue_on_error;
    unsigned errors;
} nc_edit;
/* Parse edit content (anydata) to a strict data tree with nc:operation metadata. */
int nc_edit_parse(nc_rpc *rpc, const struct lyd_node *anydata, struct lyd_node **edit, bool config);
int nc_edit_apply(nc_edit *e, const struct lyd_node *edit, struct lyd_node **target);

/* filter.c */
/* Select from data by the filter in op's child named param (anyxml filter). */
/*
 * The first node of a subtree filter for the <filter> element of op: from
 * libyang's tree, or, when the filter carries attribute match expressions
 * (RFC 6241 section 6.2.2), which libyang drops on schema nodes, from the
 * request parsed as plain XML.
 */
const struct lyd_node *nc_filter_first(nc_rpc *rpc, const struct lyd_node *filter);
/*
 * Replace *data by what the filter (subtree, or xpath if not NULL) selects.
 * depth (RFC 8526 max-depth; 0: unbounded) keeps that many levels of each
 * selected node, the node itself being level 1; without a filter the
 * top-level nodes are the selected ones.
 */
int nc_filter_apply(nc_rpc *rpc, const struct lyd_node *filter, const char *xpath,
                    uint32_t depth, struct lyd_node **data);
int nc_filter_subtree(const struct lyd_node *filter_first, const struct lyd_node *data,
                      struct lyd_node **out);
int nc_filter_subtree_depth(const struct lyd_node *filter_first, const struct lyd_node *data,
                            uint32_t depth, struct lyd_node **out);
/*
 * The same seeing only what rd lets the user read (NULL: everything): the
 * filter never matches on, or descends into, a node the user may not read.
 * Selected subtrees are copied whole: prune the result with
 * mm_nacm_filter_read() before it goes out.
 */
int nc_filter_subtree_nacm(const struct lyd_node *filter_first, const struct lyd_node *data,
                           uint32_t depth, mm_nacm_reader *rd, struct lyd_node **out);
int nc_filter_xpath(const struct lyd_node *data, const char *xpath, struct lyd_node **out);
int nc_filter_xpath_depth(const struct lyd_node *data, const char *xpath, uint32_t depth,
                          struct lyd_node **out);
/* Keep depth levels of n (n is level 1; list keys always stay). */
void nc_depth_prune(struct lyd_node *n, uint32_t depth);
/* wd_flags: a LYD_PRINT_WD_* mode, possibly with LYD_PRINT_KEEPEMPTYCONT. */
int nc_print_data(nc_rpc *rpc, const char *elem, const char *ns, struct lyd_node *data,
                  uint32_t wd_flags);
uint32_t nc_wd_flags(nc_rpc *rpc, const struct lyd_node *op, bool *ok);

/* op_*.c handlers: 0 done (errors already added to the rpc). */
typedef int (*nc_op_fn)(nc_rpc *rpc);
int nc_op_get(nc_rpc *rpc);
int nc_op_get_config(nc_rpc *rpc);
int nc_op_get_data(nc_rpc *rpc);
int nc_op_edit_config(nc_rpc *rpc);
int nc_op_edit_data(nc_rpc *rpc);
int nc_op_copy_config(nc_rpc *rpc);
int nc_op_delete_config(nc_rpc *rpc);
int nc_op_validate(nc_rpc *rpc);
int nc_op_lock(nc_rpc *rpc);
/* RFC 5717 partial locks (op_plock.c). */
typedef struct nc_plock {
    uint32_t id, sid;
    char **paths; /* locked instances (instance-identifiers, module-name prefixes) */
    size_t npaths;
    char **selects; /* the select expressions, for ietf-netconf-monitoring */
    size_t nselects;
    time_t time;
} nc_plock;
int nc_op_partial_lock(nc_rpc *rpc);
int nc_op_partial_unlock(nc_rpc *rpc);
bool nc_plock_held_by_other(const mm_nc_server *srv, uint32_t sid, uint32_t *holder);
/* No change in diff (a lyd_diff of running) touches another session's partial lock. */
bool nc_plock_diff_ok(nc_rpc *rpc, const struct lyd_node *diff);
void nc_lock_denied(nc_rpc *rpc, uint32_t holder, const char *msg);
void nc_plock_release_session(mm_nc_server *srv, uint32_t sid);
void nc_plock_free_all(mm_nc_server *srv);
int nc_op_unlock(nc_rpc *rpc);
int nc_op_commit(nc_rpc *rpc);
int nc_op_discard_changes(nc_rpc *rpc);
int nc_op_cancel_commit(nc_rpc *rpc);
int nc_op_close_session(nc_rpc *rpc);
int nc_op_kill_session(nc_rpc *rpc);
int nc_op_get_schema(nc_rpc *rpc);
int nc_op_create_subscription(nc_rpc *rpc);

/* op_commit.c */
void nc_confirm_session_end(mm_nc_server *srv, uint32_t sid);
void nc_confirm_free(mm_nc_server *srv);

/* op_monitoring.c */
int nc_monitoring_state(mm_nc_server *srv, struct lyd_node **tree);
int nc_caps_build(mm_nc_server *srv);

/* notif.c */
int nc_notif_init(mm_nc_server *srv, uint32_t max);
void nc_notif_free(mm_nc_server *srv);
/* Log and deliver a notification (takes ownership of notif). */
void nc_notif_emit(mm_nc_server *srv, struct lyd_node *notif);
/*
 * The same for an event whose content depends on what each subscriber may
 * read: diff (owned too) is the change set behind a netconf-config-change.
 */
void nc_notif_emit_diff(mm_nc_server *srv, struct lyd_node *notif, struct lyd_node *diff);
/* <edit> entries of netconf-config-change n for every changed node of diff. */
void nc_notif_add_edits(struct lyd_node *n, const struct lyd_node *diff);
void nc_notif_session_start(mm_nc_session *s);
void nc_notif_session_end(mm_nc_session *s);
void nc_notif_config_change(mm_nc_server *srv, const mm_nc_session *s, enum nc_ds ds,
                            const struct lyd_node *diff);
void nc_notif_confirmed_commit(mm_nc_server *srv, const mm_nc_session *s, const char *event,
                               uint32_t timeout);
void nc_notif_after_reply(mm_nc_session *s);
void nc_notif_sub_end(mm_nc_session *s, bool complete);
int nc_notif_streams(mm_nc_server *srv, struct lyd_node **tree);

/* notif_backlog.c */
/*
 * May a notification of len bytes be queued for s? false: not now, and s is
 * being ended for its backlog (from the event loop, never under the caller).
 */
bool nc_backlog_admit(mm_nc_session *s, size_t len);
/* Is s's queue at or over half its cap (a replay waits)? */
bool nc_backlog_busy(const mm_nc_session *s);
/* End s for its backlog (from the event loop, as for the overflow). */
void nc_backlog_fail(mm_nc_session *s);
/* The timer a subscriber's backlog may need (at create-subscription). */
int nc_backlog_prepare(mm_nc_session *s);
/* Record the backlog after something was queued (the high-water marks). */
void nc_backlog_note(mm_nc_session *s);
void nc_backlog_free(mm_nc_session *s);

/* util */
int64_t nc_now_us(void);
int nc_time_format(int64_t us, char *buf, size_t len);
int nc_time_parse(const char *s, int64_t *us);

#endif
