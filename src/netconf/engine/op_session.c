/*
 * op_session.c - close-session and kill-session (RFC 6241 7.8, 7.9).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>

#include "nc_internal.h"

int nc_op_close_session(nc_rpc *rpc)
{
    rpc->close_after = true; /* <ok/> first, then release and close */
    return 0;
}

int nc_op_kill_session(nc_rpc *rpc)
{
    struct lyd_node *n = NULL;
    lyd_find_path(rpc->op, "session-id", 0, &n);
    uint32_t id = n ? ((struct lyd_node_term *)n)->value.uint32 : 0;
    mm_nc_session *victim = nc_server_find_session(rpc->s->srv, id);
    if (id == rpc->s->id || !victim) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "session-id",
                    .message = id == rpc->s->id ? "a session cannot kill itself"
                                                : "no such session"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    /* Releases its locks and rolls back its non-persistent confirmed commit. */
    nc_session_end(victim, NC_END_KILLED, rpc->s->id);
    return 0;
}
