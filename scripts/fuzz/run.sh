#!/usr/bin/env bash
# Fuzzes the GGUF reader and the YAML config reader with libFuzzer (swiftc -sanitize=fuzzer,address).
#
#   scripts/fuzz/run.sh [seconds]     # each target runs that long (default 60); CI runs 60
#
# Builds the library modules with coverage and AddressSanitizer into .build/fuzz, seeds each corpus
# from Fixtures/ (and ../shared/reference/ when present), runs each target and prints its last status
# line. A crash, or an input that takes over 20 s, stops with a non-zero exit and leaves the
# reproducer in .build/fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/crashes"
flags=(-O -sanitize=fuzzer,address -parse-as-library -I "$out")

module() {  # name, sources...
    local name=$1; shift
    swiftc "${flags[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -c "$@" -o "$out/$name.o"
}

echo "== build (log: $out/build.log)"
exec 3>&2 2>"$out/build.log"
trap 'tail -20 "$out/build.log" >&3' ERR
module GGUF Sources/GGUF/*.swift
module Quant $(find Sources/Quant -name '*.swift')
module Merge $(find Sources/Merge -name '*.swift')
# The reader target compiles the GGUF sources itself: it calls the internal header parser.
swiftc "${flags[@]}" -module-name GGUFReaderFuzz Sources/GGUF/*.swift scripts/fuzz/GGUFReaderFuzz.swift -o "$out/gguf-reader"
swiftc "${flags[@]}" -module-name ConfigFuzz scripts/fuzz/ConfigFuzz.swift "$out/GGUF.o" "$out/Quant.o" "$out/Merge.o" -o "$out/config"
exec 2>&3
trap - ERR

echo "== seed corpora"
mkdir -p "$out/corpus/gguf-reader" "$out/corpus/config"
find Fixtures -name '*.gguf' -size -2M -exec cp {} "$out/corpus/gguf-reader/" \;
[ -d ../shared/reference ] && find ../shared/reference -name '*.gguf' -size -2M -exec cp {} "$out/corpus/gguf-reader/" \; || true
find Fixtures -name '*.yml' -exec cp {} "$out/corpus/config/" \;
[ -d ../shared/reference ] && find ../shared/reference -name '*.yml' -exec cp {} "$out/corpus/config/" \; || true

for target in gguf-reader config; do
    echo "== fuzz $target for ${seconds}s"
    log="$out/$target.log"
    if ! "$out/$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=20 \
            -artifact_prefix="$out/crashes/$target-" "$out/corpus/$target" >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz $target: crash (reproducer in $out/crashes)" >&2
        exit 1
    fi
    grep -E '^#[0-9]+' "$log" | tail -1
    grep -E 'Done [0-9]+ runs' "$log" || true
done
