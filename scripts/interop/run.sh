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
exec "$venv/bin/python" scripts/interop/check.py "$(swift build -c release --show-bin-path)/ggufmerge"
