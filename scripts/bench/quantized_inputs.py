#!/usr/bin/env python3
"""What merging quantized files costs: the README's "Merging quantized files" table.

Float originals are made here (gguf-py): a Llama-shaped base (hidden 256, ffn 512, 2 layers, vocab
512; Gaussian rows with varied scales, heavy-tailed ffn_down) and two fine-tunes whose task vectors
are dense Gaussian noise of `--relative` times each weight's norm. Each input type quantizes the three
files with `ggufmerge quantize`; each method merges them with `--outtype F32`; the error is the
relative L2 distance, over all 2-D weights, to the same merge of the float originals: relative to
the merged weights / relative to the float merge's own change from the base. `check`'s
estimated task-vector noise ratio of the first fine-tune is printed beside it.

Usage: quantized_inputs.py PATH_TO_GGUFMERGE [--relative 0.15]   (needs gguf and numpy)
"""
import argparse, json, subprocess, tempfile
from pathlib import Path

import numpy as np
import gguf

TYPES = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"]
# Each method's options and inputs (b = base, a/c = the fine-tunes; SLERP interpolates the two).
METHODS = {
    "linear": (["--method", "linear", "--param", "weight=1"], ["a", "c"]),
    "slerp": (["--method", "slerp", "--param", "t=0.5", "--base"], ["a", "a", "c"]),
    "task_arithmetic": (["--method", "task_arithmetic", "--param", "weight=1", "--base"], ["b", "a", "c"]),
    "ties": (["--method", "ties", "--param", "density=0.5", "--param", "weight=1", "--base"], ["b", "a", "c"]),
}


def shapes():
    out = {"token_embd.weight": (512, 256), "output_norm.weight": (256,), "output.weight": (512, 256)}
    for i in range(2):
        for kind, shape in [("attn_norm", (256,)), ("attn_q", (256, 256)), ("attn_k", (128, 256)), ("attn_v", (128, 256)),
                            ("attn_output", (256, 256)), ("ffn_norm", (256,)), ("ffn_gate", (512, 256)),
                            ("ffn_up", (512, 256)), ("ffn_down", (256, 512))]:
            out[f"blk.{i}.{kind}.weight"] = shape  # numpy order: (rows, row length)
    return out


def base_weights(rng):
    weights = {}
    for name, shape in shapes().items():
        if len(shape) == 1:
            weights[name] = (1 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
            continue
        w = rng.standard_normal(shape) if "ffn_down" not in name else rng.standard_t(4, shape)
        weights[name] = (w * 0.02 * np.exp(0.3 * rng.standard_normal((shape[0], 1)))).astype(np.float32)
    return weights


def fine_tune(base, relative, rng):
    out = dict(base)
    for name, w in base.items():
        if w.ndim == 2:
            delta = rng.standard_normal(w.shape)
            out[name] = (w + delta * (relative * np.linalg.norm(w) / np.linalg.norm(delta))).astype(np.float32)
    return out


def write(path, weights):
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(2)
    writer.add_embedding_length(256)
    writer.add_feed_forward_length(512)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    for name, w in weights.items():
        writer.add_tensor(name, w)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def read(path):
    return {t.name: gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
            for t in gguf.GGUFReader(path).tensors if len(t.shape) == 2}


def run(tool, *args):
    result = subprocess.run([tool, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tool")
    parser.add_argument("--relative", type=float, default=0.15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = base_weights(rng)
    models = {"b": base, "a": fine_tune(base, args.relative, rng), "c": fine_tune(base, args.relative, rng)}
    work = Path(tempfile.mkdtemp(prefix="ggufmerge-qin-"))
    for name, weights in models.items():
        write(work / f"{name}-F32.gguf", weights)

    def merge(method, suffix):
        out = work / f"{method}-{suffix}.gguf"
        options, inputs = METHODS[method]
        run(args.tool, "merge", *options, *(work / f"{name}-{suffix}.gguf" for name in inputs),
            "--outtype", "F32", "-o", out, "--quiet", "--force")
        return read(out)

    reference = {method: merge(method, "F32") for method in METHODS}
    print(f"task vectors: {args.relative} of each weight's norm")
    print("| inputs | noise ratio (check) | " + " | ".join(METHODS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in METHODS) + " |")
    for qtype in TYPES:
        for name in models:
            run(args.tool, "quantize", work / f"{name}-F32.gguf", work / f"{name}-{qtype}.gguf", qtype)
        report = json.loads(run(args.tool, "check", "--json", "--base", work / f"b-{qtype}.gguf", work / f"a-{qtype}.gguf").stdout)
        ratio = report["models"][1]["task_vector_noise_ratio"]
        errors = []
        for method in METHODS:
            merged = merge(method, qtype)
            num = sum(float(np.sum((merged[k] - reference[method][k]) ** 2)) for k in merged)
            den = sum(float(np.sum(reference[method][k] ** 2)) for k in merged)
            change = sum(float(np.sum((reference[method][k] - base[k].astype(np.float64)) ** 2)) for k in merged)
            errors.append(f"{100 * (num / den) ** 0.5:.2f} % / {100 * (num / change) ** 0.5:.0f} %")
        print(f"| {qtype} | {ratio:.3g}× | " + " | ".join(errors) + " |")


if __name__ == "__main__":
    main()
