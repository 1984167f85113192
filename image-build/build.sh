#!/usr/bin/env bash
# build.sh: the Kindling appliance image, kindling-VERSION.img.xz, for a Raspberry Pi
# (64-bit: Pi 3, 4, 5, Zero 2 W).
#
#   sudo image-build/build.sh [--out DIR] [--work DIR] [--pi-gen-ref REF]
#
# 1. builds the Kindling bundle (make-bundle.sh: compiled server, setup page, production
#    dependencies only);
# 2. clones pi-gen (branch arm64 = 64-bit Raspberry Pi OS on Debian trixie) into the work
#    directory, or reuses it;
# 3. runs pi-gen's stage0-stage2 (Raspberry Pi OS Lite) and pi-gen-config/stage-kindling,
#    whose one step is install-kindling.sh (the same script test-rootfs.sh boots);
# 4. copies deploy/image_DATE-kindling.img.xz to OUT/kindling-VERSION.img.xz with its sha256.
#
# Host: Debian 12/13 or Ubuntu 22.04+ (amd64 or arm64), root, about 25 GB free, internet
# (the Raspberry Pi and Debian archives, GitHub for pi-gen, the npm registry), Node.js >= 20
# with npm, and pi-gen's tools:
#   sudo apt install coreutils quilt parted qemu-user-binfmt debootstrap zerofree zip \
#     dosfstools e2fsprogs libarchive-tools libcap2-bin grep rsync xz-utils file git curl \
#     bc gpg pigz xxd arch-test bmap-tools kmod
# and on an amd64 host also the cross compiler for the one native addon:
#   sudo apt install g++-aarch64-linux-gnu
# pi-gen checks for the `qemu-arm` command, which qemu-user-binfmt brings (with qemu-user);
# qemu-user-static alone registers the binfmt handlers but has no `qemu-arm`, and pi-gen
# stops at its dependency check. The addon is built here (make-bundle.sh --arch arm64), so
# nothing is compiled or purged inside the image. Takes 30-90 minutes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/deploy
work=${KINDLING_IMAGE_WORK:-/var/tmp/kindling-image}
pi_gen_ref=${PI_GEN_REF:-arm64}
pi_gen_url=${PI_GEN_URL:-https://github.com/RPi-Distro/pi-gen.git}

while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --pi-gen-ref) pi_gen_ref=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "build.sh: $*"; }
die() { echo "build.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "pi-gen needs root: run with sudo"
case $work in *" "*) die "pi-gen cannot work in a path with spaces: $work" ;; esac
command -v node >/dev/null || die "needs Node.js >= 20 and npm on this machine to build the bundle"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "needs Node.js >= 20 (found $(node --version))"
missing=()
for tool in git quilt parted debootstrap zerofree zip mkdosfs mke2fs capsh bsdtar rsync xz curl xxd file bc gpg pigz arch-test kmod; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || die "missing host tools: ${missing[*]} (see the apt install line at the top of $0)"
command -v qemu-arm >/dev/null || die "pi-gen's dependency check needs qemu-arm: apt install qemu-user-binfmt (qemu-user-static has no qemu-arm)"
arch-test arm64 >/dev/null || die "this machine cannot run arm64 programs: apt install qemu-user-binfmt, and mount binfmt_misc if it is not (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
if [ "$(node -p process.arch)" != arm64 ]; then
  command -v aarch64-linux-gnu-g++ >/dev/null || die "the arm64 addon is cross-built here: apt install g++-aarch64-linux-gnu"
fi

version=$(node -p "require('$repo/package.json').version")
mkdir -p "$work" "$out"
out=$(cd "$out" && pwd)

say "1/4 the bundle"
rm -rf "$work/bundle"
"$repo/image-build/make-bundle.sh" --arch arm64 "$work/bundle"

say "2/4 pi-gen ($pi_gen_ref)"
if [ ! -d "$work/pi-gen/.git" ]; then
  git clone --branch "$pi_gen_ref" "$pi_gen_url" "$work/pi-gen"
else
  git -C "$work/pi-gen" fetch origin "$pi_gen_ref"
  git -C "$work/pi-gen" checkout -q FETCH_HEAD
fi
pi_gen_commit=$(git -C "$work/pi-gen" rev-parse --short HEAD)
# stage2 is Raspberry Pi OS Lite: built, but not exported as an image of its own.
touch "$work/pi-gen/stage2/SKIP_IMAGES"
{
  cat "$repo/pi-gen-config/config"
  echo
  echo "# Added by image-build/build.sh"
  echo "STAGE_LIST=\"stage0 stage1 stage2 $repo/pi-gen-config/stage-kindling\""
  echo "export KINDLING_BUNDLE=$work/bundle"
  echo "export KINDLING_SRC=$repo"
} >"$work/pi-gen/config"

say "3/4 pi-gen build (pi-gen $pi_gen_commit; its log is $work/pi-gen/work/kindling/build.log)"
rm -f "$work/pi-gen/deploy/"*kindling*.img.xz
(cd "$work/pi-gen" && ./build.sh)

say "4/4 the image"
image=$(find "$work/pi-gen/deploy" -maxdepth 1 -name '*kindling*.img.xz' -newer "$work/pi-gen/config" | sort | tail -n1)
[ -n "$image" ] || die "pi-gen finished but left no *kindling*.img.xz in $work/pi-gen/deploy"
target=$out/kindling-$version.img.xz
cp "$image" "$target"
(cd "$out" && sha256sum "$(basename "$target")" >"$(basename "$target").sha256")
say "done: $target ($(du -h "$target" | cut -f1)); flash it with:"
say "  xzcat $target | sudo dd of=/dev/sdX bs=4M conv=fsync status=progress"
