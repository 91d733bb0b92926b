#!/usr/bin/env bash
# Quiver's main job on the bundled sample catalog: installs the dependencies, fetches
# all-MiniLM-L6-v2, builds a release quiver, lists the compute devices and checks a small GEMM
# against float64, then embeds the 3000 item titles of data/sample/items.txt into a catalog,
# scores the 12 queries of data/sample/queries.txt against it (exact top 3, cosine) and prints
# each query with its best items, followed by the scoring summary (throughput and backend).
# Work files go to .quiver-demo/ (or $QUIVER_DEMO_DIR); data/sample/ is written by
# scripts/fixtures/sample_catalog.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-model.sh
swift build -c release --product quiver
bin=.build/release/quiver
model=models/all-MiniLM-L6-v2
sample=data/sample
work=${QUIVER_DEMO_DIR:-.quiver-demo}
mkdir -p "$work"

"$bin" devices
echo
"$bin" gemm --m 512 --n 512 --k 512
echo

# The catalog: one embedding row per title (row i = line i of items.txt).
"$bin" encode --model "$model" --input "$sample/items.txt" --output "$work/items.npy" --overwrite
# The job. --restart: the catalog was just rewritten, so a checkpoint left by an interrupted
# earlier demo belongs to other inputs and is discarded rather than refused.
if ! "$bin" score --texts "$sample/queries.txt" --model "$model" --catalog "$work/items.npy" \
    --ids "$sample/item_ids.txt" --k 3 --metric cosine --output "$work/results.jsonl" \
    --overwrite --restart 2>"$work/score.log"; then
  cat "$work/score.log" >&2
  exit 1
fi

echo
echo "top 3 of $(wc -l <"$sample/items.txt") sample items for each query (cosine similarity):"
echo
"$bin" show "$work/results.jsonl" --queries "$sample/queries.txt" --titles "$sample/items.txt" --ids "$sample/item_ids.txt"
echo
cat "$work/score.log"
