#!/usr/bin/env python3
"""What the requantization recipe buys: merges of Q4_K_M inputs written as Q4_K_M with llama-quantize's
recipe (`--recipe llama`) and with the default (`--recipe auto`: attn_v/ffn_down one step up), each
compared with the merge of the float originals.

usage: requant_recipe.py GGUFMERGE [REFERENCE_DIR]

Models: ../shared/reference/tiny-f32.gguf (2 layers, hidden 256, ffn 512) as the base, and two
"fine-tunes": the base plus Gaussian deltas of 3 % of each tensor's standard deviation (seeded). Prints,
per method, the relative L2 error ‖merged − float merge‖ / ‖float merge‖ over all 2-D weights, its
change with the default recipe over all weights and over the promoted tensors alone, and the change in
tensor-data size against llama-quantize's Q4_K_M of the base.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFWriter
from gguf.quants import dequantize

tool = sys.argv[1]
reference = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parents[3] / "shared" / "reference")
work = Path(tempfile.mkdtemp(prefix="requant-recipe-"))


def copy_with_delta(source, target, scale, seed):
    reader = GGUFReader(source)
    arch = reader.fields["general.architecture"]
    writer = GGUFWriter(target, bytes(arch.parts[arch.data[0]]).decode())
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value = field.contents()
        writer.add_key_value(field.name, value, field.types[0], field.types[-1] if len(field.types) > 1 else None)
    rng = np.random.default_rng(seed)
    for t in reader.tensors:
        data = np.array(t.data, dtype=np.float32)
        if data.ndim == 2 and scale > 0:
            data = data + rng.normal(0, scale * float(data.std()), data.shape).astype(np.float32)
        writer.add_tensor(t.name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def run(*args):
    subprocess.run([tool, *map(str, args), "--quiet", "--force"], check=True)


def weights(path):
    return {t.name: dequantize(t.data, t.tensor_type).reshape(-1) for t in GGUFReader(path).tensors
            if len([d for d in t.shape if d > 1]) >= 2}


def tensor_bytes(path):
    return sum(int(t.n_bytes) for t in GGUFReader(path).tensors)


def main():
    f32 = reference / "tiny-f32.gguf"
    base, a, b = work / "base.gguf", work / "a.gguf", work / "b.gguf"
    copy_with_delta(f32, base, 0, 0)
    copy_with_delta(f32, a, 0.03, 1)
    copy_with_delta(f32, b, 0.03, 2)
    quantized = {}
    for name, path in (("base", base), ("a", a), ("b", b)):
        quantized[name] = work / f"{name}-Q4_K_M.gguf"
        run("quantize", path, quantized[name], "Q4_K_M")
    llama_size = tensor_bytes(work / "base-Q4_K_M.gguf")
    methods = {
        "linear": ["--method", "linear", "--param", "weight=0.5"],
        "slerp": ["--method", "slerp", "--param", "t=0.5", "--base", "{base}"],
        "ties": ["--method", "ties", "--param", "density=0.5", "--param", "weight=1", "--base", "{base}"],
        "task_arithmetic": ["--method", "task_arithmetic", "--param", "weight=1", "--base", "{base}"],
    }
    print("Q4_K_M inputs → Q4_K_M output; error vs the merge of the float originals (relative L2, 2-D weights)")
    print(f"{'method':<16} {'--recipe llama':>15} {'--recipe auto':>15} {'change':>8} {'promoted':>10} {'size':>8}")
    for method, args in methods.items():
        def merge(inputs, out, *extra):
            filled = [x.format(base=inputs["base"]) for x in args]
            models = {"linear": [inputs["a"], inputs["b"]], "slerp": [inputs["base"], inputs["a"]]}.get(method, [inputs["base"], inputs["a"], inputs["b"]])
            run("merge", *filled, *models, "-o", out, *extra)
        truth_path = work / f"{method}-f32.gguf"
        merge({"base": base, "a": a, "b": b}, truth_path, "--outtype", "F32")
        truth = weights(truth_path)
        errors, promoted_errors, sizes = {}, {}, {}
        promoted = [t.name for t in GGUFReader(quantized["base"]).tensors if ("attn_v" in t.name or "ffn_down" in t.name)
                    and t.tensor_type.name == "Q4_K"]
        for recipe in ("llama", "auto"):
            out = work / f"{method}-{recipe}.gguf"
            merge(quantized, out, "--outtype", "Q4_K_M", "--recipe", recipe)
            got = weights(out)

            def relative(names):
                num = sum(float(np.sum((got[k] - truth[k]) ** 2)) for k in names)
                den = sum(float(np.sum(truth[k] ** 2)) for k in names)
                return (num / den) ** 0.5
            errors[recipe] = relative(truth)
            promoted_errors[recipe] = relative(promoted)
            sizes[recipe] = tensor_bytes(out)
        change = errors["auto"] / errors["llama"] - 1
        promoted_change = promoted_errors["auto"] / promoted_errors["llama"] - 1
        size = sizes["auto"] / llama_size - 1
        print(f"{method:<16} {errors['llama']:>15.4e} {errors['auto']:>15.4e} {change:>+8.1%} "
              f"{promoted_change:>+10.1%} {size:>+8.1%}")


if __name__ == "__main__":
    main()
