#!/usr/bin/env python3
# Compare what pmacct pmbmpd and mamori decoded from the same BMP stream.
# usage: bmp_compare.py PMBMPD.json MAMORI.jsonl
# pmbmpd's file may hold several sessions; the one compared is the session
# whose init matches mamori's (sysname). Prints one line per check; exit 1 on
# any mismatch. pmbmpd discards messages of peers it saw no Peer Up for, so
# route monitoring and statistics are compared for the peers it knows.
import json
import sys
from collections import Counter, defaultdict


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


pm_all, mm = load(sys.argv[1]), load(sys.argv[2])
mm_init = [r for r in mm if r.get('bmp_msg_type') == 'init'][0]
port = [r['bmp_router_port'] for r in pm_all
        if r.get('bmp_msg_type') == 'init' and r.get('bmp_init_info_sysname') == mm_init.get('bmp_init_info_sysname')][0]
pm = [r for r in pm_all if r.get('bmp_router_port') == port and r.get('event_type') == 'log']
fails = 0


def check(name, ok, detail=''):
    global fails
    print(('ok - ' if ok else 'FAIL - ') + name + ('' if ok else ': ' + detail))
    fails += 0 if ok else 1


def of(rows, t):
    return [r for r in rows if r.get('bmp_msg_type') == t]


def proj(rows, keys):
    return [tuple(r.get(k) for k in keys) for r in rows]


check('init: sysdescr and sysname',
      proj(of(pm, 'init'), ['bmp_init_info_sysdescr', 'bmp_init_info_sysname']) ==
      proj(of(mm, 'init'), ['bmp_init_info_sysdescr', 'bmp_init_info_sysname']))
up_keys = ['peer_ip', 'peer_asn', 'peer_type', 'bgp_id', 'local_ip', 'local_port', 'remote_port', 'is_post']
pm_up, mm_up = proj(of(pm, 'peer_up'), up_keys), proj(of(mm, 'peer_up'), up_keys)
check('peer up: same peers, AS, BGP id, addresses and ports', pm_up == mm_up, f'{pm_up} != {mm_up}')
known = {r['peer_ip'] for r in of(pm, 'peer_up')}
down_keys = ['peer_ip', 'peer_asn', 'reason_type']
mm_down = [d for d in proj(of(mm, 'peer_down'), down_keys) if d[0] in known]
check('peer down: same peers and reasons', proj(of(pm, 'peer_down'), down_keys) == mm_down)

# Statistics: per (peer, type), the sequence of (value, afi, safi).
def stat_series(rows):
    s = defaultdict(list)
    for r in of(rows, 'stats'):
        if r['peer_ip'] not in known:
            continue
        v, afi, safi = r['counter_value'], r.get('afi'), r.get('safi')
        if isinstance(v, str):  # pmbmpd prints types it does not know as dashed hex
            b = bytes.fromhex(v.replace('-', ''))
            if len(b) == 11:  # per-AFI/SAFI gauge: AFI u16, SAFI u8, value u64
                afi, safi, b = int.from_bytes(b[:2], 'big'), b[2], b[3:]
            v = int.from_bytes(b, 'big')
        s[(r['peer_ip'], r['counter_type'])].append((v, afi, safi))
    return s


def same(pm_list, mm_list):
    """pmbmpd omits AFI/SAFI for some types it knows (16, 17): None matches anything."""
    if mm_list is None or len(pm_list) != len(mm_list):
        return False
    return all(p[0] == m[0] and all(x is None or x == y for x, y in zip(p[1:], m[1:]))
               for p, m in zip(pm_list, mm_list))


pm_s, mm_s = stat_series(pm), stat_series(mm)
check('stats: same (peer, type) keys', set(pm_s) == set(mm_s), f'{sorted(pm_s)} vs {sorted(mm_s)}')
for key in sorted(pm_s):
    check(f'stats: peer {key[0]} type {key[1]}: same values ({len(pm_s[key])} reports)',
          same(pm_s[key], mm_s.get(key)), f'{pm_s[key]} vs {mm_s.get(key)}')
unknown = sorted({r['counter_type'] for r in of(pm, 'stats') if r.get('counter_type_str') == 'Unknown'})
named = {r['counter_type']: r.get('counter_name') for r in of(mm, 'stats')}
for t in unknown:
    check(f'stats: type {t} unknown to pmbmpd is named by mamori ({named.get(t)})', bool(named.get(t)))
print(f'# pmbmpd unknown types: {unknown}')

rm_keys = ['peer_ip', 'is_post', 'log_type', 'afi', 'safi', 'ip_prefix', 'bgp_nexthop', 'as_path',
           'comms', 'ecomms', 'lcomms', 'origin', 'local_pref', 'med']
def ecomm_norm(rows, pmacct):
    # pmbmpd prints extended communities it does not know as "?"; mamori as 0x + hex.
    out = []
    for r in rows:
        r = dict(r)
        if r.get('ecomms'):
            r['ecomms'] = ' '.join('?' if (pmacct and t == '?') or (not pmacct and t.startswith('0x')) else t
                                   for t in r['ecomms'].split())
        out.append(r)
    return out


pm_rm = Counter(proj(ecomm_norm(of(pm, 'route_monitor'), True), rm_keys))
# pmbmpd logs no End-of-RIB line; mamori does (log_type end_of_rib).
mm_rm = Counter(proj(ecomm_norm([r for r in of(mm, 'route_monitor') if r['peer_ip'] in known and r['peer_type'] == 0
                                 and r['log_type'] != 'end_of_rib'], False), rm_keys))
check(f'route monitoring: same routes and attributes ({sum(pm_rm.values())} lines)', pm_rm == mm_rm,
      f'only pmbmpd: {pm_rm - mm_rm}; only mamori: {mm_rm - pm_rm}')
sys.exit(1 if fails else 0)
