#!/usr/bin/env python3
"""Checks `ggufmerge inspect --json` output against gguf-py's reading of the same file.

Usage: inspect_check.py MODEL.gguf [INSPECT.json | -]

The JSON is expected as
  {"version": 3, "alignment": 32,
   "metadata": {key: value, ...},            # arrays in full, floats as numbers
   "tensors": [{"name", "type", "shape", "offset", "bytes"}, ...]}
with type names as gguf-py spells them (F32, Q4_K, ...), shapes in ggml order (ne0 first) and
offsets relative to the start of the data section. Compares version, alignment, every key and
value (f32 values compared after rounding both sides to float32), tensor order, names, types,
shapes, offsets and sizes. Prints each difference; exits 1 if there is any, 0 otherwise.
"""
import json
import math
import pathlib
import sys

import numpy as np
import gguf

V = gguf.GGUFValueType


def same_scalar(ref, got, vtype):
    if vtype == V.BOOL:
        return isinstance(got, bool) and bool(ref) == got
    if vtype == V.STRING:
        return isinstance(got, str) and ref == got
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if vtype == V.FLOAT32:
        a, b = np.float32(ref), np.float32(got)
        return (math.isnan(a) and math.isnan(b)) or a == b
    if vtype == V.FLOAT64:
        return (math.isnan(ref) and math.isnan(got)) or float(ref) == float(got)
    return isinstance(got, int) and int(ref) == got


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    model = sys.argv[1]
    src = sys.argv[2] if len(sys.argv) == 3 else "-"
    text = sys.stdin.read() if src == "-" else pathlib.Path(src).read_text(encoding="utf-8")
    got = json.loads(text)
    r = gguf.GGUFReader(model)
    errors = []

    def err(msg):
        errors.append(msg)

    version = int(r.fields["GGUF.version"].contents())
    if got.get("version") != version:
        err(f"version: gguf-py {version}, json {got.get('version')}")
    if got.get("alignment") != int(r.alignment):
        err(f"alignment: gguf-py {r.alignment}, json {got.get('alignment')}")

    meta = got.get("metadata", {})
    ref_keys = [k for k in r.fields if not k.startswith("GGUF.")]
    missing = [k for k in ref_keys if k not in meta]
    extra = [k for k in meta if k not in r.fields]
    if missing:
        err(f"metadata keys missing from json: {missing}")
    if extra:
        err(f"metadata keys not in the file: {extra}")
    for k in ref_keys:
        if k not in meta:
            continue
        f = r.fields[k]
        value = f.contents()
        if f.types[0] == V.ARRAY:
            sub = f.types[-1]
            if not isinstance(meta[k], list) or len(meta[k]) != len(value):
                err(f"{k}: array of {len(value)} {sub.name} in gguf-py, json has {type(meta[k]).__name__}"
                    f"{' of ' + str(len(meta[k])) if isinstance(meta[k], list) else ''}")
                continue
            for i, (a, b) in enumerate(zip(value, meta[k])):
                if not same_scalar(a, b, sub):
                    err(f"{k}[{i}]: gguf-py {a!r}, json {b!r}")
                    break
        elif not same_scalar(value, meta[k], f.types[0]):
            err(f"{k}: gguf-py {value!r} ({f.types[0].name}), json {meta[k]!r}")

    tensors = got.get("tensors", [])
    if [t.get("name") for t in tensors] != [t.name for t in r.tensors]:
        err(f"tensor names or order differ ({len(r.tensors)} in gguf-py, {len(tensors)} in json)")
    for ref, t in zip(r.tensors, tensors):
        checks = {
            "type": ref.tensor_type.name,
            "shape": [int(d) for d in ref.shape],
            "offset": int(ref.data_offset - r.data_offset),
            "bytes": int(ref.n_bytes),
        }
        for field, expected in checks.items():
            if t.get(field) != expected:
                err(f"tensor {ref.name}: {field}: gguf-py {expected!r}, json {t.get(field)!r}")

    for e in errors:
        print(e)
    print(f"{model}: {len(ref_keys)} keys, {len(r.tensors)} tensors, "
          f"{'OK' if not errors else str(len(errors)) + ' difference(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
