#!/usr/bin/env bash
# System packages the test suite needs beyond Node and npm, installed from Debian's archive when
# missing: Chromium (the docs site's end-to-end test drives it with playwright-core) and
# clang-16 + lld-16 (CI rebuilds @gradflow/backend-wasm's committed .wasm from source and compares;
# clang 16 is the first Debian clang with the final relaxed-SIMD opcodes).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v clang-16 >/dev/null 2>&1 || missing+=(clang-16)
command -v wasm-ld-16 >/dev/null 2>&1 || missing+=(lld-16)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]} — install them (Debian: apt-get install ${missing[*]}) and rerun" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's archive"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
