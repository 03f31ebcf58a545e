#!/bin/sh
# runtime-closure.sh BINARY DEST: copies the shared-library closure of BINARY (every library
# `ldd` resolves, transitively) into DEST, one regular file per soname with symlinks resolved
# (so Debian's alternatives, e.g. libblas.so.3 -> OpenBLAS, land as the real library), and
# writes DEST/PACKAGES.txt: the Debian package and version each library came from, so that an
# image built from DEST still says what it contains. The dynamic loader itself (no "=>" in
# ldd's output) is not copied: every base image has it.
#
# runtime-closure.sh --size BINARY: prints the closure's total size in bytes (each file once).
set -eu

if [ "${1:-}" = "--size" ]; then
  ldd "$2" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | xargs readlink -f | sort -u |
    xargs stat -c %s | awk '{s += $1} END {print s}'
  exit 0
fi

bin=$1
dest=$2
missing=$(ldd "$bin" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
  echo "runtime-closure: unresolved libraries: $missing" >&2
  exit 1
fi
mkdir -p "$dest"
: > "$dest/PACKAGES.txt"
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r soname path; do
    cp -L "$path" "$dest/$soname"
    # dpkg knows merged-/usr files under one of the two spellings.
    pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null ||
          dpkg -S "${path#/usr}" 2>/dev/null || true)
    pkg=$(printf '%s\n' "$pkg" | head -n 1 | cut -d: -f1)
    if [ -n "$pkg" ]; then
      ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
      echo "$soname $pkg $ver" >> "$dest/PACKAGES.txt"
    else
      echo "$soname (not from a Debian package: $path)" >> "$dest/PACKAGES.txt"
    fi
  done
