#!/usr/bin/env bash
# Runs every SelfOS test: the README's second command. Installs what it needs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "error: cargo is not installed; install Rust with rustup first" >&2
  exit 1
fi

step "toolchain: wasm32 target (the core crates must build for browsers)"
rustup target add wasm32-unknown-unknown

step "unit, integration and property tests, criterion benches in test mode"
cargo test --workspace --all-targets

step "doc tests"
cargo test --workspace --doc

step "core crates build for wasm32-unknown-unknown"
cargo build -p selfos-proto -p selfos-vault --target wasm32-unknown-unknown

step "all tests passed"
