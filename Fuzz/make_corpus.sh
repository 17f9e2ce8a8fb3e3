#!/usr/bin/env bash
# Regenerates the checked-in seed corpora: raw seeds from Fuzz/seeds.py (Fixtures/ and
# hand-made cases), minimised per target with libFuzzer's -merge=1 into Fuzz/corpus/TARGET.
#
#   bash Fuzz/make_corpus.sh [TARGET...]     # default: every target
#
# Inputs found by longer runs can be added first: copy them into Fuzz/corpus/TARGET and
# rerun; the merge keeps only inputs that add coverage.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${COTAR_FUZZ_OUT:-$ROOT/.build-fuzz}"
RAW="$OUT/seeds"
rm -rf "$RAW"
python3 "$ROOT/Fuzz/seeds.py" "$RAW"
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(bash "$ROOT/Fuzz/run.sh" list); fi
for target in "${targets[@]}"; do
  bash "$ROOT/Fuzz/run.sh" build "$target"
  corpus="$ROOT/Fuzz/corpus/$target"
  previous="$OUT/previous-corpus/$target"
  rm -rf "$previous"
  mkdir -p "$previous" "$RAW/$target"
  if [ -d "$corpus" ]; then cp "$corpus"/* "$previous"/ 2>/dev/null || true; fi
  rm -rf "$corpus"
  mkdir -p "$corpus"
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$OUT/$target" -merge=1 -max_len=32768 \
    "$corpus" "$RAW/$target" "$previous" >"$OUT/$target.merge.log" 2>&1
  echo "$target: $(ls "$corpus" | wc -l) inputs, $(du -sk "$corpus" | cut -f1) KiB"
done
