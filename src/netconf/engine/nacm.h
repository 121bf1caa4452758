/*
 * nacm.h - NETCONF Access Control Model (RFC 8341) for the engine.
 *
 * Pure policy functions over the running datastore: the rules are read from
 * /ietf-netconf-acm:nacm in `running` at every call, so a change of the
 * rules applies to open sessions at once. Every decision is written to the
 * audit log (one record per decision).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONF_NACM_H
#define MAMORI_NETCONF_NACM_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "mamori/mm_audit.h"

/* Access operations (RFC 8341 access-operations bits). */
enum mm_nacm_op {
    MM_NACM_CREATE = 1 << 0,
    MM_NACM_READ = 1 << 1,
    MM_NACM_UPDATE = 1 << 2,
    MM_NACM_DELETE = 1 << 3,
    MM_NACM_EXEC = 1 << 4,
};

/* Counters of /nacm (config false). */
typedef struct mm_nacm_counters {
    uint32_t denied_operations;
    uint32_t denied_data_writes;
    uint32_t denied_notifications;
} mm_nacm_counters;

/* Who asks, against which rules. */
typedef struct mm_nacm_req {
    const struct lyd_node *running; /* the running datastore (holds /nacm) */
    const char *user;               /* NETCONF user name from cert-to-name */
    bool recovery;                  /* recovery session: everything permitted */
    uint32_t session_id;
    mm_audit *audit;                /* may be NULL */
    mm_nacm_counters *counters;     /* may be NULL */
    /* may be NULL: set to the MM_E* code of a decision record mm_audit_write refused */
    int *audit_err;
} mm_nacm_req;

/*
 * RPC authorization (RFC 8341 section 3.4.4). op is the RPC's data node
 * (its schema gives module and name). close-session is always permitted.
 */
bool mm_nacm_rpc_allowed(const mm_nacm_req *req, const struct lyd_node *op);

/*
 * Data write authorization (section 3.4.5) for one node and one of
 * MM_NACM_CREATE / UPDATE / DELETE. The engine calls it for every node an
 * edit creates, changes or deletes (e.g. from a lyd_diff of before/after).
 */
bool mm_nacm_write_allowed(const mm_nacm_req *req, const struct lyd_node *node, enum mm_nacm_op op);

/*
 * Read authorization (section 3.4.6): remove from *tree (a sibling list,
 * may become NULL) every node the user may not read. Silently omitted, as
 * the RFC requires; the decision per pruned subtree is audited.
 */
void mm_nacm_filter_read(const mm_nacm_req *req, struct lyd_node **tree);

/*
 * What the user may read of src (section 3.4.5, for filters). Returns 0
 * when the user may read everything (disabled NACM, recovery session: src
 * itself is the view, *view is NULL), 1 with *view a pruned copy of src
 * (NULL if nothing is readable), MM_ENOMEM if the copy fails. Filters must
 * run on this view, never on src, or a content match on a denied node
 * would tell right guesses from wrong ones.
 */
int mm_nacm_read_view(const mm_nacm_req *req, const struct lyd_node *src, struct lyd_node **view);

/*
 * Read checks one node at a time, for filters that walk the data top-down
 * instead of copying it (mm_nacm_read_view): the policy is loaded once.
 * mm_nacm_reader_new() returns 0 with *out NULL when the user may read
 * everything (the request is audited as such), 1 with a reader, or
 * MM_ENOMEM. mm_nacm_reader_may_read() decides for node itself (its
 * ancestors must have been found readable already; list keys follow their
 * entry); it writes no audit record: prune the result with
 * mm_nacm_filter_read(), which records what was withheld.
 */
typedef struct mm_nacm_reader mm_nacm_reader;
int mm_nacm_reader_new(const mm_nacm_req *req, mm_nacm_reader **out);
bool mm_nacm_reader_may_read(mm_nacm_reader *rd, const struct lyd_node *node);
void mm_nacm_reader_free(mm_nacm_reader *rd);

/*
 * Notification authorization (section 3.4.7): replayComplete and
 * notificationComplete are always permitted. notif is the notification's
 * data node.
 */
bool mm_nacm_notification_allowed(const mm_nacm_req *req, const struct lyd_node *notif);

#endif
