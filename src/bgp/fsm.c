/*
 * fsm.c - the BGP finite state machine of RFC 4271 §8.2.2 as a pure
 * function: (state, event) -> (next state, actions). The session layer
 * (session.c) carries the actions out; keeping the transitions free of I/O
 * lets the unit tests walk every state. DelayOpen, DampPeerOscillations and
 * the optional collision events are not used (§8.1.1 optional attributes
 * off). FSM-error subcodes are those of RFC 6608.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mamori/mm_bgp_speaker.h"

const char *mm_bgp_state_name(enum mm_bgp_state s)
{
    switch (s) {
    case MM_BGP_ST_IDLE: return "Idle";
    case MM_BGP_ST_CONNECT: return "Connect";
    case MM_BGP_ST_ACTIVE: return "Active";
    case MM_BGP_ST_OPENSENT: return "OpenSent";
    case MM_BGP_ST_OPENCONFIRM: return "OpenConfirm";
    case MM_BGP_ST_ESTABLISHED: return "Established";
    }
    return "unknown";
}

static mm_bgp_fsm_step step(enum mm_bgp_state next, uint32_t actions)
{
    mm_bgp_fsm_step s = {next, actions, 0, 0};
    return s;
}

static mm_bgp_fsm_step notify(uint8_t code, uint8_t sub, uint32_t more)
{
    mm_bgp_fsm_step s = {MM_BGP_ST_IDLE,
                         MM_BGP_DO_SEND_NOTIF | MM_BGP_DO_DROP_TCP | MM_BGP_DO_STOP_TIMERS |
                             MM_BGP_DO_CONNECT_RETRY_INC | more,
                         code, sub};
    return s;
}

/* Going down without a NOTIFICATION of our own (the peer sent one, or TCP failed). */
static mm_bgp_fsm_step down(uint32_t more)
{
    return step(MM_BGP_ST_IDLE, MM_BGP_DO_DROP_TCP | MM_BGP_DO_STOP_TIMERS |
                                    MM_BGP_DO_CONNECT_RETRY_INC | more);
}

mm_bgp_fsm_step mm_bgp_fsm_next(enum mm_bgp_state s, enum mm_bgp_event ev, bool passive)
{
    const uint32_t open_sent = MM_BGP_DO_STOP_CONNECT_RETRY | MM_BGP_DO_SEND_OPEN |
                               MM_BGP_DO_START_HOLD_LARGE;
    switch (s) {
    case MM_BGP_ST_IDLE:
        /* §8.2.2 Idle: every event but a start is ignored. */
        if (ev == MM_BGP_EV_MANUAL_START && !passive)
            return step(MM_BGP_ST_CONNECT, MM_BGP_DO_START_CONNECT_RETRY | MM_BGP_DO_CONNECT);
        if (ev == MM_BGP_EV_MANUAL_START || ev == MM_BGP_EV_MANUAL_START_PASSIVE)
            return step(MM_BGP_ST_ACTIVE, MM_BGP_DO_START_CONNECT_RETRY);
        return step(MM_BGP_ST_IDLE, 0);

    case MM_BGP_ST_CONNECT:
    case MM_BGP_ST_ACTIVE:
        switch (ev) {
        case MM_BGP_EV_MANUAL_START:
        case MM_BGP_EV_MANUAL_START_PASSIVE:
            return step(s, 0);
        case MM_BGP_EV_MANUAL_STOP:
            return step(MM_BGP_ST_IDLE, MM_BGP_DO_DROP_TCP | MM_BGP_DO_STOP_TIMERS);
        case MM_BGP_EV_CONNECT_RETRY_EXPIRES:
            /* Connect: retry; Active: try an outbound connection unless passive. */
            if (passive)
                return step(MM_BGP_ST_ACTIVE, MM_BGP_DO_START_CONNECT_RETRY);
            return step(MM_BGP_ST_CONNECT, MM_BGP_DO_DROP_TCP | MM_BGP_DO_START_CONNECT_RETRY |
                                               MM_BGP_DO_CONNECT);
        case MM_BGP_EV_TCP_ACKNOWLEDGED:
        case MM_BGP_EV_TCP_CONFIRMED:
            return step(MM_BGP_ST_OPENSENT, open_sent);
        case MM_BGP_EV_TCP_FAILS:
            /* Keep listening; the ConnectRetry timer tries again. */
            return step(MM_BGP_ST_ACTIVE, MM_BGP_DO_DROP_TCP | MM_BGP_DO_START_CONNECT_RETRY);
        default:
            return down(0);
        }

    case MM_BGP_ST_OPENSENT:
        switch (ev) {
        case MM_BGP_EV_MANUAL_START:
        case MM_BGP_EV_MANUAL_START_PASSIVE:
            return step(s, 0);
        case MM_BGP_EV_MANUAL_STOP:
            return notify(6, 2, 0); /* Cease / Administrative Shutdown (RFC 4486) */
        case MM_BGP_EV_HOLD_EXPIRES:
            return notify(4, 0, 0);
        case MM_BGP_EV_TCP_FAILS:
            return step(MM_BGP_ST_ACTIVE, MM_BGP_DO_DROP_TCP | MM_BGP_DO_STOP_TIMERS |
                                              MM_BGP_DO_START_CONNECT_RETRY);
        case MM_BGP_EV_OPEN:
            return step(MM_BGP_ST_OPENCONFIRM, MM_BGP_DO_SEND_KEEPALIVE | MM_BGP_DO_START_HOLD |
                                                   MM_BGP_DO_START_KEEPALIVE);
        case MM_BGP_EV_HEADER_ERR:
        case MM_BGP_EV_OPEN_ERR:
            return notify(0, 0, 0); /* code set by the session */
        case MM_BGP_EV_NOTIF_VERSION_ERR:
        case MM_BGP_EV_NOTIF:
            return down(0);
        default:
            return notify(5, 1, 0); /* RFC 6608: unexpected message in OpenSent */
        }

    case MM_BGP_ST_OPENCONFIRM:
        switch (ev) {
        case MM_BGP_EV_MANUAL_START:
        case MM_BGP_EV_MANUAL_START_PASSIVE:
            return step(s, 0);
        case MM_BGP_EV_MANUAL_STOP:
            return notify(6, 2, 0);
        case MM_BGP_EV_HOLD_EXPIRES:
            return notify(4, 0, 0);
        case MM_BGP_EV_KEEPALIVE_EXPIRES:
            return step(s, MM_BGP_DO_SEND_KEEPALIVE | MM_BGP_DO_START_KEEPALIVE);
        case MM_BGP_EV_TCP_FAILS:
        case MM_BGP_EV_NOTIF:
        case MM_BGP_EV_NOTIF_VERSION_ERR:
            return down(0);
        case MM_BGP_EV_KEEPALIVE:
            return step(MM_BGP_ST_ESTABLISHED, MM_BGP_DO_RESTART_HOLD | MM_BGP_DO_ESTABLISHED);
        case MM_BGP_EV_HEADER_ERR:
        case MM_BGP_EV_OPEN_ERR:
            return notify(0, 0, 0);
        default:
            return notify(5, 2, 0); /* unexpected message in OpenConfirm */
        }

    case MM_BGP_ST_ESTABLISHED:
        switch (ev) {
        case MM_BGP_EV_MANUAL_START:
        case MM_BGP_EV_MANUAL_START_PASSIVE:
            return step(s, 0);
        case MM_BGP_EV_MANUAL_STOP:
            return notify(6, 2, MM_BGP_DO_RELEASE_ROUTES);
        case MM_BGP_EV_HOLD_EXPIRES:
            return notify(4, 0, MM_BGP_DO_RELEASE_ROUTES);
        case MM_BGP_EV_KEEPALIVE_EXPIRES:
            return step(s, MM_BGP_DO_SEND_KEEPALIVE | MM_BGP_DO_START_KEEPALIVE);
        case MM_BGP_EV_KEEPALIVE:
            return step(s, MM_BGP_DO_RESTART_HOLD);
        case MM_BGP_EV_UPDATE:
            return step(s, MM_BGP_DO_RESTART_HOLD | MM_BGP_DO_PROCESS_UPDATE);
        case MM_BGP_EV_TCP_FAILS:
        case MM_BGP_EV_NOTIF:
        case MM_BGP_EV_NOTIF_VERSION_ERR:
            return down(MM_BGP_DO_RELEASE_ROUTES);
        case MM_BGP_EV_UPDATE_ERR:
        case MM_BGP_EV_HEADER_ERR:
            return notify(0, 0, MM_BGP_DO_RELEASE_ROUTES);
        default:
            return notify(5, 3, MM_BGP_DO_RELEASE_ROUTES); /* unexpected in Established */
        }
    }
    return step(MM_BGP_ST_IDLE, MM_BGP_DO_DROP_TCP | MM_BGP_DO_STOP_TIMERS);
}
