#!/usr/bin/env bash
# mamori bmp decode on a synthetic stream (raw and as a pcap written here),
# decode of a truncated stream fails with a count, types lists the registry.
# usage: bmp_cli.sh MAMORI BMP-GEN
set -u
MAMORI=$1 GEN=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
command -v jq >/dev/null || { echo "missing jq"; [ "${CI:-}" = true ] && exit 1; exit 77; }

"$GEN" good 10 "$T/s.bmp" || exit 1
"$MAMORI" bmp decode "$T/s.bmp" >"$T/out.jsonl" 2>"$T/err" ; rc=$?
check "decode exits 0" "[ $rc = 0 ]"
check "decode summary" "grep -q '^mamori bmp: 18 messages, 63 lines, 0 errors' $T/err"
check "every line is JSON with bmp_msg_type" "jq -e -s 'all(.bmp_msg_type != null)' $T/out.jsonl >/dev/null"
check "10 route monitoring lines" "[ \$(jq -s 'map(select(.bmp_msg_type==\"route_monitor\"))|length' $T/out.jsonl) = 10 ]"
# Truncate the stream in the middle of a message.
head -c $(( $(stat -c %s "$T/s.bmp") - 5 )) "$T/s.bmp" >"$T/cut.bmp"
"$MAMORI" bmp decode "$T/cut.bmp" >/dev/null 2>"$T/err2"; rc=$?
check "truncated stream: exit 1" "[ $rc = 1 ]"
check "truncated stream: trailing bytes reported" "grep -q 'trailing bytes (truncated message)' $T/err2"
# The same stream as a pcap: Ethernet/IPv4/TCP, split over segments of 100 bytes, one retransmission.
python3 - "$T/s.bmp" "$T/s.pcap" <<'PY' || { echo "python3 missing"; exit 77; }
import struct, sys
data = open(sys.argv[1], 'rb').read()
out = open(sys.argv[2], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
def pkt(seq, payload, flags=0x18):
    tcp = struct.pack('!HHIIBBHHH', 40001, 1790, seq, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6, 0,
                     bytes([127, 0, 0, 2]), bytes([127, 0, 0, 1]))
    frame = b'\x00' * 12 + b'\x08\x00' + ip + tcp + payload
    out.write(struct.pack('<IIII', 0, 0, len(frame), len(frame)) + frame)
pkt(999, b'', 0x02)
seq, off = 1000, 0
while off < len(data):
    chunk = data[off:off + 100]
    pkt(seq + off, chunk)
    if off == 300:
        pkt(seq + off, chunk)  # retransmission
    off += len(chunk)
PY
"$MAMORI" bmp decode "$T/s.pcap" >"$T/pcap.jsonl" 2>"$T/err3"; rc=$?
check "pcap decode exits 0" "[ $rc = 0 ]"
check "pcap gives the same lines (router from the capture)" \
  "diff <(jq -c 'del(.timestamp_arrival, .bmp_router, .bmp_router_port)' $T/out.jsonl) <(jq -c 'del(.timestamp_arrival, .bmp_router, .bmp_router_port)' $T/pcap.jsonl)"
check "pcap router address" "[ \$(jq -r -s '.[0].bmp_router' $T/pcap.jsonl) = 127.0.0.2 ]"
"$MAMORI" bmp types --json >"$T/types.json"
check "types: 0..43 and 65531" "[ \$(jq '[.types[].type] | map(select(. <= 43)) | length' $T/types.json) = 44 ] && jq -e '.types[] | select(.type == 65531)' $T/types.json >/dev/null"
# Add-Path (RFC 7911): path ids where the Peer Up's OPENs negotiated them, per AFI/SAFI and
# direction, and not after the peer went down.
"$GEN" addpath 0 "$T/ap.bmp" || exit 1
"$MAMORI" bmp decode "$T/ap.bmp" >"$T/ap.jsonl" 2>"$T/ap.err"; rc=$?
check "add-path capture decodes without errors" "[ $rc = 0 ] && grep -q ', 0 errors' $T/ap.err"
rm_lines() { jq -c -s "map(select(.bmp_msg_type==\"route_monitor\")) | map([.peer_type, (.is_out // 0), .ip_prefix, .path_id])" "$T/ap.jsonl"; }
check "add-path: two paths of 10.7/16 (ids 1, 2), IPv6 and Adj-RIB-Out without, Loc-RIB id 9, none after Peer Down" \
  "[ '$(echo '[[0,0,"10.7.0.0/16",1],[0,0,"10.7.0.0/16",2],[0,0,"2001:db8:7::/48",null],[0,1,"10.8.0.0/16",null],[3,0,"10.9.0.0/16",9],[0,0,"10.10.0.0/16",null]]')' = \"\$(rm_lines)\" ]"
check "add-path: the mirrored UPDATE of that peer decodes with its path ids 1 and 2" \
  "[ \"\$(jq -c -s 'map(select(.bmp_msg_type==\"route_mirror\" and .ip_prefix==\"10.11.0.0/16\")) | map(.path_id)' $T/ap.jsonl)\" = '[1,2]' ]"
"$MAMORI" bmp frobnicate 2>/dev/null; rc=$?
check "unknown command: exit 2" "[ $rc = 2 ]"
[ $fails -eq 0 ] || exit 1
