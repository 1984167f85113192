#!/bin/bash
# pi-gen stage prerun: start from stage2's root (Raspberry Pi OS Lite).
set -euo pipefail
if [ ! -d "${ROOTFS_DIR}" ]; then
  copy_previous
fi
