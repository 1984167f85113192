#!/usr/bin/env bash
# make-sd-image.sh ROOTFS OUT.img: lays an arm64 Debian root out as a Raspberry Pi SD card
# image, the layout the Pi's boot ROM and firmware expect and Debian's raspi images use:
#
#   MBR, partition 1  FAT32 (type 0c), label RASPIFIRM, 256 MiB at 4 MiB: ROOTFS/boot/firmware
#                     as raspi-firmware's hooks filled it (start*.elf, config.txt, cmdline.txt,
#                     the kernel, the initramfs and the DTBs)
#   MBR, partition 2  ext4 (type 83), label RASPIROOT: the rest of ROOTFS
#
# The image size is rounded up to a power of two, as QEMU's raspi machines require of an SD
# card. No loop devices or mounts: each file system is made in a file of its own (mkfs.vfat
# and mcopy, mkfs.ext4 -d) and written into the image at its offset.
# Needs sfdisk (fdisk), mkfs.vfat (dosfstools), mcopy (mtools), mkfs.ext4 (e2fsprogs).
set -euo pipefail

usage() { echo "usage: $0 ROOTFS OUT.img" >&2; exit 2; }
[ $# -eq 2 ] || usage
rootfs=$1
out=$2
die() { echo "make-sd-image: $*" >&2; exit 1; }
for tool in sfdisk mkfs.vfat mcopy mkfs.ext4; do command -v "$tool" >/dev/null || die "missing $tool (apt-get install fdisk dosfstools mtools e2fsprogs)"; done
firmware=$rootfs/boot/firmware
[ -f "$firmware/config.txt" ] || die "$firmware has no config.txt: install raspi-firmware and a kernel in the root first"
[ -f "$firmware/cmdline.txt" ] || die "$firmware has no cmdline.txt"

mib=$((1024 * 1024))
boot_start_mib=4
boot_mib=256
root_start_mib=$((boot_start_mib + boot_mib))
# The root's size plus a third and 512 MiB free for the state and a mirror to start with.
used_mib=$(($(du -sm --exclude=./boot/firmware "$rootfs" | cut -f1)))
root_mib=$((used_mib + used_mib / 3 + 512))
total_mib=1
while [ "$total_mib" -lt $((root_start_mib + root_mib)) ]; do total_mib=$((total_mib * 2)); done
root_mib=$((total_mib - root_start_mib))

work=$(mktemp -d "${out}.parts.XXXXXX")
# The firmware files move aside while the ext4 is made, so the root holds an empty mount
# point and the files live on the FAT only; they move back whatever happens.
mkdir "$work/firmware"
restore() { [ -d "$work/firmware" ] && find "$work/firmware" -mindepth 1 -maxdepth 1 -exec mv -t "$firmware" {} +; rm -rf "$work"; }
trap restore EXIT

truncate -s $((boot_mib * mib)) "$work/boot.vfat"
mkfs.vfat -F 32 -n RASPIFIRM "$work/boot.vfat" >/dev/null
mcopy -s -i "$work/boot.vfat" "$firmware"/* ::/
find "$firmware" -mindepth 1 -maxdepth 1 -exec mv -t "$work/firmware" {} +
mkfs.ext4 -q -F -L RASPIROOT -E root_owner=0:0 -d "$rootfs" "$work/root.ext4" "${root_mib}M"

rm -f "$out"
truncate -s $((total_mib * mib)) "$out"
sfdisk -q "$out" <<TABLE
label: dos
unit: sectors
start=$((boot_start_mib * 2048)), size=$((boot_mib * 2048)), type=c, bootable
start=$((root_start_mib * 2048)), size=$((root_mib * 2048)), type=83
TABLE
dd if="$work/boot.vfat" of="$out" bs=1M seek="$boot_start_mib" conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$out" bs=1M seek="$root_start_mib" conv=notrunc,sparse status=none
echo "make-sd-image: $out: ${total_mib} MiB (boot ${boot_mib} MiB, root ${root_mib} MiB with ${used_mib} MiB used)"
