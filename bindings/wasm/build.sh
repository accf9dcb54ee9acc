#!/usr/bin/env bash
# Builds the SelfOS WASM package from scratch: the Rust crate for wasm32, wasm-bindgen's ES
# module (pinned CLI), wasm-opt from npm's binaryen, then the TypeScript layer. Prints the .wasm
# size raw, optimised and gzipped. Installs what it needs (rustup target, wasm-bindgen-cli, npm
# packages) on a fresh machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

# The CLI must match the wasm-bindgen crate exactly; the workspace pins it.
version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$root/Cargo.toml")
if [ -z "$version" ]; then
  echo "error: the workspace Cargo.toml pins no wasm-bindgen version" >&2
  exit 1
fi

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
  echo "installing wasm-bindgen-cli $version (about 2 minutes, once)"
  # No --locked: the CLI's lockfile names a crate version the registry here lacks.
  cargo install wasm-bindgen-cli --version "$version"
fi
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

target_dir=${CARGO_TARGET_DIR:-$root/target}
cargo build -p selfos-wasm --target wasm32-unknown-unknown --profile wasm-release
raw="$target_dir/wasm32-unknown-unknown/wasm-release/selfos_wasm.wasm"

rm -rf pkg
wasm-bindgen --target web --out-dir pkg "$raw"
# Debian's wasm-opt miscompiles current wasm-bindgen output; npm's binaryen does not.
node_modules/.bin/wasm-opt -Oz pkg/selfos_wasm_bg.wasm -o pkg/selfos_wasm_bg.wasm

# A browser has no "env" module: an import from it means a native dependency slipped in.
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const mod = new WebAssembly.Module(readFileSync("pkg/selfos_wasm_bg.wasm"));
  const env = WebAssembly.Module.imports(mod).filter((i) => i.module === "env");
  if (env.length) {
    console.error("error: the .wasm imports from \"env\":", env.map((i) => i.name).join(", "));
    process.exit(1);
  }'

size() { wc -c <"$1" | tr -d ' '; }
opt=pkg/selfos_wasm_bg.wasm
printf 'selfos_wasm.wasm: raw %s bytes, wasm-opt -Oz %s bytes, gzipped %s bytes\n' \
  "$(size "$raw")" "$(size "$opt")" "$(gzip -9 -c "$opt" | wc -c | tr -d ' ')"

npm run build --silent
