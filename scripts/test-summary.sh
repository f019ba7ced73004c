#!/usr/bin/env bash
# Prints one closing line for the whole run from the TRX files: "tests: N passed, N failed, N skipped".
set -euo pipefail
dir="$1"
passed=0; failed=0; skipped=0
for f in "$dir"/*.trx; do
  [[ -f "$f" ]] || continue
  c=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c"); p=${p:-0}
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c"); fl=${fl:-0}
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$c"); t=${t:-0}
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$c"); e=${e:-0}
  passed=$((passed + p)); failed=$((failed + fl)); skipped=$((skipped + t - e))
done
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
