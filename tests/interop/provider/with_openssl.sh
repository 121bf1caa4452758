#!/bin/bash
# with_openssl.sh BIN_DIR SCRIPT ARGS... - run an interop script with the
# `openssl` program of BIN_DIR first on PATH: the same scloudplus.so, loaded
# into mamori's private OpenSSL 3.5 instead of Debian's 3.0 (docs/tls.md,
# "Two OpenSSLs": one provider binary serves both).
#
# SPDX-License-Identifier: Apache-2.0
set -u
bindir=${1:?usage: $0 BIN_DIR SCRIPT ARGS...}
script=${2:?usage: $0 BIN_DIR SCRIPT ARGS...}
shift 2
[ -x "$bindir/openssl" ] || { echo "FAIL: no openssl in $bindir (scripts/build-deps)"; exit 1; }
echo "openssl: $("$bindir/openssl" version)"
PATH="$bindir:$PATH" exec bash "$script" "$@"
