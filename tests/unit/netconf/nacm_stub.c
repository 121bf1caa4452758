/*
 * nacm_stub.c - permit-all NACM for the engine's unit tests, linked only
 * while src/netconf/nacm.c does not exist. Never part of the library.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "nacm.h"

bool mm_nacm_rpc_allowed(const mm_nacm_req *req, const struct lyd_node *op)
{
    (void)req;
    (void)op;
    return true;
}

bool mm_nacm_write_allowed(const mm_nacm_req *req, const struct lyd_node *node, enum mm_nacm_op op)
{
    (void)req;
    (void)node;
    (void)op;
    return true;
}

void mm_nacm_filter_read(const mm_nacm_req *req, struct lyd_node **tree)
{
    (void)req;
    (void)tree;
}

bool mm_nacm_notification_allowed(const mm_nacm_req *req, const struct lyd_node *notif)
{
    (void)req;
    (void)notif;
    return true;
}
