#!/usr/bin/env bash
# Installs the dependencies, fetches all-MiniLM-L6-v2, builds a release quiver, lists the compute
# devices, runs a small GEMM on the backend `auto` picks and on each other backend present (each
# checked against float64), and embeds a few sentences.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-model.sh
swift build -c release --product quiver
bin=.build/release/quiver
"$bin" devices
echo
"$bin" gemm --m 512 --n 512 --k 512
report=$("$bin" devices --json)
if ! grep -q '"autoPick" : "cpu"' <<<"$report"; then
  "$bin" gemm --m 512 --n 512 --k 512 --backend cpu
elif grep -q '"openCLStatus" : "ok"' <<<"$report"; then
  "$bin" gemm --m 512 --n 512 --k 512 --backend opencl
fi

echo
out=$(mktemp -d)/demo.jsonl
printf '%s\n' "Waterproof trail running shoes" "A quiet espresso machine for small kitchens" \
  "Noise-cancelling headphones for long flights" | "$bin" encode --model models/all-MiniLM-L6-v2 --output "$out"
echo "first values of each embedding in $out:"
cut -c1-90 "$out"
