#!/usr/bin/env bash
# A walkthrough of the selfos CLI: two replicas of one vault (a laptop and a phone), answers on
# both, merges, a conflict and its resolution, a sync through a real relay, the next card, metrics,
# the knowledge graph, custom instructions, and a Markdown export. Then it builds the dashboard
# and the extension, serves the dashboard from a relay and keeps the phone replica online, so the
# answers show up as a graph in the browser.
#
#   bash scripts/demo.sh             # ends serving the dashboard until Ctrl-C; keeps the demo folder
#   bash scripts/demo.sh --clean     # removes the demo folder at the end
#   bash scripts/demo.sh --no-serve  # the CLI walkthrough only
# SELFOS_DEMO_PORT picks the dashboard's port (default 8787).
set -euo pipefail

clean=false
serve=true
for arg in "$@"; do
  case "$arg" in
    --clean) clean=true ;;
    --no-serve) serve=false ;;
    *) echo "usage: bash scripts/demo.sh [--clean] [--no-serve]" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'
if [[ ! -t 1 ]]; then bold=""; dim=""; reset=""; fi

section() { printf '\n%s== %s ==%s\n' "$bold" "$1" "$reset"; }
say() { printf '%s\n' "$*"; }
# Shows a command, then runs it.
run() {
  local shown="" arg
  for arg in "$@"; do
    if [[ "$arg" == *" "* ]]; then shown+=" '$arg'"; else shown+=" $arg"; fi
  done
  printf '%s$ selfos%s%s\n' "$dim" "$shown" "$reset"
  "$selfos" "$@"
}

# Fails the demo unless both replicas list exactly the same answers.
same_on_both() {
  if cmp -s <("$selfos" --vault "$laptop" list --json) <("$selfos" --vault "$phone" list --json); then
    say "list --json is byte-identical on the laptop and the phone."
  else
    say "list --json differs between the replicas!" >&2
    exit 1
  fi
}

# Starts the relay with the given flags in the background (stopping the one before, if any) and
# sets `relay` to its ws:// address.
start_relay() {
  if [[ -n "$relay_pid" ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  : > "$demo/relay.out"
  "$relay_bin" "$@" > "$demo/relay.out" 2> "$demo/relay.log" &
  relay_pid=$!
  for _ in $(seq 200); do
    grep -q '^listening on ' "$demo/relay.out" 2>/dev/null && break
    if ! kill -0 "$relay_pid" 2>/dev/null; then
      echo "the relay did not start:" >&2
      cat "$demo/relay.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  relay="ws://$(sed -n 's/^listening on //p' "$demo/relay.out")"
}

section "Building the CLI and the relay"
(cd "$root" && cargo build -q -p selfos-cli -p selfos-relay)
selfos="${CARGO_TARGET_DIR:-$root/target}/debug/selfos"
relay_bin="${CARGO_TARGET_DIR:-$root/target}/debug/selfos-relay"

demo="$(mktemp -d "${TMPDIR:-/tmp}/selfos-demo.XXXXXX")"
relay_pid=""
cleanup() {
  if [[ -n "$relay_pid" ]]; then kill "$relay_pid" 2>/dev/null || true; fi
  if $clean; then rm -rf "$demo"; fi
}
trap cleanup EXIT
laptop="$demo/laptop"
phone="$demo/phone"
cd "$demo"

# A demo passphrase in the environment. Real use: --passphrase-file, or let selfos prompt.
export SELFOS_PASSPHRASE="demo passphrase - not for real vaults"
unset SELFOS_VAULT

section "1. Create a vault on the laptop"
say "The passphrase comes from SELFOS_PASSPHRASE (a demo one). Argon2id is turned down to"
say "19 MiB and 2 passes to keep the demo quick; real vaults default to 64 MiB, 3 passes, 4 lanes."
run --vault "$laptop" init --kdf-memory-kib 19456 --kdf-iterations 2 --kdf-parallelism 1

section "2. Record a few answers, one namespace per AI agent"
run --vault "$laptop" record --agent chatgpt --card intent.include --answer "a worked example" --wait-ms 9000
run --vault "$laptop" record --agent claude --card rating.overall --rating 4
run --vault "$laptop" record --agent profile --card pref.length --kind preference --choice short
run --vault "$laptop" list

section "3. Add a second device from the recovery kit"
say "The recovery kit is the vault secret as 24 words: whoever holds them can open the vault, so"
say "keep it offline (here it passes through a file in the demo's folder). Each device wraps the"
say "secret under a passphrase of its own; the demo gives both the same one."
printf '%s$ selfos --vault %s recovery-kit > kit.txt%s\n' "$dim" "$laptop" "$reset"
"$selfos" --vault "$laptop" recovery-kit > "$demo/kit.txt"
run --vault "$phone" join --recovery-kit "$demo/kit.txt" --kdf-memory-kib 19456 --kdf-iterations 2 --kdf-parallelism 1

section "4. Record on the phone, then merge both ways"
say "No relay yet: the replicas meet through their folders."
run --vault "$phone" record --agent chatgpt --card intent.include --answer "cite sources"
run --vault "$phone" merge-from "$laptop"
run --vault "$laptop" merge-from "$phone"

section "5. Both replicas list the same answers"
run --vault "$laptop" list
same_on_both

section "6. A conflict: both devices edit the same answer offline"
id="$("$selfos" --vault "$laptop" list --agent claude --json | sed -n 's/^ *"id": "\(.*\)",$/\1/p' | head -n 1)"
prefix="${id:0:16}"
say "Any unique prefix of an id works: $prefix"
run --vault "$laptop" policy claude user-merge
run --vault "$phone" merge-from "$laptop"
run --vault "$laptop" edit "$prefix" --rating 5
run --vault "$phone" edit "$prefix" --rating 2
run --vault "$laptop" merge-from "$phone"
run --vault "$phone" merge-from "$laptop"
run --vault "$laptop" conflicts

section "7. Resolve it on the laptop; the phone takes the result on the next merge"
run --vault "$laptop" resolve "$prefix" --keep 0
run --vault "$phone" merge-from "$laptop"
run --vault "$phone" conflicts
run --vault "$phone" show "$prefix"

section "8. Sync through a relay"
say "A relay forwards ciphertext between the devices of a vault and keeps sealed blobs it cannot"
say "read for devices that come later, so the devices need not be online together. Starting one"
say "on a free port, its store in the demo folder:"
printf '%s$ selfos-relay --listen 127.0.0.1:0 --store relay-store.db%s\n' "$dim" "$reset"
start_relay --listen 127.0.0.1:0 --store "$demo/relay-store.db"
say "listening at $relay"
run --vault "$phone" record --agent gemini --card rating.overall --rating 5
say "The phone syncs alone and goes offline; the laptop syncs later, alone:"
run --vault "$phone" sync --relay "$relay"
run --vault "$laptop" sync --relay "$relay"
run --vault "$phone" sync --relay "$relay"
run --vault "$laptop" list --agent gemini
same_on_both

section "9. What the answers say"
say "The card to show during the next wait for ChatGPT, ten seconds in:"
run --vault "$phone" next-card --agent chatgpt --wait-secs 15 --since-secs 10
run --vault "$phone" metrics
run --vault "$phone" graph
run --vault "$phone" export --format instructions --agent chatgpt

section "10. Export as Markdown"
run --vault "$phone" export --format markdown

section "Done"
if $clean; then
  say "The demo folder is removed at the end."
else
  say "Explore the demo: $demo"
  say "  export SELFOS_PASSPHRASE='$SELFOS_PASSPHRASE'"
  say "  $selfos --vault $phone list"
  say "Remove it with: rm -rf $demo   (or run the demo with --clean)"
fi
$serve || exit 0

section "11. The dashboard, served by the relay, and the extension"
say "Building the WASM package, the dashboard and the extension (a few minutes the first time)..."
# Runs a build step quietly; shows its output only if it fails.
build() { "$@" >> "$demo/build.log" 2>&1 || { cat "$demo/build.log" >&2; exit 1; }; }
build bash "$root/bindings/wasm/build.sh"
for app in webapp extension; do
  build npm --prefix "$root/clients/$app" ci --no-audit --no-fund
  build npm --prefix "$root/clients/$app" run build
done
port="${SELFOS_DEMO_PORT:-8787}"
printf '%s$ selfos-relay --listen 127.0.0.1:%s --web-root clients/webapp/dist%s\n' "$dim" "$port" "$reset"
start_relay --listen "127.0.0.1:$port" --web-root "$root/clients/webapp/dist" --store "$demo/relay-store.db"
say ""
say "${bold}Open http://127.0.0.1:$port/ in a browser and restore the vault from its recovery kit:${reset}"
sed 's/^/  /' "$demo/kit.txt"
say "with a passphrase of the browser's own (the relay address may stay empty: it is this page's)."
say "The dashboard catches up from the relay's store and shows the answers as a graph. The phone"
say "replica stays online too, so what you change there (resolve, delete) reaches it at once."
say ""
say "${bold}The extension:${reset} chrome://extensions -> Developer mode -> Load unpacked ->"
say "  $root/clients/extension/dist/chrome   (Firefox: about:debugging, dist/firefox/manifest.json)"
say "then, in its popup, restore from the same recovery kit with a passphrase of its own and the"
say "relay address $relay, and enable an agent in its options. Ctrl-C ends the demo."
"$selfos" --vault "$phone" sync --relay "$relay" --watch
