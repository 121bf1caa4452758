/*
 * Socket helpers every daemon's listener uses: printing a peer's address and
 * the dead-peer detection of TCP sessions (the "every session has an idle
 * timeout and keep-alive" rule of the suite).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mamori/mm_core.h"

void mm_sockaddr_format(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, len, "%s:%u", host, (unsigned)ntohs(in->sin_port));
        return;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, len, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
        return;
    }
    snprintf(out, len, "?");
}

/*
 * A client whose host vanished (power, network) never sends FIN or RST: TCP
 * keep-alive probes an idle connection (after a third of ms, every ninth,
 * three probes), TCP_USER_TIMEOUT bounds how long sent data may stay
 * unacknowledged. Either ends the connection, so what the session holds
 * (locks, subscriptions, a confirmed commit) is released.
 */
void mm_tcp_dead_peer_detection(int fd, uint32_t ms)
{
    int one = 1;
    int idle = (int)(ms / 3000) > 0 ? (int)(ms / 3000) : 1;
    int intvl = (int)(ms / 9000) > 0 ? (int)(ms / 9000) : 1, cnt = 3;
    unsigned int user = ms;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user));
}

int mm_sock_adopt(int fd, struct sockaddr_storage *peer)
{
    socklen_t sl = sizeof(*peer);
    memset(peer, 0, sizeof(*peer));
    if (getpeername(fd, (struct sockaddr *)peer, &sl) != 0) {
        close(fd);
        return MM_ESYS;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return MM_ESYS;
    }
    return 0;
}
