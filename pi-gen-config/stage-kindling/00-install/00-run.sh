#!/bin/bash
# pi-gen sub-stage: the one install step of the appliance, the same script that
# image-build/test-rootfs.sh runs and boots under QEMU.
set -euo pipefail
: "${ROOTFS_DIR:?pi-gen sets ROOTFS_DIR}"
: "${KINDLING_BUNDLE:?image-build/build.sh exports KINDLING_BUNDLE (the bundle made by make-bundle.sh)}"
src=${KINDLING_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
"$src/image-build/install-kindling.sh" "$ROOTFS_DIR" "$KINDLING_BUNDLE"
