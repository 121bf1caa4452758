/*
 * mm_tls_server.c - a one-connection TLS 1.3 server on mamori's TLS layer
 * (mm_tls), for the interop tests: the same library context, built-in
 * provider and option handling as every mamori daemon.
 *
 * usage: mm-tls-server PORT CERT KEY CA [--option KEY=VALUE]... [--groups LIST]
 * Prints "listening" once bound, then after the handshake
 * "group 0xNNNN NAME" and exits 0; exit 1 (with the logged reason) when the
 * TLS context cannot be made.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"

int main(int argc, char **argv)
{
    mm_tls_config cfg = {0};
    struct sockaddr_in sa = {0};
    int one = 1, fd, c;
    SSL_CTX *ctx;
    SSL *ssl;

    if (argc < 5)
        return fprintf(stderr, "usage: %s PORT CERT KEY CA [--option K=V]... [--groups L]\n",
                       argv[0]),
               2;
    mm_log_setup("mm-tls-server", MM_LOG_STDERR, MM_LOG_INFO);
    cfg.cert_file = argv[2];
    cfg.key_file = argv[3];
    cfg.ca_file = argv[4];
    cfg.client_cert_optional = true;
    for (int i = 5; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--groups") == 0) {
            cfg.groups = argv[i + 1];
        } else if (strcmp(argv[i], "--option") == 0) {
            char *eq = strchr(argv[i + 1], '=');

            if (eq == NULL)
                return fprintf(stderr, "bad --option %s\n", argv[i + 1]), 2;
            *eq = '\0';
            if (mm_tls_provider_option_set(argv[i + 1], eq + 1) != 0)
                return fprintf(stderr, "unknown option %s\n", argv[i + 1]), 2;
        } else {
            return fprintf(stderr, "unknown argument %s\n", argv[i]), 2;
        }
    }
    ctx = mm_tls_ctx_new_server(&cfg);
    if (ctx == NULL) {
        fprintf(stderr, "mm-tls-server: no TLS context (see the log above)\n");
        return 1;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0)
        return perror("bind"), 1;
    printf("listening\n");
    fflush(stdout);
    c = accept(fd, NULL, NULL);
    if (c < 0)
        return perror("accept"), 1;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) != 1) {
        fprintf(stderr, "mm-tls-server: handshake failed\n");
        return 1;
    }
    printf("group 0x%04x %s\n", mm_tls_negotiated_group_id(ssl),
           mm_tls_negotiated_group_name(ssl) ? mm_tls_negotiated_group_name(ssl) : "?");
    fflush(stdout);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(c);
    close(fd);
    SSL_CTX_free(ctx);
    return 0;
}
