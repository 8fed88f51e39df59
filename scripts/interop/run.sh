#!/usr/bin/env bash
# Interop checks: files ggufmerge writes are read back by llama.cpp's Python package `gguf`, and
# our inspect/dequantize agree with it. Creates its own virtual environment (PyPI).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${GGUFMERGE_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "gguf==0.19.0" numpy
swift build -c release --product ggufmerge >/dev/null
tool="$(swift build -c release --show-bin-path)/ggufmerge"
"$venv/bin/python" scripts/interop/check.py "$tool"

# llama.cpp itself: llama-cpp-python compiles llama.cpp from source (about 5 minutes on 2 cores the
# first time; pip caches the built wheel for later runs on the same machine).
CMAKE_BUILD_PARALLEL_LEVEL=2 "$venv/bin/pip" install --quiet --disable-pip-version-check "llama-cpp-python==0.3.36"
"$venv/bin/python" scripts/interop/llama_run.py "$tool"
