#!/usr/bin/env python3
"""Interop checks against llama.cpp's own Python package `gguf` (an independent reader and dequantizer).

For GGUF files from llama.cpp (the fixtures, and ../shared/reference when it is beside the clone) and
for files ggufmerge writes (quantize and merge outputs):
  * `ggufmerge inspect --json` agrees with gguf.GGUFReader on keys, values, tensor names, types,
    shapes and offsets;
  * our dequantization (`ggufmerge quantize IN OUT F32 --allow-requantize`) equals
    gguf.quants.dequantize bit for bit, for every tensor;
  * `ggufmerge quantize` of llama.cpp's F32 model equals llama-quantize's files byte for byte
    (tensor data and types), where the reference files are available;
  * merged files open in gguf.GGUFReader, keep the base's tensor types, and dequantize;
  * with ../shared/imatrix beside the clone: `ggufmerge quantize --imatrix` reproduces every
    `llama-quantize --imatrix` file there byte for byte (whole file: metadata, tensor infos, data),
    from the GGUF and the legacy .dat importance matrix, and every tensor of every file there
    dequantizes as gguf-py does (files gguf-py 0.19 cannot read, Q1_0/Q2_0, are listed as skipped).
Prints 'N passed, N failed' and exits non-zero on any failure.
Usage: check.py PATH_TO_GGUFMERGE
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType
from gguf.quants import dequantize

TOOL = sys.argv[1]
ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
IMATRIX = ROOT.parent / "shared" / "imatrix"
OUT = Path(tempfile.mkdtemp(prefix="ggufmerge-interop-"))
passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def run(*args, cwd=None):
    result = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(f"ggufmerge {' '.join(map(str, args))}: {result.stderr.strip()}")
    return result.stdout


def field_value(field):
    vtype = field.types[0]
    if vtype == GGUFValueType.ARRAY:
        return [x.item() if hasattr(x, "item") else x for x in field.contents()]
    value = field.contents()
    return value.item() if hasattr(value, "item") else value


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return (a != a and b != b) or float(np.float32(a)) == float(np.float32(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def check_inspect(path):
    ours = json.loads(run("inspect", "--json", path))
    reader = GGUFReader(path)
    theirs = {f.name: f for f in reader.fields.values() if not f.name.startswith("GGUF.")}
    name = Path(path).name
    check(f"{name}: metadata keys", list(ours["metadata"]) == list(theirs),
          f"{list(ours['metadata'])[:5]} vs {list(theirs)[:5]}")
    for key, field in theirs.items():
        if key in ours["metadata"]:
            check(f"{name}: {key}", same(ours["metadata"][key], field_value(field)),
                  f"{str(ours['metadata'][key])[:80]} vs {str(field_value(field))[:80]}")
    check(f"{name}: version", ours["version"] == int(reader.fields["GGUF.version"].contents()))
    check(f"{name}: tensor count", len(ours["tensors"]) == len(reader.tensors))
    for mine, t in zip(ours["tensors"], reader.tensors):
        ok = (mine["name"] == t.name and mine["type"] == t.tensor_type.name
              and mine["shape"] == [int(d) for d in t.shape]
              and mine["offset"] == int(t.data_offset) - int(reader.data_offset)
              and mine["bytes"] == int(t.n_bytes))
        check(f"{name}: tensor {t.name}", ok, f"{mine} vs {t.name} {t.tensor_type.name} {list(t.shape)} {t.data_offset}")


def tensors_by_name(path):
    return {t.name: t for t in GGUFReader(path).tensors}


def check_dequantize(path):
    """Our dequantization of every tensor equals gguf-py's, bit for bit (models: adapters and
    split shards are not models `quantize` takes)."""
    fields = GGUFReader(path).fields
    if "general.type" in fields and field_value(fields["general.type"]) == "adapter":
        return
    arch = field_value(fields["general.architecture"]) if "general.architecture" in fields else None
    if f"{arch}.block_count" not in fields:
        return  # not a model (vocab-only or synthetic container fixtures)
    if "split.count" in fields and field_value(fields["split.count"]) > 1:
        return
    out = OUT / f"{len(list(OUT.iterdir()))}-{Path(path).stem}-dequant-f32.gguf"
    run("quantize", path, out, "F32", "--allow-requantize", "--quiet")
    ours = tensors_by_name(out)
    for name, t in tensors_by_name(path).items():
        expected = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        mine = np.asarray(ours[name].data).reshape(-1)
        check(f"{Path(path).name}: dequantize {name} ({t.tensor_type.name})",
              mine.tobytes() == expected.tobytes(),
              f"max diff {np.nanmax(np.abs(mine - expected)) if mine.shape == expected.shape else 'shape'}")


def check_quantize(source, reference, ftype, *extra):
    out = OUT / f"{Path(reference).stem}-ours.gguf"
    run("quantize", source, out, ftype, "--quiet", *extra)
    ours, theirs = GGUFReader(out), GGUFReader(reference)
    check(f"quantize {ftype}: tensor order", [t.name for t in ours.tensors] == [t.name for t in theirs.tensors])
    mine = {t.name: t for t in ours.tensors}
    for t in theirs.tensors:
        m = mine.get(t.name)
        check(f"quantize {ftype}: {t.name}", m is not None and m.tensor_type == t.tensor_type
              and np.asarray(m.data).tobytes() == np.asarray(t.data).tobytes(),
              f"{m.tensor_type.name if m else None} vs {t.tensor_type.name}")
    check(f"quantize {ftype}: general.file_type",
          field_value(ours.fields["general.file_type"]) == field_value(theirs.fields["general.file_type"]))


def check_imatrix_quantize(reference):
    """`ggufmerge quantize --imatrix` of tiny-f32.gguf, run where llama-quantize ran (the imatrix given
    by its file name, which `quantize.imatrix.file` records), equals llama-quantize's file byte for byte."""
    name = reference.stem.removeprefix("tiny-imx-")
    extra, matrix = [], "tiny-imatrix.gguf"
    if name.startswith("pure-"):
        name, extra = name.removeprefix("pure-"), ["--pure"]
    elif name.startswith("dat-"):
        name, matrix = name.removeprefix("dat-"), "tiny-imatrix.dat"
    out = OUT / f"{reference.stem}-ours.gguf"
    try:
        run("quantize", REFERENCE / "tiny-f32.gguf", out, name, "--imatrix", matrix, "--quiet", *extra, cwd=IMATRIX)
    except RuntimeError as error:
        check(f"quantize --imatrix {reference.name}", False, str(error))
        return
    check(f"quantize --imatrix {reference.name}: byte-identical", out.read_bytes() == reference.read_bytes(),
          f"{out.stat().st_size} vs {reference.stat().st_size} bytes")


def check_imatrix_files():
    for path in sorted(IMATRIX.glob("tiny-imx-*.gguf")):
        check_imatrix_quantize(path)
    for path in sorted(IMATRIX.glob("*.gguf")):
        try:
            GGUFReader(path)
        except ValueError as error:
            print(f"skipped (gguf-py cannot read it: {error}): dequantization of {path.name}")
            continue
        if path.name != "tiny-imatrix.gguf":
            try:
                check_dequantize(path)
            except NotImplementedError as error:
                # Q1_0: gguf-py 0.19 has no dequantizer; LowBitReferenceTests checks it against the C code.
                print(f"skipped (gguf-py: {error}): dequantization of {path.name}")
            except RuntimeError as error:
                check(f"{path.name}: dequantize", False, str(error))


def check_merge_output(path, base):
    reader = GGUFReader(path)
    base_types = {t.name: t.tensor_type for t in GGUFReader(base).tensors}
    for t in reader.tensors:
        values = dequantize(t.data, t.tensor_type)
        check(f"{Path(path).name}: {t.name} finite", bool(np.isfinite(values).all()))
        if t.name in base_types:
            check(f"{Path(path).name}: {t.name} type", t.tensor_type == base_types[t.name],
                  f"{t.tensor_type.name} vs {base_types[t.name].name}")
    check_inspect(path)
    check_dequantize(path)


def main():
    fixtures = sorted(ROOT.glob("Fixtures/**/*.gguf"))
    for path in fixtures:
        check_inspect(path)
    reference = sorted(REFERENCE.rglob("*.gguf")) if REFERENCE.is_dir() else []
    if reference:
        print(f"reference files: {len(reference)} in {REFERENCE}")
        for path in reference:
            check_inspect(path)
            check_dequantize(path)
        f32 = REFERENCE / "tiny-f32.gguf"
        for path in sorted(REFERENCE.glob("tiny-*.gguf")):
            ftype = path.stem.removeprefix("tiny-")
            if ftype.startswith("pure-"):
                check_quantize(f32, path, ftype.removeprefix("pure-"), "--pure")
            elif ftype == "Q8_0-requant-Q4_K_M":
                check_quantize(REFERENCE / "tiny-Q8_0.gguf", path, "Q4_K_M", "--allow-requantize")
            elif ftype != "f32":
                check_quantize(f32, path, ftype)
        # The requantization recipe's promotions, as llama-quantize writes the same choice of types.
        promoted = REFERENCE / "recipes" / "Q4_K_M-promoted.gguf"
        if promoted.exists():
            check_quantize(f32, promoted, "Q4_K_M", "--recipe", "promoted")
        if IMATRIX.is_dir():
            check_imatrix_files()
    else:
        print("../shared/reference not beside this clone: checking the fixtures only")
    for path in fixtures:
        check_dequantize(path)
    # Merged files written by ggufmerge, from quantized inputs, read by llama.cpp's reader.
    merge = ROOT / "Fixtures" / "merge"
    q_base, q_a = OUT / "base-Q4_K_M.gguf", OUT / "a-Q8_0.gguf"
    run("quantize", merge / "base.gguf", q_base, "Q4_K_M", "--quiet")
    run("quantize", merge / "a.gguf", q_a, "Q8_0", "--quiet")
    for method, params in (("ties", ["--param", "density=0.5", "--param", "weight=1"]), ("linear", ["--param", "weight=0.5"]), ("slerp", ["--param", "t=0.3"])):
        out = OUT / f"merged-{method}.gguf"
        run("merge", "--method", method, *params, "--base", q_base, q_base, q_a, "-o", out, "--quiet")
        check_merge_output(out, q_base)
    print(f"interop: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
