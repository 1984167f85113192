#!/usr/bin/env bash
# install-kindling.sh ROOTFS BUNDLE_DIR: installs Kindling into a Debian-family root
# filesystem. The one install step of the appliance: pi-gen's stage-kindling runs it on
# the Raspberry Pi OS root, and image-build/test-rootfs.sh runs it on a debootstrapped
# Debian root that it then boots under QEMU. Idempotent; keeps an existing
# /etc/kindling/kindling.yaml.
#
#   ROOTFS      the target root (/ is refused unless KINDLING_INSTALL_ALLOW_HOST=1)
#   BUNDLE_DIR  made by image-build/make-bundle.sh
#
# Environment: KINDLING_HOSTNAME (default kindling); KINDLING_APT=0 to never run apt-get
# (fail instead when a package is missing).
set -euo pipefail

usage() { echo "usage: $0 ROOTFS BUNDLE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
rootfs=$(cd "$1" && pwd)
bundle=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
appliance=$(cd "$here/../appliance" && pwd)
hostname=${KINDLING_HOSTNAME:-kindling}

say() { echo "install-kindling: $*"; }
die() { echo "install-kindling: $*" >&2; exit 1; }

[ "$rootfs" != / ] || [ "${KINDLING_INSTALL_ALLOW_HOST:-0}" = 1 ] || die "refusing to install into / (set KINDLING_INSTALL_ALLOW_HOST=1 to mean it)"
[ -f "$rootfs/etc/os-release" ] || die "$rootfs has no etc/os-release: not a root filesystem"
[ -f "$bundle/BUNDLE-INFO" ] || die "$bundle has no BUNDLE-INFO: not a Kindling bundle (make one with image-build/make-bundle.sh)"
[ -f "$bundle/dist/cli.js" ] || die "$bundle is not a Kindling bundle (make one with image-build/make-bundle.sh)"

# --- running commands inside the root ----------------------------------------------
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
ensure_mounts() {
  [ "$rootfs" = / ] && return 0
  local fs
  for fs in proc sys dev dev/pts; do
    if ! mountpoint -q "$rootfs/$fs"; then
      mkdir -p "$rootfs/$fs"
      case $fs in
        proc) mount -t proc proc "$rootfs/proc" ;;
        sys) mount -t sysfs sysfs "$rootfs/sys" ;;
        dev) mount --bind /dev "$rootfs/dev" ;;
        dev/pts) mount -t devpts devpts "$rootfs/dev/pts" ;;
      esac
      mounted+=("$rootfs/$fs")
    fi
  done
}
in_root() {
  if [ "$rootfs" = / ]; then "$@"; else chroot "$rootfs" "$@"; fi
}

# --- packages ------------------------------------------------------------------------
# nodejs: Kindling needs Node >= 20 (Debian trixie, the base of current Raspberry Pi OS,
# has 20.19); ipxe: the boot loaders served over TFTP; avahi-daemon + libnss-mdns:
# kindling.local; curl: the mirror-resume timer. NetworkManager comes with Raspberry Pi
# OS Lite; kindling-firstboot also works with systemd-networkd.
packages=(nodejs ipxe avahi-daemon libnss-mdns curl iproute2)
missing=()
for p in "${packages[@]}"; do
  # shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not the shell's
  in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "${KINDLING_APT:-1}" = 1 ] || die "missing packages in $rootfs: ${missing[*]} (KINDLING_APT=0)"
  say "installing ${missing[*]}"
  ensure_mounts
  in_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
node_major=$(in_root node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "the root's node is $(in_root node --version); Kindling needs Node >= 20 (see docs/decisions.md)"

# --- the bundle -------------------------------------------------------------------------
say "copying the bundle ($(sed -n 's/^commit=//p' "$bundle/BUNDLE-INFO")) to /usr/lib/kindling"
rm -rf "$rootfs/usr/lib/kindling.new"
mkdir -p "$rootfs/usr/lib"
cp -a "$bundle" "$rootfs/usr/lib/kindling.new"
chown -R 0:0 "$rootfs/usr/lib/kindling.new"
rm -rf "$rootfs/usr/lib/kindling"
mv "$rootfs/usr/lib/kindling.new" "$rootfs/usr/lib/kindling"

# The native addon comes built for the root's architecture (make-bundle.sh --arch); the
# root gets no compiler and loses no package. Here it is only loaded with the root's own
# node (under qemu-user binfmt for an arm64 root on an x64 machine).
bundle_arch=$(sed -n 's/^arch=//p' "$bundle/BUNDLE-INFO")
if ! load_error=$(in_root node -e "require('/usr/lib/kindling/node_modules/unix-dgram')" 2>&1); then
  root_arch=$(in_root node -p process.arch 2>/dev/null || echo unknown)
  die "the bundle's unix-dgram addon (built for ${bundle_arch:-unknown}) does not load with the root's node ($root_arch): ${load_error##*$'\n'}; make the bundle with image-build/make-bundle.sh --arch $root_arch"
fi

# --- files -----------------------------------------------------------------------------
install -D -m 0755 /dev/stdin "$rootfs/usr/bin/kindling" <<'SH'
#!/bin/sh
# Kindling's command (installed by image-build/install-kindling.sh).
exec /usr/bin/node /usr/lib/kindling/dist/cli.js "$@"
SH
install -D -m 0755 "$appliance/kindling-firstboot" "$rootfs/usr/libexec/kindling/kindling-firstboot"
install -D -m 0755 "$appliance/kindling-mirror-resume" "$rootfs/usr/libexec/kindling/kindling-mirror-resume"
install -D -m 0755 "$appliance/kindling-issue" "$rootfs/usr/libexec/kindling/kindling-issue"
for unit in kindling.service kindling-firstboot.service kindling-mirror-resume.service kindling-mirror-resume.timer \
  kindling-host-address.service kindling-host-address.path; do
  install -D -m 0644 "$appliance/$unit" "$rootfs/usr/lib/systemd/system/$unit"
done
install -D -m 0644 "$appliance/sysusers-kindling.conf" "$rootfs/usr/lib/sysusers.d/kindling.conf"
install -D -m 0644 "$appliance/journald-kindling.conf" "$rootfs/etc/systemd/journald.conf.d/kindling.conf"
install -D -m 0644 "$appliance/avahi-kindling.service" "$rootfs/etc/avahi/services/kindling.service"
if [ -f "$bundle/docs/appliance.md" ]; then
  install -D -m 0644 "$bundle/docs/appliance.md" "$rootfs/usr/share/doc/kindling/appliance.md"
fi

# The user, then the configuration: the directory group-writable, so the setup page can
# replace kindling.yaml atomically (a temp file renamed over it) with the network settings.
ensure_mounts
in_root systemd-sysusers /usr/lib/sysusers.d/kindling.conf
install -d -m 0770 -o 0 -g "$(in_root getent group kindling | cut -d: -f3)" "$rootfs/etc/kindling"
if [ ! -e "$rootfs/etc/kindling/kindling.yaml" ]; then
  install -m 0640 -o 0 -g "$(in_root getent group kindling | cut -d: -f3)" "$appliance/kindling.yaml" "$rootfs/etc/kindling/kindling.yaml"
else
  say "keeping the existing /etc/kindling/kindling.yaml"
fi
mkdir -p "$rootfs/var/log/journal"

# SSH, when the operator turns it on, takes keys only (docs/appliance.md, "SSH").
install -D -m 0644 /dev/stdin "$rootfs/etc/ssh/sshd_config.d/10-kindling.conf" <<'CONF'
# Kindling appliance (install-kindling.sh): logins by key only.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF
# cloud-init (Raspberry Pi OS ships it) keeps the user and keys that Raspberry Pi Imager
# seeds, but leaves the network to kindling-firstboot: two owners of eth0 would fight.
if [ -d "$rootfs/etc/cloud" ]; then
  install -D -m 0644 /dev/stdin "$rootfs/etc/cloud/cloud.cfg.d/99-kindling.cfg" <<'CONF'
# Kindling appliance (install-kindling.sh): eth0 is configured by kindling-firstboot.
network:
  config: disabled
CONF
fi

# The name avahi announces: kindling.local.
echo "$hostname" >"$rootfs/etc/hostname"
if grep -q '^127\.0\.1\.1' "$rootfs/etc/hosts" 2>/dev/null; then
  sed -i -E "s/^127\.0\.1\.1.*/127.0.1.1\t$hostname/" "$rootfs/etc/hosts"
else
  printf '127.0.1.1\t%s\n' "$hostname" >>"$rootfs/etc/hosts"
fi

# --- units -------------------------------------------------------------------------------
in_root systemctl enable kindling.service kindling-firstboot.service kindling-mirror-resume.timer \
  kindling-host-address.path avahi-daemon.service
if in_root test -e /usr/lib/systemd/system/NetworkManager.service; then
  in_root systemctl enable NetworkManager.service
fi
in_root /usr/bin/kindling check --config /etc/kindling/kindling.yaml >/dev/null || die "the installed configuration does not validate"
say "done: $(in_root node --version), kindling $(sed -n 's/^version=//p' "$bundle/BUNDLE-INFO"), units enabled"
