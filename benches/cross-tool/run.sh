#!/usr/bin/env bash
# The cross-tool benchmark report: packsim beside satyr, binpacking, SimPy and OR-Tools CP-SAT on
# the same generated inputs, in one run. Installs the Python tools (pinned in requirements.txt) in a
# virtualenv under target/, builds packsim in release mode, and writes
# target/cross-tool/report.md (and report.csv). Needs ../shared beside the repository (BPPLIB).
#
#   bash benches/cross-tool/run.sh            # the full report (about 5 minutes on 2 cores)
#   bash benches/cross-tool/run.sh --quick    # small sizes: checks the wiring in a minute
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/target/cross-tool"
venv="$out/venv"
shared="${PACKSIM_SHARED:-$root/../shared}"
mkdir -p "$out"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/benches/cross-tool/requirements.txt"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
rm -rf "$out/work"
"$venv/bin/python" "$root/benches/cross-tool/compare.py" \
  --packsim "$root/target/release/packsim" --shared "$shared" --out "$out" "$@"
