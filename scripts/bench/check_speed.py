#!/usr/bin/env python3
"""Times `ggufmerge check` on the 8b-vocab benchmark shape (Llama-3-8B widths: hidden 4096, ffn 14336,
32/8 heads, vocabulary 128256; 2 layers): a base and a fine-tune in F16 (random rows tiled from one
64 MiB block, so writing them is disk-bound), then `check --base` on them, cold and warm.

Usage: check_speed.py PATH_TO_GGUFMERGE [DIR]   (needs gguf and numpy; writes ~6 GB to DIR)
"""
import subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
import gguf

HIDDEN, FFN, VOCAB, LAYERS, HEADS, KV = 4096, 14336, 128256, 2, 32, 8


def shapes():
    kv = HIDDEN * KV // HEADS
    out = [("token_embd.weight", (VOCAB, HIDDEN)), ("output_norm.weight", (HIDDEN,)), ("output.weight", (VOCAB, HIDDEN))]
    for i in range(LAYERS):
        out += [(f"blk.{i}.attn_norm.weight", (HIDDEN,)), (f"blk.{i}.attn_q.weight", (HIDDEN, HIDDEN)),
                (f"blk.{i}.attn_k.weight", (kv, HIDDEN)), (f"blk.{i}.attn_v.weight", (kv, HIDDEN)),
                (f"blk.{i}.attn_output.weight", (HIDDEN, HIDDEN)), (f"blk.{i}.ffn_norm.weight", (HIDDEN,)),
                (f"blk.{i}.ffn_gate.weight", (FFN, HIDDEN)), (f"blk.{i}.ffn_up.weight", (FFN, HIDDEN)),
                (f"blk.{i}.ffn_down.weight", (HIDDEN, FFN))]
    return out


def write(path: Path, block: np.ndarray) -> None:
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(LAYERS)
    writer.add_embedding_length(HIDDEN)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV)
    for name, shape in shapes():
        dtype = np.float32 if len(shape) == 1 else np.float16
        writer.add_tensor_info(name, shape, np.dtype(dtype), int(np.prod(shape)) * np.dtype(dtype).itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for name, shape in shapes():
        count = int(np.prod(shape))
        if len(shape) == 1:
            data = np.ones(shape, dtype=np.float32)
        else:
            data = np.resize(block, count).reshape(shape)
        writer.write_tensor_data(data)
    writer.close()


def main():
    tool = sys.argv[1]
    work = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="ggufmerge-check-speed-"))
    rng = np.random.default_rng(0)
    block = (rng.standard_normal(32 << 20) * 0.02).astype(np.float16)
    base, ft = work / "base.gguf", work / "ft.gguf"
    if not base.exists():
        write(base, block)
        write(ft, (block.astype(np.float32) + rng.standard_normal(block.size).astype(np.float32) * 0.002).astype(np.float16))
    for label in ("first run", "second run"):
        start = time.perf_counter()
        result = subprocess.run([tool, "check", "--base", str(base), str(ft)], capture_output=True, text=True)
        print(f"check {label}: {time.perf_counter() - start:.2f} s (exit {result.returncode})")
    print(result.stdout)


if __name__ == "__main__":
    main()
