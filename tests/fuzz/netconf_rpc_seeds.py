#!/usr/bin/env python3
"""Write the seed corpus of the netconf_rpc fuzz harness (tests/fuzz/corpus/netconf_rpc).

Each seed is the byte stream of one client: an EOM-framed <hello>, then
complete RPCs in the framing the hello selects (chunked with base:1.1,
end-of-message with base:1.0 only). Run from the repository root:
    python3 tests/fuzz/netconf_rpc_seeds.py
Check that each seed is answered: MM_NC_FUZZ_DEBUG=1 build/tests/fuzz/fuzz-netconf_rpc DIR
"""
import os

BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0'
T = 'xmlns="urn:mamori:test:nc"'
NC = 'xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"'
YANG = 'xmlns:yang="urn:ietf:params:xml:ns:yang:1"'
NMDA = ('xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-nmda" '
        'xmlns:ds="urn:ietf:params:xml:ns:yang:ietf-datastores"')
PL = 'xmlns="urn:ietf:params:xml:ns:netconf:partial-lock:1.0"'
SUB = '<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">'
NN = 'urn:ietf:params:xml:ns:yang:ietf-netconf-notifications'


def hello(base11=True):
    caps = '<capability>urn:ietf:params:netconf:base:1.0</capability>'
    if base11:
        caps += '<capability>urn:ietf:params:netconf:base:1.1</capability>'
    return f'<hello xmlns="{BASE}"><capabilities>{caps}</capabilities></hello>]]>]]>'


def chunked(msg):
    b = msg.encode()
    return f'\n#{len(b)}\n'.encode() + b + b'\n##\n'


def session(ops, base11=True, raw_tail=b''):
    out = hello(base11).encode()
    for i, op in enumerate(ops, 1):
        msg = f'<rpc xmlns="{BASE}" message-id="{i}">{op}</rpc>'
        out += chunked(msg) if base11 else msg.encode() + b']]>]]>'
    return out + raw_tail


def edit(target, config, params=''):
    return (f'<edit-config><target><{target}/></target>{params}<config>{config}</config>'
            '</edit-config>')


SEEDS = {
    'get_filters': session([
        '<get/>',
        f'<get><filter type="subtree"><top {T}><item><id>1</id></item></top></filter></get>',
        f'<get-config><source><running/></source><filter type="subtree"><top {T}><item>'
        '<note>n1</note></item></top></filter></get-config>',
        '<get><filter type="xpath" xmlns:t="urn:mamori:test:nc" select="/t:top/t:item[t:value=2]"/>'
        '</get>',
        f'<get><filter type="subtree"><netconf-state xmlns="urn:ietf:params:xml:ns:yang:'
        'ietf-netconf-monitoring"><sessions/></netconf-state></filter></get>',
        f'<get-data {NMDA}><datastore>ds:operational</datastore><subtree-filter><top {T}/>'
        '</subtree-filter><max-depth>1</max-depth></get-data>',
        f'<get-data {NMDA} xmlns:t="urn:mamori:test:nc"><datastore>ds:running</datastore>'
        '<xpath-filter>/t:top/t:item</xpath-filter><config-filter>true</config-filter></get-data>',
        '<get-config><source><running/></source><with-defaults xmlns="urn:ietf:params:xml:ns:'
        'yang:ietf-netconf-with-defaults">report-all-tagged</with-defaults></get-config>',
        f'<get-config><source><running/></source><filter type="subtree"><top {T}>'
        '<item xmlns:x="urn:example:x" x:a="1"/><name/></top></filter></get-config>',
    ]),
    'edit_running': session([
        edit('running', f'<top {T}><item><id>3</id><value>3</value></item><tag>c</tag></top>'),
        edit('running', f'<top {T} {NC}><item nc:operation="replace"><id>2</id><value>5</value>'
             '</item></top>'),
        edit('running', f'<top {T} {NC}><item nc:operation="create"><id>2</id></item></top>'),
        edit('running', f'<top {T} {NC}><item nc:operation="delete"><id>3</id></item></top>'),
        edit('running', f'<top {T} {NC}><item nc:operation="remove"><id>9</id></item></top>'),
        edit('running', f'<top {T} {YANG}><hop yang:insert="first">h0</hop></top>'),
        edit('running', f'<top {T}><name>x</name></top>',
             '<default-operation>merge</default-operation><test-option>test-only</test-option>'),
        edit('running', f'<top {T}><item><id>4</id></item></top>',
             '<error-option>continue-on-error</error-option>'),
        '<copy-config><target><startup/></target><source><running/></source></copy-config>',
        '<delete-config><target><startup/></target></delete-config>',
        '<validate><source><running/></source></validate>',
    ]),
    'edit_commit': session([
        '<lock><target><candidate/></target></lock>',
        edit('candidate', f'<top {T}><name>cand</name><item><id>5</id></item></top>'),
        '<validate><source><candidate/></source></validate>',
        '<commit><confirmed/><confirm-timeout>60</confirm-timeout><persist>p</persist></commit>',
        edit('candidate', f'<top {T}><name>cand2</name></top>'),
        '<commit><confirmed/><persist-id>p</persist-id></commit>',
        '<commit><persist-id>p</persist-id></commit>',
        edit('candidate', f'<top {T}><name>cand3</name></top>'),
        '<discard-changes/>',
        '<commit/>',
        '<unlock><target><candidate/></target></unlock>',
    ]),
    'nacm_denied': session([
        edit('running', f'<top {T}><item><id>1</id><note>guess</note></item></top>'),
        edit('running', f'<top {T}><rule><name>r2</name></rule></top>'),
        '<kill-session><session-id>99</session-id></kill-session>',
        '<get-config><source><running/></source><filter type="subtree"><nacm xmlns="urn:ietf:'
        'params:xml:ns:yang:ietf-netconf-acm"/></filter></get-config>',
        f'<get-config><source><running/></source><filter type="subtree"><top {T}><rule/></top>'
        '</filter></get-config>',
        edit('running', f'<top {T}><item><id>1</id><value>11</value></item></top>'),
    ]),
    'partial_lock': session([
        f'<partial-lock {PL}><select xmlns:t="urn:mamori:test:nc">/t:top/t:item[t:id=\'1\']'
        '</select><select xmlns:t="urn:mamori:test:nc">/t:top/t:tag</select></partial-lock>',
        '<get><filter type="subtree"><netconf-state xmlns="urn:ietf:params:xml:ns:yang:'
        'ietf-netconf-monitoring"><datastores/></netconf-state></filter></get>',
        edit('running', f'<top {T}><item><id>1</id><value>7</value></item></top>'),
        f'<partial-unlock {PL}><lock-id>1</lock-id></partial-unlock>',
        f'<partial-lock {PL}><select xmlns:t="urn:mamori:test:nc">/t:top/t:item[t:id=\'9\']'
        '</select></partial-lock>',
        '<lock><target><running/></target></lock>',
        '<unlock><target><running/></target></unlock>',
    ]),
    'subscribe': session([
        SUB + f'<filter type="subtree"><netconf-config-change xmlns="{NN}"/></filter>'
        '<startTime>2000-01-01T00:00:00Z</startTime></create-subscription>',
        edit('running', f'<top {T}><item><id>1</id><value>8</value><note>x</note></item></top>'),
        edit('running', f'<top {T}><item><id>6</id><value>6</value></item></top>'),
        '<get-config><source><running/></source></get-config>',
        SUB + '</create-subscription>',
    ]),
    'subscribe_xpath': session([
        SUB + f'<filter type="xpath" xmlns:nn="{NN}" select="/nn:netconf-config-change/nn:edit"/>'
        '</create-subscription>',
        edit('running', f'<top {T}><name>s</name></top>'),
        SUB + '<stopTime>2000-01-01T00:00:00Z</stopTime></create-subscription>',
    ]),
    'eom_base10': session([
        '<get-config><source><running/></source></get-config>',
        edit('running', f'<top {T}><name>eom</name></top>'),
        '<get-schema xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring">'
        '<identifier>nc-test</identifier></get-schema>',
        '<close-session/>',
    ], base11=False),
    'rpc_errors': session([
        '<get-config><source><running/></source></get-config>',
        '<get-config/>',
        '<nope xmlns="urn:example:nope"/>',
        '<edit-config><target><running/></target><config><top xmlns="urn:mamori:test:nc">'
        '<mtu>x</mtu></top></config></edit-config>',
        '<get/><get/>',
    ], raw_tail=chunked('<rpc xmlns="' + BASE + '"><get/></rpc>') + chunked('<rpc><unclosed')),
    'too_big': session([
        f'<get><filter type="subtree"><top {T}>' + '<tag/>' * 12000 + '</top></filter></get>',
        '<get' + ''.join(f' a{i}="x"' for i in range(100)) + '/>',
        '<get-config><source><running/></source></get-config>',
    ]),
    'edit_data': session([
        f'<edit-data {NMDA}><datastore>ds:running</datastore><config><top {T}><name>ed</name>'
        '</top></config></edit-data>',
        f'<get-data {NMDA}><datastore>ds:running</datastore><max-depth>2</max-depth></get-data>',
        '<close-session/>',
    ]),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'netconf_rpc')
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
