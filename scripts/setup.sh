#!/usr/bin/env bash
# Installs dst's system packages (when missing), its npm dependencies and the
# native build. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
if [[ -z "${LIBTORCH:-}" ]] && [[ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]]; then need+=(libtorch-dev); fi
# Debian's LibTorch calls the generic BLAS; OpenBLAS (OpenMP build) makes its linear algebra fast.
if [[ ! -e /usr/lib/x86_64-linux-gnu/openblas-openmp && ! -e /usr/lib/aarch64-linux-gnu/openblas-openmp ]]; then need+=(libopenblas0-openmp); fi
# qemu-system-arm runs the generated C on an emulated Cortex-M7 (make TARGET=qemu-m7 run).
for tool in aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-aarch64:qemu-user clang:clang arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
# Gloo's headers: the addon's torch.distributed bindings (c10d's ProcessGroupGloo) build only with them.
if [[ ! -f /usr/include/gloo/config.h ]]; then need+=(libgloo-dev); fi
# The C back end links Cortex-M builds against newlib.
if [[ ! -d /usr/lib/arm-none-eabi/newlib ]]; then need+=(libnewlib-arm-none-eabi); fi
if ((${#need[@]} > 0)); then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# onnxruntime-node's install script would try to download extras; its CPU binary ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
