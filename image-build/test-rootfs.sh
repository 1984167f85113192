#!/usr/bin/env bash
# test-rootfs.sh [--arch amd64|arm64]: the appliance boot test. It runs the image's
# install step (install-kindling.sh) on a debootstrapped Debian root, boots that root under
# QEMU with Debian's kernel, and checks from the host, through a tap device in a network
# namespace of its own, that:
#   - install-kindling.sh removed no package the root had and compiled nothing in it;
#   - kindling-firstboot found no DHCP server, took 10.77.0.1/24 and chose full DHCP;
#   - kindling.service reaches active through READY=1 (Type=notify) and /healthz answers on :80;
#   - the units pass `systemd-analyze verify` in the guest;
#   - a hung process (kill -STOP) is killed by the watchdog and restarted;
#   - a reboot keeps the configuration and state (admin token, a discovered machine);
#   - a broken /etc/kindling/kindling.yaml fails the unit with the error in
#     `systemctl status`, with no restart loop.
# --arch arm64 is the Raspberry Pi lane: the root also gets linux-image-arm64 and
# raspi-firmware, is laid out as a two-partition SD card image (make-sd-image.sh) that is
# checked statically, and boots under qemu-system-aarch64 -M virt with the kernel,
# initramfs and cmdline.txt taken from the image's FAT partition.
# Needs root, debootstrap, qemu-system-x86 (qemu-system-arm, qemu-user-static, binfmt_misc,
# g++-aarch64-linux-gnu, fdisk, dosfstools, mtools for arm64), e2fsprogs, iproute2, curl, zstd.
# The Debian root is cached under /var/cache/kindling-test (KINDLING_TEST_CACHE).
# Traffic stays inside the namespace: the guest is 10.77.0.1, the host side 10.77.0.2.
# Environment: KINDLING_TEST_ACCEL=kvm|tcg (default: kvm when it works, else tcg),
# KINDLING_TEST_KEEP=1 keeps the work directory, KINDLING_TEST_BUNDLE=DIR skips make-bundle.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
arch=${KINDLING_TEST_ARCH:-amd64}
if [ "${1:-}" = --arch ]; then arch=${2:?--arch needs amd64 or arm64}; fi
release=trixie
mirror=${KINDLING_TEST_MIRROR:-http://deb.debian.org/debian}
cache=${KINDLING_TEST_CACHE:-/var/cache/kindling-test}
# What Raspberry Pi OS Lite has (systemd, NetworkManager) plus a kernel for QEMU; the
# packages install-kindling.sh adds are included so the test needs no network after caching.
base_packages=systemd,systemd-sysv,udev,dbus,linux-image-$arch,initramfs-tools,network-manager,avahi-daemon,libnss-mdns,ipxe,nodejs,curl,iproute2,procps,kmod,ca-certificates
components=main
case $arch in
  amd64) node_arch=x64 ;;
  # python3 stands for what Raspberry Pi OS Lite ships and the old install step purged.
  arm64) base_packages+=,raspi-firmware,python3 node_arch=arm64 components=main,non-free-firmware ;;
  *) echo "test-rootfs: --arch $arch: expected amd64 or arm64" >&2; exit 2 ;;
esac
guest=10.77.0.1
host_ip=10.77.0.2
agent_port=8999
ns=kindling-rootfs-$arch-$$
started=$(date +%s)

failures=0
checks=0
log() { printf '[%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
ok() { checks=$((checks + 1)); log "ok - $*"; }
not_ok() { checks=$((checks + 1)); failures=$((failures + 1)); log "not ok - $*"; }
die() { log "FATAL: $*"; exit 1; }
expect() { # DESCRIPTION COMMAND...: ok when the command succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, network namespaces)"
for tool in debootstrap mkfs.ext4 ip curl zstd; do
  command -v "$tool" >/dev/null || die "missing $tool (apt-get install debootstrap e2fsprogs iproute2 curl zstd)"
done
if [ "$arch" = amd64 ]; then
  command -v qemu-system-x86_64 >/dev/null || die "missing qemu-system-x86_64 (apt-get install qemu-system-x86)"
else
  for tool in qemu-system-aarch64 sfdisk mkfs.vfat mcopy aarch64-linux-gnu-g++; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install qemu-system-arm fdisk dosfstools mtools g++-aarch64-linux-gnu)"
  done
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || die "arm64 programs do not run here: apt-get install qemu-user-static binfmt-support, and mount binfmt_misc"
fi

work=$(mktemp -d "/var/tmp/kindling-rootfs-test-$arch.XXXXXX")
qemu_pid=
cleanup() {
  local status=$?
  set +e
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid"; sleep 1; kill -9 "$qemu_pid" 2>/dev/null
  fi
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  awk -v w="$work" '$2 ~ "^"w {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  if [ "$status" != 0 ] || [ "$failures" != 0 ]; then
    if [ -f "$work/serial.log" ]; then
      echo "----- last 80 lines of the guest's serial console -----"
      tail -n 80 "$work/serial.log" | tr -d '\r'
      echo "-------------------------------------------------------"
    fi
  fi
  if [ "${KINDLING_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The SD image, read as the Pi's firmware reads it: an MBR with a FAT partition at the
# front holding config.txt, cmdline.txt, the kernel and initramfs they name and the DTBs.
# What QEMU boots is then taken from that FAT, not from the root directory.
check_sd_image() {
  local img=$work/sd.img fat="$work/sd.img@@4M" table config cmdline kernel_file initramfs_file f
  table=$(sfdisk -d "$img")
  fat_has() { mdir -b -i "$fat" "::$1" >/dev/null 2>&1; }
  mbr_layout() { grep -q 'label: dos' <<<"$table" && [ "$(grep -c 'type=' <<<"$table")" = 2 ] && grep -q 'type=c, bootable' <<<"$table" && grep -q 'type=83' <<<"$table"; }
  expect "the SD image has an MBR with a bootable FAT32 (0c) partition, then a Linux (83) one" mbr_layout
  local size
  size=$(stat -c %s "$img")
  expect "the SD image's size ($size) is a power of two, as QEMU's raspi boards need" [ $((size & (size - 1))) = 0 ]
  config=$(mtype -i "$fat" ::config.txt)
  cmdline=$(mtype -i "$fat" ::cmdline.txt | tr -d '\r\n')
  kernel_file=$(sed -n -E 's/^kernel=//p' <<<"$config" | tail -n1)
  initramfs_file=$(sed -n -E 's/^initramfs ([^ ]+).*/\1/p' <<<"$config" | tail -n1)
  expect "config.txt asks for a 64-bit kernel" grep -q '^arm_64bit=1' <<<"$config"
  for f in "${kernel_file:-"(no kernel= in config.txt)"}" "${initramfs_file:-"(no initramfs in config.txt)"}" start4.elf fixup4.dat bootcode.bin \
    bcm2837-rpi-3-b.dtb bcm2837-rpi-3-b-plus.dtb bcm2837-rpi-zero-2-w.dtb bcm2711-rpi-4-b.dtb bcm2711-rpi-400.dtb bcm2712-rpi-5-b.dtb; do
    # Pi 3, Zero 2 W, Pi 4, Pi 400 and Pi 5: the firmware picks the DTB by board.
    expect "the FAT partition has $f" fat_has "$f"
  done
  expect "cmdline.txt mounts the root by label (cmdline.txt: $cmdline)" grep -q 'root=LABEL=RASPIROOT' <<<"$cmdline"
  root_label() { blkid -p -O $((260 * 1024 * 1024)) -s LABEL -o value "$img"; }
  expect "partition 2 is the ext4 root labelled RASPIROOT" [ "$(root_label)" = RASPIROOT ]
  mcopy -n -i "$fat" "::$kernel_file" "$work/vmlinuz"
  mcopy -n -i "$fat" "::$initramfs_file" "$work/initrd.img"
  append=$cmdline
}

# --- 1. the Debian root, cached -------------------------------------------------------
key=$(printf '%s %s %s' "$release" "$base_packages" "$mirror" | sha256sum | cut -c1-12)
[ "$components" = main ] || key=$(printf '%s %s' "$key" "$components" | sha256sum | cut -c1-12)
tarball="$cache/rootfs-$release-$arch-$key.tar.zst"
mkdir -p "$cache"
(
  flock -w 900 9 || die "another test holds $cache/lock"
  if [ ! -s "$tarball" ]; then
    log "debootstrap $release $arch (cached afterwards as $tarball)"
    debootstrap --variant=minbase --arch="$arch" --components="$components" --include="$base_packages" "$release" "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 \
      || { tail -n 30 "$work/debootstrap.log"; die "debootstrap failed"; }
    rm -rf "$work/base/var/cache/apt/archives/"*.deb "$work/base/var/lib/apt/lists/"*_Packages
    tar -C "$work/base" --numeric-owner --xattrs -cf - . | zstd -q -T0 -3 -o "$tarball.partial"
    mv "$tarball.partial" "$tarball"
    rm -rf "$work/base"
  fi
) 9>"$cache/lock"
mkdir "$work/root"
tar -C "$work/root" --numeric-owner --xattrs -I zstd -xf "$tarball"
log "root filesystem ready ($(du -sh "$work/root" | cut -f1))"

# --- 2. the install step the image runs -----------------------------------------------
if [ -n "${KINDLING_TEST_BUNDLE:-}" ]; then
  bundle=$KINDLING_TEST_BUNDLE
else
  bundle=$work/bundle
  "$here/make-bundle.sh" --arch "$node_arch" "$bundle" >"$work/bundle.log" 2>&1 || { tail -n 30 "$work/bundle.log"; die "make-bundle.sh failed"; }
fi
# shellcheck disable=SC2016 # dpkg-query's fields, not the shell's
packages_of() { chroot "$work/root" dpkg-query -W -f='${Package}:${Architecture} ${Version}\n' | sort; }
packages_of >"$work/packages.before"
KINDLING_APT=0 "$here/install-kindling.sh" "$work/root" "$bundle" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; die "install-kindling.sh failed"; }
ok "install-kindling.sh installed into the Debian $release $arch root"
packages_of >"$work/packages.after"
changed=$(diff "$work/packages.before" "$work/packages.after" || true)
expect "install-kindling.sh left the root's $(wc -l <"$work/packages.before") packages as they were${changed:+: $changed}" [ -z "$changed" ]
compilers=$(chroot "$work/root" sh -c 'command -v cc gcc g++ make node-gyp' || true)
expect "the root has no compiler or node-gyp${compilers:+ (found $compilers)}" [ -z "$compilers" ]
expect "the bundle's $arch unix-dgram addon loads with the root's own node" chroot "$work/root" node -e "require('/usr/lib/kindling/node_modules/unix-dgram')"

# --- 3. test-only additions: what the Pi has (fstab) and a command agent -------------
root=$work/root
if [ "$arch" = amd64 ]; then
  echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' >"$root/etc/fstab"
else
  # The SD card's partitions by label, as make-sd-image.sh names them; raspi-firmware's
  # hook writes the same root into cmdline.txt.
  printf 'LABEL=RASPIROOT / ext4 defaults,errors=remount-ro 0 1\nLABEL=RASPIFIRM /boot/firmware vfat defaults 0 2\n' >"$root/etc/fstab"
fi
# A short DHCP wait: nothing in the namespace answers, and the test waits for the fallback.
echo 'KINDLING_DHCP_TIMEOUT=8' >"$root/etc/default/kindling-firstboot"
# The file as installed, for the second first boot (section 10).
cp "$root/etc/kindling/kindling.yaml" "$root/root/kindling.yaml.pristine"
cat >"$root/usr/local/lib/kindling-test-agent.mjs" <<'JS'
// Test only (never in the image): runs a shell command posted to /run, answers "CODE\nOUTPUT".
import http from 'node:http';
import { spawn } from 'node:child_process';
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const child = spawn('/bin/bash', ['-c', body], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => { clearTimeout(timer); res.end(`${code}\n${out}`); });
  });
}).listen(8999);
JS
cat >"$root/etc/systemd/system/kindling-test-agent.service" <<'UNIT'
[Unit]
Description=Kindling boot test agent (test only)
[Service]
ExecStart=/usr/bin/node /usr/local/lib/kindling-test-agent.mjs
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable kindling-test-agent.service >/dev/null 2>&1
if [ "$arch" = amd64 ]; then
  kernel=$(find "$root/boot" -name 'vmlinuz-*' | sort -V | tail -n1)
  initrd=$(find "$root/boot" -name 'initrd.img-*' | sort -V | tail -n1)
  cp "$kernel" "$work/vmlinuz"; cp "$initrd" "$work/initrd.img"
  append="root=/dev/vda rw console=ttyS0,115200"
else
  # raspi-firmware's hooks put the kernel, initramfs, DTBs, config.txt and cmdline.txt on
  # the FAT; they ran at debootstrap time, and run again for the root by label.
  kver=$(find "$root/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)
  sed -i -E 's|^#?ROOTPART=.*|ROOTPART=LABEL=RASPIROOT|' "$root/etc/default/raspi-firmware"
  # The hook writes only into a mounted /boot/firmware (as on a Pi), which it asks /proc
  # about; a bind mount is one.
  mount --bind "$root/boot/firmware" "$root/boot/firmware"
  mount -t proc proc "$root/proc"
  chroot "$root" env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$kver" >"$work/raspi-firmware.log" 2>&1 \
    || { cat "$work/raspi-firmware.log"; die "raspi-firmware's hook failed"; }
  umount "$root/proc" "$root/boot/firmware"
  "$here/make-sd-image.sh" "$root" "$work/sd.img" >"$work/sd-image.log" 2>&1 || { cat "$work/sd-image.log"; die "make-sd-image.sh failed"; }
  log "$(tail -n1 "$work/sd-image.log")"
  check_sd_image
fi

make_disk() {
  if [ "$arch" = arm64 ]; then
    # The SD image is the disk; it is made once, above, and booted as it is.
    return 0
  fi
  rm -f "$work/disk.img"
  truncate -s 3G "$work/disk.img"
  mkfs.ext4 -q -F -L kindling-root -d "$root" "$work/disk.img"
}

# --- 4. the namespace: a bridge for the rack, the guest's tap and a rack machine's -------
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add "$host_ip/24" dev br0
for tap in tap0 tap1; do
  ip -n "$ns" tuntap add dev "$tap" mode tap
  ip -n "$ns" link set "$tap" master br0 up
done
ip -n "$ns" link set br0 up
in_ns() { ip netns exec "$ns" "$@"; }

boot() {
  local accel=$1
  : >"$work/serial.log"
  if [ "$arch" = arm64 ]; then
    # TCG on an x86 host: a Cortex-A72, the Pi 4's core, on QEMU's virt board.
    in_ns qemu-system-aarch64 -name kindling-rootfs-test -machine virt -accel tcg,thread=multi \
      -cpu cortex-a72 -smp 2 -m 1536 \
      -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
      -append "$append console=ttyAMA0,115200 systemd.show_status=1 panic=-1" \
      -drive "file=$work/sd.img,if=none,id=sd,format=raw,cache=unsafe" -device virtio-blk-pci,drive=sd \
      -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=52:54:00:4b:1d:01 \
      -display none -serial "file:$work/serial.log" -monitor none \
      -daemonize -pidfile "$work/qemu.pid"
    qemu_pid=$(cat "$work/qemu.pid")
    return 0
  fi
  local cpu=max
  [ "$accel" = kvm ] && cpu=host
  : >"$work/serial.log"
  in_ns qemu-system-x86_64 -name kindling-rootfs-test -machine q35 -accel "$accel" \
    -cpu "$cpu" -smp 2 -m 1536 \
    -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
    -append "$append net.ifnames=0 systemd.show_status=1 panic=-1" \
    -drive "file=$work/disk.img,if=virtio,format=raw,cache=unsafe" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=52:54:00:4b:1d:01 \
    -display none -serial "file:$work/serial.log" -monitor none \
    -daemonize -pidfile "$work/qemu.pid"
  qemu_pid=$(cat "$work/qemu.pid")
}

# The agent: "CODE\nOUTPUT". run CMD prints OUTPUT and returns CODE.
run() {
  local reply code
  # The trailing x keeps $( ) from eating the newline after CODE when OUTPUT is empty.
  reply=$(in_ns curl -sS --max-time 100 --data-binary "$1" "http://$guest:$agent_port/run" && echo x) || return 255
  reply=${reply%x}
  code=${reply%%$'\n'*}
  printf '%s' "${reply#*$'\n'}"
  return "$code"
}
agent_up() { in_ns curl -s --max-time 3 --data-binary true "http://$guest:$agent_port/run" >/dev/null 2>&1; }
wait_for() { # SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + limit))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then log "gave up after ${limit}s waiting for $what"; return 1; fi
    sleep 2
  done
}
# Answers with its JSON, 200 or 503: the guest has no Internet, so once the mirror-resume
# timer (OnBootSec=2min plus up to 10 min at random) tries upstream, the empty mirror is
# failed and /healthz says so with 503, as it should.
healthz_json() { in_ns curl -s --max-time 5 "http://$guest/healthz"; }
healthz() { healthz_json | grep -q '"services":'; }
unit_state() { run "systemctl show -p ActiveState --value kindling" | tr -d '\n'; }
is_active() { [ "$(unit_state)" = active ]; }

# --- 5. boot: KVM if a real boot works with it, else TCG -------------------------------
# A kernel that prints its banner within 20 s under KVM counts as working. Seen here:
# nested KVM that aborts on an MSR with -cpu host, and (docs/decisions.md, "The rack in a box") a KVM guest whose
# network stayed silent; either way the test falls back to TCG.
kvm_works() {
  [ -w /dev/kvm ] || return 1
  local probe=$work/kvm-probe.log
  (timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -kernel "$work/vmlinuz" -append "console=ttyS0 panic=-1" \
    -display none -serial "file:$probe" -monitor none -no-reboot >/dev/null 2>&1 || true) 2>/dev/null
  grep -q 'Linux version' "$probe" 2>/dev/null
}
accel=${KINDLING_TEST_ACCEL:-}
[ "$arch" = arm64 ] && accel=tcg # an arm64 guest on an x86 host: emulation only
if [ -z "$accel" ]; then
  if kvm_works; then accel=kvm; else accel=tcg; log "KVM does not boot a kernel here: using TCG"; fi
fi
make_disk
boot "$accel"
log "booting under $accel"
limit=$([ "$accel" = kvm ] && echo 120 || echo 480)
[ "$arch" = arm64 ] && limit=900
if ! wait_for "$limit" "the guest's agent on $guest:$agent_port" agent_up; then
  if [ "$accel" = kvm ] && [ -z "${KINDLING_TEST_ACCEL:-}" ]; then
    log "no answer under KVM; booting again under TCG"
    kill "$qemu_pid"; sleep 1; kill -9 "$qemu_pid" 2>/dev/null || true
    accel=tcg
    make_disk
    boot tcg
    wait_for 480 "the guest's agent under TCG" agent_up || die "the guest never answered (serial console below)"
  else
    die "the guest never answered under $accel (serial console below)"
  fi
fi
log "guest answers under $accel"
boot_timeout=$([ "$accel" = kvm ] && echo 120 || echo 420)
[ "$arch" = arm64 ] && boot_timeout=900

# --- 6. first boot ---------------------------------------------------------------------
wait_for "$boot_timeout" "kindling.service active" is_active || true
if is_active; then ok "kindling.service is active (Type=notify: READY=1 arrived)"; else not_ok "kindling.service is $(unit_state)"; run "systemctl status --no-pager -l kindling; journalctl -b -u kindling --no-pager | tail -n 40" || true; fi
status_text=$(run "systemctl show -p StatusText --value kindling")
case $status_text in *HTTP*) ok "STATUS= from Kindling reached systemd: $status_text" ;; *) not_ok "no STATUS= text from Kindling (got '$status_text')" ;; esac
if wait_for 60 "/healthz on $guest:80" healthz; then ok "GET http://$guest/healthz answers"; else not_ok "/healthz does not answer on port 80"; fi

marker=$(run "cat /var/lib/kindling-firstboot/done" || true)
case $marker in *mode=full*address=10.77.0.1*) ok "first boot: no DHCP server answered, so 10.77.0.1 and full DHCP" ;; *) not_ok "first boot marker: '$marker'"; run "journalctl -b -u kindling-firstboot --no-pager" || true ;; esac
config=$(run "cat /etc/kindling/kindling.yaml" || true)
if grep -q '^  mode: full' <<<"$config" && grep -q '^  advertise: 10.77.0.1' <<<"$config" && grep -q '^# /etc/kindling/kindling.yaml' <<<"$config"; then
  ok "kindling.yaml: dhcp.mode full, server.advertise 10.77.0.1, comments kept"
else
  not_ok "kindling.yaml after first boot:"; printf '%s\n' "$config"
fi
if run "grep -q 'kindling.local' /etc/issue.d/kindling.issue" >/dev/null; then ok "/etc/issue.d/kindling.issue written for the console"; else not_ok "no /etc/issue.d/kindling.issue"; fi
if grep -q 'kindling-firstboot: setup page: https://kindling.local/ or https://10.77.0.1/' "$work/serial.log"; then ok "the address was printed on the console"; else not_ok "the console does not show the setup page address"; fi
if run "systemctl is-active avahi-daemon && journalctl -b -u avahi-daemon --no-pager | grep -q 'Host name is kindling.local'" >/dev/null; then ok "avahi-daemon announces kindling.local"; else not_ok "avahi-daemon does not announce kindling.local"; fi
if verify=$(run "systemd-analyze verify kindling.service kindling-firstboot.service kindling-mirror-resume.service kindling-mirror-resume.timer kindling-host-address.service kindling-host-address.path 2>&1") && [ -z "$verify" ]; then
  ok "systemd-analyze verify passes on the units in the guest"
else
  not_ok "systemd-analyze verify in the guest:"; printf '%s\n' "$verify"
fi
exposure=$(run "systemd-analyze security kindling.service --no-pager 2>/dev/null | tail -n1" || true)
log "systemd-analyze security: ${exposure:-n/a}"
exposure=$(run "systemd-analyze security kindling-host-address.service --no-pager 2>/dev/null | tail -n1" || true)
log "systemd-analyze security kindling-host-address.service: ${exposure:-n/a}"
user=$(run "ps -o user= -p \$(systemctl show -p MainPID --value kindling)" | tr -d ' \n')
expect "Kindling runs as the kindling user (found '$user')" [ "$user" = kindling ]

# State to keep across the reboot: a machine discovered through the boot route.
in_ns curl -sf --max-time 10 "http://$guest/ipxe?mac=52:54:00:aa:bb:cc&arch=x86_64&platform=pcbios" >/dev/null || true
token=$(run "cat /var/lib/kindling/state/admin-token" | tr -d '\n')
# HTTPS: the admin API from another host, pinned to the certificate Kindling made on its first start.
run "cat /var/lib/kindling/state/tls/cert.pem" >"$work/cert.pem" || true
fingerprint=$(run "cat /var/lib/kindling/state/tls/fingerprint" | tr -d '\n')
api_at() { # ADDRESS METHOD PATH [JSON]: the admin API at ADDRESS, by the name the pinned certificate has
  in_ns curl -sS --max-time 20 --cacert "$work/cert.pem" --resolve "kindling.local:443:$1" \
    -H "authorization: Bearer $token" -X "$2" ${4:+-H 'content-type: application/json' --data-binary "$4"} \
    "https://kindling.local/api$3"
}
api() { api_at "$guest" "$@"; }
machines() { api GET /machines; }
if machines | grep -q '52:54:00:aa:bb:cc'; then ok "a machine that asked for /ipxe is in the inventory (GET /api/machines over HTTPS, certificate pinned)"; else not_ok "the discovered machine is not in /api/machines over HTTPS"; fi
plain=$(in_ns curl -s --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' "http://$guest/" || true)
expect "plain HTTP sends the setup page to HTTPS (got '$plain')" [ "$plain" = "308 https://$guest/" ]
setup_page() { # the page itself, over HTTPS with the certificate pinned
  local code
  code=$(in_ns curl -s --max-time 20 --cacert "$work/cert.pem" -o "$work/page.html" -w '%{http_code}' "https://$guest/" || true)
  [ "$code" = 200 ] && grep -q '<div id="app">\|<script type="module"' "$work/page.html"
}
expect "the setup page answers over HTTPS (certificate pinned)" setup_page
expect "/etc/issue.d/kindling-https.issue shows the certificate fingerprint" run "grep -q '${fingerprint:0:47}' /etc/issue.d/kindling-https.issue"

# --- 6b. a PXE client on the rack gets an address and the boot loader ------------------
# udhcpc as a BIOS PXE ROM asks (options 60 and 93); its script only reports, so the
# namespace's own address stays. Then tftp-hpa fetches the boot file it was given.
cat >"$work/udhcpc-report" <<'SH'
#!/bin/sh
[ "$1" = bound ] && printf 'ip=%s siaddr=%s boot_file=%s\n' "$ip" "$siaddr" "$boot_file" >"$UDHCPC_REPORT"
exit 0
SH
chmod +x "$work/udhcpc-report"
pxe_lease() { # prints what a BIOS PXE client is offered
  rm -f "$work/lease"
  in_ns env UDHCPC_REPORT="$work/lease" timeout 40 udhcpc -i br0 -f -q -n -t 5 -T 3 -s "$work/udhcpc-report" \
    -V 'PXEClient:Arch:00000:UNDI:002001' -x 0x5d:0000 -x hostname:rack-node >/dev/null 2>&1 || true
  cat "$work/lease" 2>/dev/null || true
}
lease=$(pxe_lease)
case $lease in
  "ip=10.77.0."*" siaddr=$guest boot_file=undionly.kpxe") ok "a PXE client got a lease from Kindling's full DHCP: $lease" ;;
  *) not_ok "the PXE client's DHCP answer: '$lease'" ;;
esac
if in_ns tftp "$guest" -m binary -c get undionly.kpxe "$work/undionly.kpxe" 2>/dev/null \
  && [ "$(sha256sum <"$work/undionly.kpxe")" = "$(sha256sum <"$root/usr/lib/ipxe/undionly.kpxe")" ]; then
  ok "tftp-hpa fetched undionly.kpxe from Kindling's TFTP, byte for byte Debian's ($(stat -c %s "$work/undionly.kpxe") bytes)"
else
  not_ok "tftp-hpa did not fetch undionly.kpxe intact"
fi

# --- 6c. an x86 machine PXE-boots from this Kindling to `installing` (arm64 lane) -------
# The rack's real job: SeaBIOS with QEMU's iPXE ROM on the same bridge gets its lease and
# iPXE from the arm64 guest, waits in Kindling's loop as a discovered machine, and after
# the admin API gives it a profile, is sent its install boot.
if [ "$arch" = arm64 ]; then
  node_mac=52:54:00:5e:ba:05
  machine_state() { api GET "/machines/$node_mac" | grep -o '"state":"[a-z-]*"' | head -n1 | cut -d'"' -f4; }
  in_ns qemu-system-x86_64 -name kindling-rack-node -machine pc -accel tcg -m 256 -smp 1 \
    -netdev tap,id=n0,ifname=tap1,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=$node_mac,bootindex=1 \
    -display none -serial "file:$work/node-serial.log" -monitor none -daemonize -pidfile "$work/node.pid"
  log "an x86 SeaBIOS machine ($node_mac) powered on beside the guest"
  discovered() { [ "$(machine_state)" = discovered ]; }
  if wait_for 300 "the x86 machine in Kindling's inventory" discovered; then
    ok "the SeaBIOS machine got DHCP, TFTP and iPXE from the arm64 Kindling and waits as discovered ($(api GET "/machines/$node_mac" | grep -o '"platform":"[a-z]*"' | head -n1))"
    profile='os: flatcar\nchannel: stable\nversion: current\narch: amd64\nmode: install\ninstallDisk: /dev/vda\nhostname: \"{{name}}.rack.local\"\n'
    saved=$(api PUT /profiles/rack-node "{\"yaml\":\"$profile\"}" || true)
    assigned=$(api POST "/machines/$node_mac/assign" '{"profile":"rack-node","name":"node-1"}' || true)
    installing() { [ "$(machine_state)" = installing ]; }
    if wait_for 180 "the x86 machine to be sent its install boot" installing; then
      ok "after the profile was assigned, the x86 machine booted its install from the arm64 Kindling: state installing"
    else
      not_ok "the x86 machine is '$(machine_state)', not installing (profile: $saved; assign: $assigned)"
      run "journalctl -b -u kindling --no-pager | grep -i '$node_mac' | tail -n 20" || true
    fi
  else
    not_ok "the x86 machine never reached Kindling's inventory"
    run "journalctl -b -u kindling --no-pager | grep -i '$node_mac' | tail -n 20" || true
  fi
  kill "$(cat "$work/node.pid" 2>/dev/null)" 2>/dev/null || true
fi

# --- 6d. the Pi's own address from the page --------------------------------------------
# As an operator moves the appliance: the page asks for 10.77.0.3/24, the root-side
# helper (kindling-host-address.path and .service) applies it to NetworkManager for this
# boot, and the page, at kindling.local (now 10.77.0.3), confirms; it is saved and
# Kindling restarts on it. A change nobody confirms goes back by itself. Last, the
# appliance moves back to 10.77.0.1 for the sections after this one.
host_state() { api_at "$1" GET /settings/host-address | grep -o '"state":"[a-z-]*"' | head -n1 | cut -d'"' -f4; }
answers_at() { in_ns curl -s --max-time 3 -o /dev/null "http://$1/healthz"; }
only_at() { answers_at "$1" && ! answers_at "$2"; } # NEW OLD
move_to() { # FROM TO SECONDS: asks for TO/24 through the API at FROM; prints the request's id
  api_at "$1" PUT /settings/host-address "{\"method\":\"static\",\"address\":\"$2/24\",\"confirmSeconds\":$3}" \
    | grep -o '"pending":{"id":"[A-Za-z0-9_-]*"' | cut -d'"' -f6
}
saved_address() { guest=$1 run "nmcli -g ipv4.addresses connection show kindling-eth0" | tr -d '\n'; }
main_pid() { guest=$1 run "systemctl show -p MainPID --value kindling" | tr -d '\n'; }
restarted_at() { local pid; pid=$(main_pid "$1"); [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$2" ] && answers_at "$1"; }
confirm_at() { # ADDRESS ID PID_BEFORE: confirms there, waits for Kindling to restart on it
  local answer
  answer=$(api_at "$1" POST /settings/host-address/confirm "{\"id\":\"$2\"}" || true)
  case $answer in *'"state":"confirmed"'*) ;; *) log "confirmation at $1: $answer"; return 1 ;; esac
  wait_for 120 "Kindling restarted on $1" restarted_at "$1" "$3"
}
pid_home=$(main_pid "$guest")
id=$(move_to "$guest" 10.77.0.3 120)
if [ -n "$id" ] && wait_for 60 "the appliance at 10.77.0.3 only" only_at 10.77.0.3 "$guest"; then
  ok "the page asked for 10.77.0.3/24 and the helper applied it; 10.77.0.1 no longer answers"
  expect "until confirmed, NetworkManager's saved profile still says 10.77.0.1/24" \
    [ "$(saved_address 10.77.0.3)" = 10.77.0.1/24 ]
  if confirm_at 10.77.0.3 "$id" "$pid_home"; then
    ok "confirmed from https://kindling.local/ at the new address; kindling.service restarted on it"
  else
    not_ok "the confirmation at 10.77.0.3 did not end in a restart"
    guest=10.77.0.3 run "journalctl -b -u kindling-host-address --no-pager | tail -n 20" || true
  fi
  expect "saved into the profile kindling-eth0: 10.77.0.3/24" [ "$(saved_address 10.77.0.3)" = 10.77.0.3/24 ]
  moved=$(guest=10.77.0.3 run "cat /etc/kindling/kindling.yaml" || true)
  follows() { grep -q '^  advertise: 10.77.0.3' <<<"$moved" && grep -q '^  router: 10.77.0.3' <<<"$moved" \
    && grep -q '^# /etc/kindling/kindling.yaml' <<<"$moved"; }
  expect "kindling.yaml follows: server.advertise and dhcp.router name 10.77.0.3, comments kept" follows
  lease=$(pxe_lease)
  case $lease in
    "ip=10.77.0."*" siaddr=10.77.0.3 boot_file=undionly.kpxe") ok "full DHCP now answers from 10.77.0.3: $lease" ;;
    *) not_ok "the PXE client's DHCP answer after the move: '$lease'" ;;
  esac
  pid_moved=$(main_pid 10.77.0.3)
  id=$(move_to 10.77.0.3 10.77.0.4 30)
  if [ -n "$id" ] && wait_for 60 "the appliance at 10.77.0.4 only" only_at 10.77.0.4 10.77.0.3; then
    if wait_for 90 "10.77.0.3 back by itself" only_at 10.77.0.3 10.77.0.4 && [ "$(host_state 10.77.0.3)" = reverted ]; then
      ok "10.77.0.4, never confirmed, went back to the saved 10.77.0.3 after its 30 s (status reverted)"
    else
      not_ok "the unconfirmed 10.77.0.4 did not go back (status: $(host_state 10.77.0.4 || true))"
    fi
    expect "Kindling did not restart for a change that went back" [ "$(main_pid 10.77.0.3)" = "$pid_moved" ]
  else
    not_ok "the request for 10.77.0.4 was not applied (id '$id')"
  fi
  id=$(move_to 10.77.0.3 10.77.0.1 120)
  if [ -n "$id" ] && wait_for 60 "the appliance back at 10.77.0.1" only_at 10.77.0.1 10.77.0.3 \
    && confirm_at 10.77.0.1 "$id" "$pid_moved" && [ "$(saved_address 10.77.0.1)" = 10.77.0.1/24 ]; then
    ok "moved back to 10.77.0.1 from the page and confirmed"
  else
    die "the appliance did not come back to 10.77.0.1; the sections after this one need it"
  fi
else
  not_ok "the request for 10.77.0.3 was not applied (id '$id', state '$(host_state "$guest" || true)')"
  run "journalctl -b -u kindling-host-address --no-pager | tail -n 20" || true
fi

# --- 7. the watchdog -------------------------------------------------------------------
pid_before=$(run "systemctl show -p MainPID --value kindling" | tr -d '\n')
restarts_before=$(run "systemctl show -p NRestarts --value kindling" | tr -d '\n')
run "kill -STOP $pid_before" >/dev/null
log "stopped Kindling (pid $pid_before) with SIGSTOP; WatchdogSec=30"
restarted() {
  local pid n
  pid=$(run "systemctl show -p MainPID --value kindling" | tr -d '\n')
  n=$(run "systemctl show -p NRestarts --value kindling" | tr -d '\n')
  [ "$pid" != "$pid_before" ] && [ "$pid" != 0 ] && [ "$n" -gt "$restarts_before" ] && is_active
}
if wait_for 150 "a watchdog restart" restarted && healthz; then
  ok "the watchdog killed the stopped process and systemd restarted it ($(run "journalctl -b -u kindling --no-pager | grep -c -i 'watchdog timeout'" | tr -d '\n') watchdog timeout(s) logged)"
else
  not_ok "no watchdog restart"; run "journalctl -b -u kindling --no-pager | tail -n 30" || true
fi

# --- 8. a reboot keeps configuration and state -----------------------------------------
boot_before=$(run "cat /proc/sys/kernel/random/boot_id")
config_before=$(run "sha256sum /etc/kindling/kindling.yaml")
run "systemd-run --on-active=1 systemctl reboot" >/dev/null || true
log "rebooting the guest"
new_boot() { local b; b=$(run "cat /proc/sys/kernel/random/boot_id" 2>/dev/null) && [ -n "$b" ] && [ "$b" != "$boot_before" ]; }
if wait_for "$boot_timeout" "the guest to come back" new_boot && wait_for "$boot_timeout" "kindling.service active after reboot" is_active; then
  ok "after the reboot kindling.service is active again"
  expect "kindling.yaml unchanged by the reboot" [ "$(run "sha256sum /etc/kindling/kindling.yaml")" = "$config_before" ]
  expect "kindling-firstboot did not run again" [ "$(run "systemctl show -p ConditionResult --value kindling-firstboot" | tr -d '\n')" = no ]
  expect "the admin token survived" [ "$(run "cat /var/lib/kindling/state/admin-token" | tr -d '\n')" = "$token" ]
  expect "the HTTPS certificate survived" [ "$(run "cat /var/lib/kindling/state/tls/fingerprint" | tr -d '\n')" = "$fingerprint" ]
  if wait_for 120 "/healthz after reboot" healthz && machines | grep -q '52:54:00:aa:bb:cc'; then ok "the discovered machine survived the reboot"; else not_ok "the discovered machine is gone after the reboot"; fi
else
  not_ok "the guest or Kindling did not come back after the reboot"
fi

# --- 9. a broken configuration ----------------------------------------------------------
run "cp /etc/kindling/kindling.yaml /root/kindling.yaml.good && printf 'dhcp:\n  mode: [unclosed\n' >> /etc/kindling/kindling.yaml && systemctl restart kindling" >/dev/null || true
failed_state() { [ "$(unit_state)" = failed ]; }
if wait_for 120 "kindling.service to give up on the broken file" failed_state; then
  n1=$(run "systemctl show -p NRestarts --value kindling" | tr -d '\n')
  sleep 15
  n2=$(run "systemctl show -p NRestarts --value kindling" | tr -d '\n')
  if failed_state && [ "$n1" = "$n2" ]; then ok "a broken kindling.yaml leaves the unit failed, not restarting ($n2 restarts)"; else not_ok "the unit kept restarting ($n1 -> $n2, state $(unit_state))"; fi
  # systemctl status shows the last invocation only; after the start limit that is the
  # refused restart, so status names the failed check and the journal has its message.
  status=$(run "systemctl status --no-pager -l kindling" || true)
  if grep -q 'ExecStartPre=/usr/bin/kindling check.*status=1' <<<"$status"; then ok "systemctl status names the failed configuration check"; else not_ok "systemctl status does not name the failed check:"; printf '%s\n' "$status"; fi
  journal=$(run "journalctl -b -u kindling --no-pager -n 40" || true)
  if grep -q 'kindling.yaml:[0-9]*:[0-9]*: YAML does not parse' <<<"$journal"; then ok "the journal has the file, line and problem"; else not_ok "the journal does not show the YAML problem:"; printf '%s\n' "$journal"; fi
else
  not_ok "kindling.service did not fail on a broken kindling.yaml"; run "systemctl status --no-pager -l kindling" || true
fi
run "cp /root/kindling.yaml.good /etc/kindling/kindling.yaml && systemctl reset-failed kindling && systemctl start kindling" >/dev/null || true
if wait_for 120 "recovery" is_active; then ok "fixing the file and starting again brings it back"; else not_ok "no recovery after fixing the file"; fi

# --- 10. proxy mode beside the site's DHCP server, and a lease that changes ------------
# The first boot again, now with a dnsmasq on the link: kindling-firstboot keeps the lease
# and picks proxy DHCP with server.advertise auto; when dnsmasq later hands the box another
# address, Kindling answers from the new one without a restart.
stop_dnsmasq() {
  local _
  pkill -f -- "--dhcp-leasefile=$work/dnsmasq.leases" 2>/dev/null || true
  for _ in $(seq 1 20); do
    pgrep -f -- "--dhcp-leasefile=$work/dnsmasq.leases" >/dev/null || return 0
    sleep 0.5
  done
  pkill -9 -f -- "--dhcp-leasefile=$work/dnsmasq.leases" 2>/dev/null || true
}
start_dnsmasq() { # ADDRESS: the reservation for the guest
  # By its lease file: $! is the shell around `ip netns exec`, not always dnsmasq itself.
  stop_dnsmasq
  rm -f "$work/dnsmasq.leases"
  in_ns dnsmasq --keep-in-foreground --port=0 --interface=br0 --bind-interfaces --no-resolv --no-hosts --user=root --dhcp-authoritative \
    --dhcp-range=10.77.0.50,10.77.0.70,255.255.255.0,10m --dhcp-host="52:54:00:4b:1d:01,$1" \
    --dhcp-leasefile="$work/dnsmasq.leases" --log-dhcp --log-facility="$work/dnsmasq.log" --pid-file= &
}
if command -v dnsmasq >/dev/null; then
  start_dnsmasq 10.77.0.60
  run "systemd-run --on-active=1 sh -c 'rm -f /var/lib/kindling-firstboot/done && cp /root/kindling.yaml.pristine /etc/kindling/kindling.yaml && nmcli connection delete kindling-eth0; systemctl reboot'" >/dev/null || true
  log "first boot again, beside a dnsmasq that reserves 10.77.0.60 for the guest"
  guest=10.77.0.60
  if wait_for "$boot_timeout" "the guest at $guest" agent_up && wait_for "$boot_timeout" "kindling.service active in proxy mode" is_active; then
    marker=$(run "cat /var/lib/kindling-firstboot/done" || true)
    case $marker in *mode=proxy*address=10.77.0.60*) ok "first boot beside dnsmasq: kept its lease 10.77.0.60 and chose proxy DHCP" ;; *) not_ok "first boot marker beside dnsmasq: '$marker'" ;; esac
    config=$(run "cat /etc/kindling/kindling.yaml" || true)
    if grep -q '^  mode: proxy' <<<"$config" && grep -q '^  advertise: auto' <<<"$config"; then ok "kindling.yaml: dhcp.mode proxy, server.advertise auto (no pinned lease)"; else not_ok "kindling.yaml in proxy mode:"; printf '%s\n' "$config"; fi
    dhcp_listen() { healthz_json | grep -o '"name":"dhcp"[^}]*' | grep -o '"listen":"[^"]*"'; }
    listens_on() { [ "$(dhcp_listen)" = "\"listen\":\"$1:67\"" ]; }
    expect "Kindling's proxy DHCP answers from 10.77.0.60 ($(dhcp_listen))" listens_on 10.77.0.60
    # The site's DHCP server moves the box: a new reservation, and the lease taken again.
    start_dnsmasq 10.77.0.61
    run "systemd-run --on-active=1 nmcli --wait 60 connection up kindling-eth0" >/dev/null || true
    guest=10.77.0.61
    if wait_for 240 "Kindling to answer from the new lease 10.77.0.61" listens_on 10.77.0.61; then
      ok "after the lease moved to 10.77.0.61, Kindling's proxy DHCP answers from it, with no restart ($(run "systemctl show -p NRestarts --value kindling" | tr -d '\n') restarts)"
    else
      not_ok "Kindling still answers from '$(dhcp_listen)' after the lease moved"; tail -n 20 "$work/dnsmasq.log" 2>/dev/null || true
      guest=10.77.0.60 # the move did not happen: the rest of the test reaches the guest where it is
      run "ip -4 addr show eth0; journalctl -b -u kindling --no-pager | tail -n 20" || true
    fi
  else
    not_ok "the guest did not come back in proxy mode beside dnsmasq"; tail -n 20 "$work/dnsmasq.log" 2>/dev/null || true
  fi
  stop_dnsmasq
else
  not_ok "dnsmasq is not installed: the proxy-mode first boot was not tested (apt-get install dnsmasq)"
fi

# --- 11. power off ------------------------------------------------------------------------
# The arm64 card is put back to its first-boot state for section 12: a Pi 3 boots it fresh.
if [ "$arch" = arm64 ]; then
  run "rm -f /var/lib/kindling-firstboot/done && cp /root/kindling.yaml.pristine /etc/kindling/kindling.yaml && nmcli connection delete kindling-eth0" >/dev/null || true
fi
run "systemd-run --on-active=1 systemctl poweroff" >/dev/null || true
wait_for 90 "QEMU to exit after poweroff" bash -c "! kill -0 $qemu_pid 2>/dev/null" || true
if kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid"; sleep 1; kill -9 "$qemu_pid" 2>/dev/null || true; fi

# --- 12. the same card on a Raspberry Pi 3 board (arm64 lane, smoke) -----------------------
# QEMU's raspi3b: the card on the SD controller, Debian's kernel and initramfs from its FAT
# with the Pi 3's own DTB, the wired port as usb-net on the SoC's USB (a Pi 3's LAN is a USB
# chip too). A Raspberry Pi OUI keeps the MAC global, so usbnet names it eth0 as on a Pi.
if [ "$arch" = arm64 ]; then
  mcopy -n -i "$work/sd.img@@4M" ::bcm2837-rpi-3-b.dtb "$work/rpi3.dtb"
  : >"$work/serial.log"
  # The Pi 3's PL011 is taken by Bluetooth in its DTB; the console is the mini UART (ttyS1),
  # QEMU's second serial port.
  in_ns qemu-system-aarch64 -name kindling-rpi3-test -machine raspi3b -accel tcg,thread=multi \
    -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -dtb "$work/rpi3.dtb" \
    -append "$append console=ttyS1,115200 systemd.show_status=1 panic=-1" \
    -drive "file=$work/sd.img,if=sd,format=raw,cache=unsafe" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device usb-net,netdev=n0,mac=b8:27:eb:4b:1d:03 \
    -display none -serial "file:$work/serial-uart0.log" -serial "file:$work/serial.log" -monitor none \
    -daemonize -pidfile "$work/qemu.pid"
  qemu_pid=$(cat "$work/qemu.pid")
  guest=10.77.0.1
  log "booting the same card under -M raspi3b"
  if wait_for 1200 "the Pi 3 guest's agent" agent_up && wait_for 600 "kindling.service active on the Pi 3" is_active; then
    model=$(run "tr -d '\\0' </proc/device-tree/model" || true)
    expect "the guest is a Raspberry Pi 3 by its device tree ('$model')" grep -q 'Raspberry Pi 3 Model B' <<<"$model"
    source=$(run "findmnt -n -o SOURCE /" | tr -d '\n')
    expect "the root is the card's second partition ('$source')" [ "$source" = /dev/mmcblk0p2 ]
    marker=$(run "cat /var/lib/kindling-firstboot/done" || true)
    case $marker in *mode=full*address=10.77.0.1*interface=eth0*) ok "first boot on the Pi 3: eth0 (usb-net), 10.77.0.1, full DHCP" ;; *) not_ok "Pi 3 first boot marker: '$marker'" ;; esac
    ok "kindling.service is active on the Pi 3 (READY=1)"
    if wait_for 120 "/healthz on the Pi 3" healthz; then ok "GET http://$guest/healthz answers on the Pi 3"; else not_ok "/healthz does not answer on the Pi 3"; fi
    expect "the setup page answers over HTTPS on the Pi 3 (certificate pinned)" setup_page
  else
    not_ok "the card did not bring Kindling up under -M raspi3b"
    run "systemctl status --no-pager -l kindling kindling-firstboot; ip -br link" 2>/dev/null || true
  fi
  kill "$qemu_pid" 2>/dev/null; sleep 1; kill -9 "$qemu_pid" 2>/dev/null || true
fi

log "$checks checks, $failures failed, accel $accel, $(($(date +%s) - started)) s"
[ "$failures" = 0 ]
