#!/usr/bin/env bash
# Builds a libFuzzer target with AddressSanitizer and runs it on a copy of its seed corpus.
#
#   bash Fuzz/run.sh TARGET SECONDS   # one target (see `bash Fuzz/run.sh list`)
#   bash Fuzz/run.sh all SECONDS      # every target, one after the other
#   bash Fuzz/run.sh build TARGET     # build only
#   bash Fuzz/run.sh list             # the target names
#
# Exits non-zero when a target crashes or violates an invariant; the input that did it is
# saved in .build-fuzz/artifacts/TARGET/ (reproduce with `.build-fuzz/TARGET FILE`).
# The checked-in Fuzz/corpus/TARGET is never modified: the run grows a copy in
# .build-fuzz/work/TARGET/corpus. Extra libFuzzer flags can be passed in FUZZ_FLAGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${COTAR_FUZZ_OUT:-$ROOT/.build-fuzz}"
TARGETS=(tar_scanner pax_records gnu_headers index_reader tarco_locator name_table gzip_index content_range range_header route raw_request_head shard_manifest)

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Library sources are globbed by folder (or found by file name for the two modules that
# depend on NIO/Hummingbird), so files moved within a module do not break the build.
core_sources() { find "$ROOT/Sources/CotarCore" -name '*.swift' | sort; }
writer_sources() { find "$ROOT/Sources/CotarWriter" -name '*.swift' | sort; }
named_sources() { # named_sources MODULE FILE...
  local module="$1"
  shift
  for name in "$@"; do
    local found
    found="$(find "$ROOT/Sources/$module" -name "$name" | head -n 1)"
    [ -n "$found" ] || { echo "error: $name not found under Sources/$module" >&2; exit 1; }
    echo "$found"
  done
}
support() { for name in "$@"; do echo "$ROOT/Fuzz/Support/$name.swift"; done; }

# The sources of TARGET's module, one per line. Targets over CotarCore are compiled as one
# module named CotarCore (so `internal` and `package` symbols are visible and CotarWriter's
# `import CotarCore` is ignored); the HTTP and server parsers are self-contained files.
sources_for() {
  case "$1" in
    tar_scanner | gnu_headers) core_sources; support Invariant Blocking CheckedSource TarChecks ;;
    pax_records) core_sources; support Invariant ;;
    name_table) core_sources; support Invariant Blocking CheckedSource ;;
    index_reader | tarco_locator | gzip_index) core_sources; support Invariant Blocking CheckedSource IndexChecks ;;
    shard_manifest) core_sources; writer_sources; support Invariant ;;
    content_range) named_sources CotarHTTP ContentRange.swift; support Invariant ;;
    range_header) named_sources CotarServer ByteRangeRequest.swift; support Invariant ;;
    route) named_sources CotarServer PercentEncoding.swift Route.swift; support Invariant ;;
    raw_request_head) named_sources CotarServer RawRequestHead.swift; support Invariant ;;
    *) echo "error: unknown target '$1' (targets: ${TARGETS[*]})" >&2; exit 2 ;;
  esac
  echo "$ROOT/Fuzz/Targets/$1.swift"
}

module_for() {
  case "$1" in
    content_range | range_header | route | raw_request_head) echo FuzzTarget ;;
    *) echo CotarCore ;;
  esac
}

max_len_for() {
  case "$1" in
    tar_scanner | gnu_headers | index_reader | tarco_locator | name_table) echo 32768 ;;
    shard_manifest) echo 16384 ;;
    gzip_index) echo 131072 ;;
    *) echo 4096 ;;
  esac
}

build() {
  local target="$1"
  local sources
  sources="$(sources_for "$target")"
  mkdir -p "$OUT"
  local binary="$OUT/$target"
  local flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6
    -enable-upcoming-feature MemberImportVisibility -module-name "$(module_for "$target")" -package-name cotar
    -I "$ROOT/Sources/CZlib" -lz)  # CotarCore's name table uses zlib through the CZlib module map
  # Rebuild only when a source or the flags changed.
  local stamp
  stamp="$( { echo "${flags[*]}"; echo "$sources" | xargs cat; echo "$sources"; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$binary" ] && [ "$(cat "$binary.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  echo "building $target" >&2
  local log="$OUT/$target.build.log"
  # shellcheck disable=SC2086
  if ! swiftc "${flags[@]}" $(echo "$sources" | tr '\n' ' ') -o "$binary" >"$log" 2>&1; then
    grep -v "Cannot export local symbol" "$log" >&2 || true
    echo "error: building $target failed" >&2
    exit 1
  fi
  echo "$stamp" >"$binary.stamp"
}

# Runs TARGET for SECONDS; prints one summary line; returns non-zero on a finding.
run() {
  local target="$1" seconds="$2"
  build "$target"
  local work="$OUT/work/$target"
  local artifacts="$OUT/artifacts/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$artifacts"
  if [ -d "$ROOT/Fuzz/corpus/$target" ]; then cp "$ROOT/Fuzz/corpus/$target"/* "$work/corpus/" 2>/dev/null || true; fi
  local status=0
  # The Swift crash handler would intercept the sanitizer's signals; LeakSanitizer reports
  # the Swift runtime's metadata caches, so leaks are not checked (RSS is, via rss_limit_mb).
  # shellcheck disable=SC2086
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
    "$OUT/$target" -max_total_time="$seconds" -max_len="$(max_len_for "$target")" -timeout=20 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} \
    "$work/corpus" >"$work/log" 2>&1 || status=$?
  local done_line
  done_line="$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$work/log" | tail -n 1 || true)"
  local execs cov ft corp
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)"
  cov="$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
  ft="$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')"
  corp="$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')"
  if [ "$status" -ne 0 ]; then
    echo "FAIL $target (exit $status) after ${execs:-?} runs; log: $work/log" >&2
    grep -E "invariant violated|ERROR: AddressSanitizer|ERROR: libFuzzer|Fatal error|Test unit written" "$work/log" | head -n 5 >&2 || true
    return 1
  fi
  printf '%-15s %4ss  execs %-10s cov %-6s ft %-7s corpus %s\n' "$target" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

[ $# -ge 1 ] || usage
case "$1" in
  list) printf '%s\n' "${TARGETS[@]}" ;;
  build)
    [ $# -eq 2 ] || usage
    build "$2"
    ;;
  all)
    [ $# -eq 2 ] || usage
    failed=()
    for target in "${TARGETS[@]}"; do run "$target" "$2" || failed+=("$target"); done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "fuzzing found problems in: ${failed[*]}" >&2
      exit 1
    fi
    ;;
  *)
    [ $# -eq 2 ] || usage
    run "$1" "$2"
    ;;
esac
