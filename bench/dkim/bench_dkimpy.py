#!/usr/bin/python3
# dkimpy side of bench-dkim: messages per second for sign or verify over the same corpus,
# keys from the bench's keys.txt (no DNS). Prints one number; -1 if any verification fails.
# usage: bench_dkimpy.py DIR sign|verify rsa|ed SECONDS
# SPDX-License-Identifier: Apache-2.0
import glob, sys, time
import dkim

d, what, sel, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
keys = {}
for line in open(d + '/keys.txt'):
    n, r = line.strip().split(None, 1)
    keys[n.lower()] = r.encode()
def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return keys.get(name.rstrip('.').lower())
signed = [open(f, 'rb').read() for f in sorted(glob.glob('%s/signed-%s-*.eml' % (d, sel)))]
# the unsigned corpus: the signed messages without their DKIM-Signature (first field)
msgs = [m[m.index(b'\r\nReceived:') + 2:] for m in signed]
if sel == 'rsa':
    key, alg = open(d + '/rsa.pem', 'rb').read(), b'rsa-sha256'
else:
    key, alg = open(d + '/ed.seed', 'rb').read(), b'ed25519-sha256'
n, t0 = 0, time.process_time()
while True:
    for i in range(len(msgs)):
        if what == 'sign':
            dkim.sign(msgs[i], sel.encode(), b'example.test', key, signature_algorithm=alg,
                      canonicalize=(b'relaxed', b'relaxed'))
        else:
            if not dkim.verify(signed[i], dnsfunc=dnsfunc):
                print(-1)
                sys.exit(1)
        n += 1
    t = time.process_time() - t0
    if t >= secs:
        break
print('%.1f' % (n / t))
