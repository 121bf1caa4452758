#!/usr/bin/python3
# Verify one DKIM-Signature of a message with dkimpy, keys from a "name rdata" file
# instead of DNS. Prints pass/fail/permerror; exit 0 only on pass.
# SPDX-License-Identifier: Apache-2.0
import sys
import dkim

keys = {}
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith('#'):
            name, rdata = line.split(None, 1)
            keys[name.rstrip('.').lower()] = rdata.encode()


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return keys.get(name.rstrip('.').lower())


msg = open(sys.argv[2], 'rb').read()
idx = int(sys.argv[3]) if len(sys.argv) > 3 else 0
try:
    ok = dkim.DKIM(msg).verify(idx=idx, dnsfunc=dnsfunc)
except dkim.ValidationError as e:
    # dkimpy raises for body-hash mismatch and syntax errors (spec 7)
    print('fail' if 'body hash' in str(e) else 'permerror', e)
    sys.exit(1)
print('pass' if ok else 'fail')
sys.exit(0 if ok else 1)
