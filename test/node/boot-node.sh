#!/usr/bin/env bash
# Boots one test node with systemd-nspawn from the cached rootfs, and returns once SSH answers and the
# kubelet is active. Builds the rootfs first if needed. A node that fails half-way is stopped again.
# Usage: boot-node.sh NAME INDEX STATE_DIR
#   NAME       machine name: lower-case letters, digits, '-', at most 12 characters (host veth ve-NAME <= 15)
#   INDEX      1..250; host side 10.213.INDEX.1/30, node 10.213.INDEX.2/30
#   STATE_DIR  absolute path; receives node.json, ssh_config, known_hosts, id_ed25519, console.log
# KRD_NODE_PERSISTENT=1 boots a private copy of the rootfs in STATE_DIR/rootfs instead of a volatile
# overlay, so /etc and /var survive a reboot (boot the same STATE_DIR again after `systemctl reboot`)
# and only /run is wiped, as on a real node. The copy is reused while it exists.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=boot-node
source "$here/lib.sh"

(($# == 3)) || die "usage: boot-node.sh NAME INDEX STATE_DIR"
name=$1 index=$2 state=$3
[[ $name =~ ^[a-z][a-z0-9-]{0,11}$ ]] || die "NAME must match [a-z][a-z0-9-]{0,11}: '$name'"
[[ $index =~ ^[0-9]+$ ]] && ((index >= 1 && index <= 250)) || die "INDEX must be 1..250: '$index'"
# ':' would split --bind-ro=, blanks would split ssh_config values.
[[ $state == /* && $state != *[:[:space:]\"\\]* ]] || die "STATE_DIR must be an absolute path without ':', blanks, quotes: '$state'"
log_prefix=$name
address=10.213.$index.2
host_address=10.213.$index.1

t_start=$EPOCHREALTIME
# KRD_NODE_KIND=real boots the real Kubernetes v1.20.2 kubelet with containerd and a running pod
# (test/node/real/); control-plane boots etcd, kube-apiserver and kube-controller-manager and no kubelet;
# the default is the sample kubelet.
kind=${KRD_NODE_KIND:-sample}
case $kind in
  sample) node_dir=$("$here/build-rootfs.sh") ;;
  real) node_dir=$("$here/real/build-real-rootfs.sh") ;;
  control-plane) node_dir=$("$here/real/build-control-plane-rootfs.sh") ;;
  *) die "KRD_NODE_KIND must be sample, real or control-plane: '$kind'" ;;
esac
# KRD_CONTROL_PLANE=STATE_DIR (with KRD_NODE_KIND=real) makes the kubelet register with the control-plane
# node booted from that state directory, instead of running standalone.
control_plane=${KRD_CONTROL_PLANE:-}
if [[ -n $control_plane ]]; then
  [[ $kind == real ]] || die "KRD_CONTROL_PLANE needs KRD_NODE_KIND=real (the node that runs the real kubelet)"
  [[ -f $control_plane/node.json && -f $control_plane/nspawn.pid ]] || die "KRD_CONTROL_PLANE=$control_plane holds no running control-plane node (boot one with KRD_NODE_KIND=control-plane)"
  cp_name=$(<"$control_plane/name")
  is_node_nspawn "$(<"$control_plane/nspawn.pid")" "$cp_name" || die "the control-plane node $cp_name ($control_plane) is not running"
  cp_address=$(sed -n 's/^  "address": "\(.*\)",$/\1/p' "$control_plane/node.json")
  [[ $cp_address =~ ^10\.213\.[0-9]+\.2$ ]] || die "no address for the control plane in $control_plane/node.json"
fi
cache=$(dirname "$node_dir")

mkdir -p "$state"
if [[ -f $state/nspawn.pid ]] && is_node_nspawn "$(<"$state/nspawn.pid")" "$name"; then
  die "$name is already running from $state; stop it with: $here/stop-node.sh $state"
fi
machine_running "$name" && die "a machine named $name is already running (not from $state)"
[[ $(ip -4 -o addr show) != *" 10.213.$index."* ]] || die "10.213.$index.0/30 is already in use on this host; pick another INDEX"

ok=
on_exit() {
  [[ -n $ok ]] && return
  log "boot failed; stopping what was started"
  "$here/stop-node.sh" "$state" || true
  [[ -n ${marker:-} ]] && rm -f "$marker" # still names this script's PID if nspawn never started
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- State files. The key is copied so the state directory is self-contained.
rm -f "$state/nspawn.pid" "$state/host-iface" "$state/node.json"
echo "$name" >"$state/name"
install -m 0600 "$node_dir/client/id_ed25519" "$state/id_ed25519"
install -m 0644 "$node_dir/client/id_ed25519.pub" "$state/id_ed25519.pub"
install -m 0600 "$node_dir/client/needpw.password" "$state/needpw.password"
host_key=$(<"$node_dir/host_ed25519.pub")
echo "$address ${host_key% *}" >"$state/known_hosts" # address, key type and key; no comment
{
  for entry in "$name root" "$name-sudo kubeadmin" "$name-needpw needpw"; do
    read -r host user <<<"$entry"
    cat <<EOF
Host $host
  HostName $address
  Port 22
  User $user
  IdentityFile $state/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $state/known_hosts
  StrictHostKeyChecking yes

EOF
  done
} >"$state/ssh_config"
# Every node boots the same read-only rootfs, so its address comes from this file, bind-mounted over
# /etc/systemd/network/; it sorts before the stock 80-container-host0.network (DHCP), and networkd
# uses the first file that matches.
cat >"$state/host0.network" <<EOF
[Match]
Name=host0

[Network]
Address=$address/30
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF

# Every node boots the same rootfs, so what needs the node's own address reads it from this file.
printf 'KRD_NODE_ADDRESS=%s\n' "$address" >"$state/node.env"
extra_nspawn_args=()
if [[ $kind == control-plane ]]; then
  extra_nspawn_args+=(--bind-ro="$state/node.env:/etc/krd/node.env")
fi
# --- Cluster mode: what `kubeadm join` would leave on the node, made by the control plane's kubeadm for this
# node name (a kubeconfig whose client certificate is system:node:NAME), and the cluster CA. The node's
# krd-cluster-join unit puts them in place before the kubelet starts.
if [[ -n $control_plane ]]; then
  rm -rf "$state/cluster"
  mkdir -p "$state/cluster"
  cp "$state/node.env" "$state/cluster/node.env"
  ssh_cp() { ssh -F "$control_plane/ssh_config" -o BatchMode=yes -o ConnectTimeout=5 "$cp_name" "$@"; }
  ssh_cp "set -e; dir=\$(mktemp -d); kubeadm init phase kubeconfig kubelet --kubernetes-version v1.20.2 --apiserver-advertise-address $cp_address --node-name $name --kubeconfig-dir \$dir >&2; cat \$dir/kubelet.conf; rm -rf \$dir" \
    >"$state/cluster/kubelet.conf" || die "the control plane $cp_name could not make a kubelet kubeconfig for $name"
  ssh_cp cat /etc/kubernetes/pki/ca.crt >"$state/cluster/ca.crt" || die "could not read the cluster CA from $cp_name"
  chmod 0600 "$state/cluster/kubelet.conf"
  extra_nspawn_args+=(--bind-ro="$state/cluster:/etc/krd/cluster")
fi

# --- Mark the rootfs as in use before nspawn starts, under the cache lock, so a concurrent build of a
# newer rootfs never prunes it from under this node.
exec 8>"$cache/.rootfs.lock"
flock -s 8
[[ -d $node_dir ]] || die "$node_dir was pruned by a concurrent build; run again"
marker=$cache/in-use/$name
mkdir -p "$cache/in-use"
echo "$$ $node_dir" >"$marker"
echo "$marker" >"$state/in-use-marker"
exec 8>&-

# --- Boot.
root_args=(-D "$node_dir/rootfs" --volatile=overlay)
if [[ ${KRD_NODE_PERSISTENT:-} == 1 ]]; then
  if [[ ! -d $state/rootfs ]]; then
    cp -a --reflink=auto "$node_dir/rootfs" "$state/rootfs.tmp" && mv "$state/rootfs.tmp" "$state/rootfs"
  fi
  root_args=(-D "$state/rootfs")
elif [[ $kind == real ]]; then
  # containerd's overlayfs snapshots cannot have an overlayfs (the volatile root) as their upper layer.
  extra_nspawn_args+=(--tmpfs=/var/lib/containerd:mode=0711)
fi
t_boot=$EPOCHREALTIME
node_cgroups_remove "$state/cgroups" # a node killed without stop-node.sh
# The subshell moves itself into the node's own cgroups, then becomes nspawn.
(
  node_cgroups_enter "$name" "$BASHPID" >"$state/cgroups"
  exec setsid systemd-nspawn "${root_args[@]}" --boot --machine="$name" --register=no --keep-unit \
    --network-veth --console=passive --link-journal=no --resolv-conf=off \
    --bind-ro="$state/host0.network:/etc/systemd/network/10-krd-host0.network" \
    "${extra_nspawn_args[@]}"
) </dev/null >"$state/console.log" 2>&1 &
nspawn=$!
echo "$nspawn" >"$state/nspawn.pid"
echo "$nspawn $node_dir" >"$marker"

fail() { die "$*$(printf '\nlast lines of %s:\n' "$state/console.log"; tail -n 20 "$state/console.log")"; }

# The host side of the veth is ve-NAME, but find it through the container's host0 peer index rather
# than by name, so nspawn's naming rules never matter.
host_if=
deadline=$((SECONDS + 10))
while [[ -z $host_if ]]; do
  kill -0 "$nspawn" 2>/dev/null || fail "systemd-nspawn exited during start-up"
  ((SECONDS < deadline)) || fail "no veth for $name after 10 s"
  if pid1=$(container_pid1 "$nspawn") &&
    peer=$(nsenter -t "$pid1" -n ip -o link show host0 2>/dev/null | sed -n 's/^[0-9]*: host0@if\([0-9]*\):.*/\1/p') &&
    [[ -n $peer ]]; then
    host_if=$(ip -o link show | awk -F': ' -v i="$peer" '$1 == i { sub(/@.*/, "", $2); print $2 }')
  fi
  [[ -n $host_if ]] || sleep 0.05
done
echo "$host_if" >"$state/host-iface"
ip addr add "$host_address/30" dev "$host_if"
ip link set "$host_if" up
if [[ -n $control_plane ]]; then
  # Node to control plane: a veth pair made straight into the two nodes' namespaces, with a host route on
  # each side, so neither the host's forwarding nor its routes change. Both addresses stay the nodes' own
  # (the kubelet's InternalIP is the address SSH reaches), and the pair goes when either node stops.
  cp_pid1=$(container_pid1 "$(<"$control_plane/nspawn.pid")") || fail "the control-plane node $cp_name has no init process"
  ip link add "kc-$cp_name" netns "$pid1" type veth peer name "kc-$name" netns "$cp_pid1"
  nsenter -t "$pid1" -n ip link set "kc-$cp_name" up
  nsenter -t "$cp_pid1" -n ip link set "kc-$name" up
  nsenter -t "$cp_pid1" -n ip route add "$address/32" dev "kc-$name" src "$cp_address"
  # The node's own route follows once networkd has given host0 its address (a route's src must be local).
fi

ssh_node() { ssh -F "$state/ssh_config" -o BatchMode=yes -o ConnectTimeout=2 "$@"; }
deadline=$((SECONDS + 30))
until ssh_node "$name" true 2>"$state/ssh-wait.log"; do
  kill -0 "$nspawn" 2>/dev/null || fail "systemd-nspawn exited during boot"
  ((SECONDS < deadline)) || fail "sshd on $address did not answer within 30 s: $(tail -n 1 "$state/ssh-wait.log")"
  sleep 0.1
done
t_ssh=$(elapsed "$t_boot")

system_state=$(ssh_node "$name" 'timeout 30 systemctl is-system-running --wait' || true)
case $system_state in
  running) ;;
  degraded) log "warning: the node is degraded; failed units: $(ssh_node "$name" 'systemctl --failed --no-legend --plain' | awk '{ printf "%s ", $1 }')" ;;
  *) fail "the node did not finish booting: systemctl is-system-running says '$system_state'" ;;
esac
if [[ -n $control_plane ]]; then
  nsenter -t "$pid1" -n ip route add "$cp_address/32" dev "kc-$cp_name" src "$address"
fi
if [[ $kind == control-plane ]]; then
  for unit in etcd kube-apiserver kube-controller-manager; do
    ssh_node "$name" "systemctl is-active --quiet $unit" ||
      fail "$unit is not active: $(ssh_node "$name" "systemctl status --no-pager -n 10 $unit" || true)"
  done
  deadline=$((SECONDS + 120))
  until [[ $(ssh_node "$name" 'kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw=/readyz 2>&1') == ok ]]; do
    ((SECONDS < deadline)) || fail "kube-apiserver was not ready within 120 s: $(ssh_node "$name" 'kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw="/readyz?verbose" 2>&1 | grep -v "] ok$"; journalctl -u kube-apiserver -n 10 --no-pager -o cat' || true)"
    sleep 0.5
  done
  # The admin kubeconfig (its server is the node's address, which the host reaches) and the cluster CA with
  # its key, from which tests make other credentials.
  mkdir -p "$state/pki"
  ssh_node "$name" cat /etc/kubernetes/admin.conf >"$state/admin.conf"
  ssh_node "$name" cat /etc/kubernetes/pki/ca.crt >"$state/pki/ca.crt"
  ssh_node "$name" cat /etc/kubernetes/pki/ca.key >"$state/pki/ca.key"
  chmod 0600 "$state/admin.conf" "$state/pki/ca.key"
else
  ssh_node "$name" 'systemctl is-active --quiet kubelet' ||
    fail "the kubelet is not active: $(ssh_node "$name" 'systemctl status --no-pager -n 10 kubelet' || true)"
fi
if [[ $kind == real ]]; then
  # The static pod's sandbox and container, both really running under containerd.
  deadline=$((SECONDS + 120))
  until [[ $(ssh_node "$name" 'ctr -n k8s.io tasks ls 2>/dev/null | grep -c RUNNING' || true) -ge 2 ]]; do
    ((SECONDS < deadline)) || fail "the real kubelet did not start the static pod within 120 s: $(ssh_node "$name" 'journalctl -u kubelet -n 15 --no-pager -o cat' || true)"
    sleep 0.5
  done
fi

if [[ -n $control_plane ]]; then
  # Registered and Ready, as the control plane sees it.
  deadline=$((SECONDS + 120))
  until [[ $(ssh_cp "kubectl --kubeconfig /etc/kubernetes/admin.conf get node $name -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null" || true) == True ]]; do
    ((SECONDS < deadline)) || fail "$name did not become Ready in the cluster of $cp_name within 120 s: $(ssh_cp "kubectl --kubeconfig /etc/kubernetes/admin.conf get node $name -o wide 2>&1" || true; ssh_node "$name" 'journalctl -u kubelet -n 10 --no-pager -o cat' || true)"
    sleep 0.5
  done
fi

json() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
cat >"$state/node.json" <<EOF
{
  "name": $(json "$name"),
  "kind": $(json "$kind"),
  "index": $index,
  "address": $(json "$address"),
  "hostAddress": $(json "$host_address"),
  "port": 22,
  "hostKeyPublic": $(json "$host_key"),
  "keyPath": $(json "$state/id_ed25519"),
  "knownHostsPath": $(json "$state/known_hosts"),
  "sshConfigPath": $(json "$state/ssh_config"),
  "sshHosts": { "root": $(json "$name"), "sudo": $(json "$name-sudo"), "needsPassword": $(json "$name-needpw") },
  "users": { "root": "root", "sudo": "kubeadmin", "needsPassword": "needpw" },
  "needsPasswordPasswordPath": $(json "$state/needpw.password"),
  "nspawnPid": $nspawn,
  "hostInterface": $(json "$host_if"),
  "rootfs": $(json "$node_dir/rootfs"),
  "controlPlane": $(if [[ -n $control_plane ]]; then json "$control_plane"; else echo null; fi),
  "kubeconfigPath": $(if [[ $kind == control-plane ]]; then json "$state/admin.conf"; else echo null; fi),
  "log": $(json "$state/console.log")
}
EOF
ok=1
log "up at $address: ssh after $t_ssh, ready after $(elapsed "$t_boot") ($(elapsed "$t_start") in all); ssh -F $state/ssh_config $name"
