#!/usr/bin/env bash
# Installs every Debian package seghub needs. Idempotent: does nothing when all are present,
# and runs `apt-get update` only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format
  # inference: LibTorch (CPU) with an optimised BLAS; oneDNN's CMake config needs OpenCL headers
  libtorch-dev libopenblas0-openmp ocl-icd-opencl-dev
  # allocator: keeps freed tensor pages instead of re-faulting them (src/tools/allocator.cc)
  libjemalloc-dev
  # imaging (libdeflate: the PNG fast path)
  libopencv-dev libdeflate-dev
  # service
  libboost-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libssl-dev libsodium-dev libzip-dev
  # storage and scale-out
  libsqlite3-dev libpqxx-dev libhiredis-dev postgresql redis-server
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev prometheus
  # deployment file checks (tests/deploy) and opening exported XLSX files (hub_export tests)
  python3-yaml python3-openpyxl
  # web UI (uPlot via npm) and the browser end-to-end tests
  chromium nodejs npm
)

missing=()
for p in "${PACKAGES[@]}"; do
  # NodeSource's nodejs ships its own npm (and conflicts with Debian's): any npm will do.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the web UI (web/) and the browser tests (tests/e2e/): `npm ci` when
# node_modules is missing or older than package-lock.json.
cd "$(dirname "$0")/.."
for dir in web tests/e2e; do
  if [ -f "$dir/package-lock.json" ] &&
     { [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; }; then
    echo "bootstrap: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
done
