#!/usr/bin/env bash
# Interop: Ansible (Debian ansible + ansible.netcommon netconf_config /
# netconf_get over its netconf connection, which uses ncclient) runs a
# playbook against mamori-netconfd over SSH. The host key is checked against
# $HOME/.ssh/known_hosts (HOME is the temp dir).
#   usage: ansible.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: ansible.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: ansible.sh mamori mamori-netconfd}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v ansible-playbook >/dev/null 2>&1 || mm_skip "ansible not installed (Debian: ansible)"
ansible-doc -t module ansible.netcommon.netconf_get >/dev/null 2>&1 ||
  mm_skip "ansible.netcommon not installed (Debian's ansible package ships it)"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup ansible
ssh_start_daemon
mkdir -p "$TMP/.ssh"
cp "$KNOWN" "$TMP/.ssh/known_hosts"
cat >"$TMP/inventory.ini" <<INV
[mamori]
nc ansible_host=127.0.0.1 ansible_port=$PORT ansible_user=admin ansible_ssh_private_key_file=$TMP/admin ansible_connection=ansible.netcommon.netconf ansible_network_os=ansible.netcommon.default ansible_python_interpreter=/usr/bin/python3
INV
export HOME="$TMP" ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_LOCAL_TEMP="$TMP/ansible-tmp" \
  ANSIBLE_PERSISTENT_CONTROL_PATH_DIR="$TMP/ansible-pc" ANSIBLE_NOCOLOR=1 \
  ANSIBLE_PERSISTENT_COMMAND_TIMEOUT=60 ANSIBLE_STDOUT_CALLBACK=default
timeout 170 ansible-playbook -i "$TMP/inventory.ini" "$HERE/ansible_playbook.yml" \
  >"$TMP/ansible.out" 2>&1
RC=$?
cat "$TMP/ansible.out"
[ "$RC" = 0 ] || fail "ansible-playbook exit $RC"
grep -Eq 'nc +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0' "$TMP/ansible.out" ||
  fail "unexpected play recap"
grep -q 'event=nc-session-start .*user=admin transport=netconf-ssh' "$TMP/daemon.log" ||
  fail "no netconf-ssh session from ansible"
# And the daemon really has it: read running with mamori nc.
"$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT" --user admin --key "$TMP/admin" \
  --host-key-fingerprint "$FP" get-config --source running \
  --filter '<top xmlns="urn:mamori:test:nc"/>' | grep -q '<name>from-ansible</name>' ||
  fail "ansible's commit not in running"
ok "ansible netconf_config + netconf_get over SSH"
echo PASS
