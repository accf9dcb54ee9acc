#!/usr/bin/env bash
# A walkthrough of the selfos CLI: two replicas of one vault (a laptop and a phone), answers on
# both, merges, a conflict and its resolution, a sync through a real relay, the next card, metrics,
# the knowledge graph, custom instructions, and a Markdown export.
#
#   bash scripts/demo.sh          # leaves the demo folder in place and prints its path
#   bash scripts/demo.sh --clean  # removes it at the end
set -euo pipefail

clean=false
case "${1:-}" in
  --clean) clean=true ;;
  "") ;;
  *) echo "usage: bash scripts/demo.sh [--clean]" >&2; exit 2 ;;
esac

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

section "3. Link a second device"
say "The link holds the vault id, salt and KDF parameters: nothing secret."
printf '%s$ selfos --vault %s link --relay ws://127.0.0.1:8787%s\n' "$dim" "$laptop" "$reset"
link="$("$selfos" --vault "$laptop" link --relay ws://127.0.0.1:8787 2>/dev/null)"
say "$link"
run --vault "$phone" join "$link"

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
say "A relay forwards ciphertext between the devices of a vault and stores nothing, so both"
say "devices sync at the same time. Starting one on a free port:"
printf '%s$ selfos-relay --listen 127.0.0.1:0%s\n' "$dim" "$reset"
"$relay_bin" --listen 127.0.0.1:0 > "$demo/relay.out" 2> "$demo/relay.log" &
relay_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$demo/relay.out" 2>/dev/null && break
  sleep 0.05
done
relay="ws://$(sed -n 's/^listening on //p' "$demo/relay.out")"
say "listening at $relay"
run --vault "$phone" record --agent gemini --card rating.overall --rating 5
printf '%s$ selfos --vault %s sync --relay %s   (in the background)%s\n' "$dim" "$laptop" "$relay" "$reset"
"$selfos" --vault "$laptop" sync --relay "$relay" --peer-wait 10 > "$demo/laptop-sync.out" 2>&1 &
laptop_sync=$!
run --vault "$phone" sync --relay "$relay" --peer-wait 10
wait "$laptop_sync"
say "laptop: $(tail -n 1 "$demo/laptop-sync.out")"
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
  say "The demo folder is removed."
else
  say "Explore the demo: $demo"
  say "  export SELFOS_PASSPHRASE='$SELFOS_PASSPHRASE'"
  say "  $selfos --vault $phone list"
  say "Remove it with: rm -rf $demo   (or run the demo with --clean)"
fi
