#!/usr/bin/env python3
"""llama.cpp run check: a merged, quantized model written by ggufmerge loads in llama.cpp
(llama-cpp-python) and gives the same logits as the same merge written in F32 and then quantized by
llama.cpp's own quantizer (llama_model_quantize).

Models: ../shared/reference/tiny-f32.gguf as the base — its tokenizer lists only 3 of its 512 tokens,
which llama.cpp refuses, so the vocabulary is padded here with plain tokens — and two fine-tune-like
children made here with gguf-py (base + sparse N(0, 0.02) deltas). Prints 'N passed, N failed'.
Also: the vocabulary merges of Fixtures/vocab (tokenizer_source union, a model, a tokens block) load in
llama.cpp, which tokenizes the added tokens (`<|im_start|>`, `<tool_call>`) as single tokens with the
ids the merged vocabulary gives them.
Usage: llama_run.py PATH_TO_GGUFMERGE
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import gguf
import llama_cpp

TOOL = sys.argv[1]
ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT.parent / "shared" / "reference" / "tiny-f32.gguf"
OUT = Path(tempfile.mkdtemp(prefix="ggufmerge-llama-"))
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    passed, failed = passed + bool(ok), failed + (not ok)
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))


def model(path: Path, seed=None) -> None:
    """The reference model with its vocabulary padded to the embedding's rows; with a seed, 30 % of
    each weight matrix's elements moved by N(0, 0.02)."""
    reader = gguf.GGUFReader(BASE)
    vocab = int(next(t for t in reader.tensors if t.name == "token_embd.weight").shape[1])
    padding = {"tokenizer.ggml.tokens": lambda i: f"<tok{i}>", "tokenizer.ggml.scores": lambda i: 0.0,
               "tokenizer.ggml.token_type": lambda i: 1}
    writer = gguf.GGUFWriter(path, reader.fields["general.architecture"].contents())
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            values = field.contents()
            if field.name in padding:
                values = values + [padding[field.name](i) for i in range(len(values), vocab)]
            writer.add_key_value(field.name, values, field.types[0], sub_type=field.types[-1])
        else:
            writer.add_key_value(field.name, field.contents(), field.types[0])
    rng = np.random.default_rng(seed)
    for t in reader.tensors:
        data = np.array(t.data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)])
        if data.ndim == 2 and seed is not None:
            data = data + (rng.random(data.shape) < 0.3) * rng.normal(0, 0.02, data.shape).astype(np.float32)
        writer.add_tensor(t.name, data.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def run(*args):
    result = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())


def logits(path: Path, tokens):
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=2)
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    del llm
    return scores


def vocabulary_checks():
    for config in ["union", "model", "tokens"]:
        path = OUT / f"vocab-{config}.gguf"
        run("merge", ROOT / "Fixtures/vocab" / f"{config}.yml", "-o", path, "--quiet")
        tokens = [bytes(part).decode() for part in
                  (lambda f: [f.parts[i] for i in f.data])(gguf.GGUFReader(path).fields["tokenizer.ggml.tokens"])]
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=64, verbose=False, n_threads=2)
        for added in ["<|im_start|>", "<tool_call>"]:
            ids = llm.tokenize(added.encode(), add_bos=False, special=True)
            check(f"{config}: llama.cpp tokenizes {added} as one token", ids == [tokens.index(added)], f"{ids}")
        prompt = llm.tokenize("<|im_start|>kalo miren<tool_call>".encode(), special=True)
        llm.eval(prompt)
        last = np.array(llm.scores[len(prompt) - 1])
        check(f"{config}: the merged model runs: logits finite", bool(np.isfinite(last).all()) and last.shape[0] == len(tokens))
        del llm


def main():
    vocabulary_checks()
    if not BASE.exists():
        print(f"{BASE} not found: the llama.cpp run check needs ../shared/reference beside the clone")
        print(f"llama.cpp run: {passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
    base, a, b = OUT / "base.gguf", OUT / "a.gguf", OUT / "b.gguf"
    model(base)
    model(a, 1)
    model(b, 2)
    merge = ["merge", "--method", "ties", "--param", "density=0.5", "--param", "weight=0.5", "--base", base, a, b, "--quiet"]
    ours, f32, theirs = OUT / "ties-Q4_K_M.gguf", OUT / "ties-F32.gguf", OUT / "ties-F32-llama-Q4_K_M.gguf"
    run(*merge, "--outtype", "Q4_K_M", "-o", ours)
    run(*merge, "--outtype", "F32", "-o", f32)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = 15  # LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = 2
    code = llama_cpp.llama_model_quantize(str(f32).encode(), str(theirs).encode(), params)
    check("llama_model_quantize of our F32 merge", code == 0, f"returned {code}")

    tokens = [1, 15, 42, 7, 300, 128, 5, 77, 411, 2]
    mine, reference, full = logits(ours, tokens), logits(theirs, tokens), logits(f32, tokens)
    check("ggufmerge Q4_K_M merge loads and runs: logits finite", bool(np.isfinite(mine).all()))
    diff = float(np.abs(mine - reference).max())
    check("logits equal llama.cpp's quantization of the same F32 merge (1e-3)", diff <= 1e-3, f"max |Δ| {diff:.2e}")
    mine_t = {t.name: t for t in gguf.GGUFReader(ours).tensors}
    same = all(t.name in mine_t and mine_t[t.name].tensor_type == t.tensor_type
               and np.array_equal(np.asarray(mine_t[t.name].data), np.asarray(t.data))
               for t in gguf.GGUFReader(theirs).tensors)
    check("our Q4_K_M tensors are byte-identical to llama.cpp's quantization of the F32 merge", same)
    check("the F32 merge loads and runs: logits finite", bool(np.isfinite(full).all()))
    print(f"llama.cpp run: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
