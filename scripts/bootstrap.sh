#!/usr/bin/env bash
# Installs every Debian package seghub needs. Idempotent: does nothing when all are present,
# and runs `apt-get update` only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format
  # inference: LibTorch (CPU) with an optimised BLAS; oneDNN's CMake config needs OpenCL headers
  libtorch-dev libopenblas0-openmp ocl-icd-opencl-dev
  # imaging
  libopencv-dev
  # service
  libboost-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libssl-dev libsodium-dev libzip-dev
  # storage and scale-out
  libsqlite3-dev libpqxx-dev libhiredis-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
