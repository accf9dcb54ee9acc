#!/usr/bin/env bash
# Runs every SelfOS test: the README's second command. Installs what it needs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

for tool in cargo node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is not installed (Rust comes from rustup, Node 20+ with npm from your system)" >&2
    exit 1
  fi
done

# Installs Debian packages (as root, else through sudo).
apt_install() {
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  $sudo apt-get install -y -q "$@"
}

# The relay's PostgreSQL store tests start throwaway clusters of their own with initdb and
# pg_ctl; the Debian service the package sets up is not used.
if [ ! -x "$(pg_config --bindir 2>/dev/null)/initdb" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  step "Debian's postgresql, for the relay's PostgreSQL store tests"
  apt_install postgresql
fi

step "unit, integration and property tests, criterion benches in test mode"
cargo test --workspace --all-targets

step "doc tests"
cargo test --workspace --doc

if [ ! -x /usr/bin/chromium ]; then
  step "Debian's chromium, for the browser tests"
  apt_install chromium
fi

# This builds the core crates for wasm32-unknown-unknown and fails if the module imports "env".
step "WASM package: build from scratch (wasm-bindgen, wasm-opt, TypeScript)"
bash bindings/wasm/build.sh

# The CLI and relay binaries they drive were built by the workspace tests above; the hostile
# device builds on its own, so that its test-only features stay out of them.
step "the hostile device the browser tests sync against"
cargo build -p selfos-hostile

step "WASM package: tests in headless Chromium against a real relay and the CLI"
(cd bindings/wasm && npm test)

step "dashboard: build, then end-to-end tests in headless Chromium (served by the relay)"
(cd clients/webapp && npm ci --no-audit --no-fund && npm test)

step "extension: typecheck, web-ext lint of the Firefox build, end-to-end tests in headless Chromium"
(cd clients/extension && npm ci --no-audit --no-fund && npm run typecheck && npm run lint:firefox && npm test)

step "all tests passed"
