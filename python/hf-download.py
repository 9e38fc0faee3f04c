"""
Downloads a Hugging Face model repository into the normal HF cache (where mlx_lm looks), with
huggingface_hub's own functions, reporting progress as JSON lines on stdout.

    python hf-download.py download <repo_id> [--revision main] [--workers 4] [--plan-only | --confirm]

With --confirm it waits, after the plan line, for a line `go` on stdin (anything else, or EOF,
ends it without fetching a byte): the caller checks the plan against the disk and memory first.

Why not a plain `snapshot_download`: huggingface_hub (2.x) downloads each file to a temporary
file named per process and deletes it when the download fails or is interrupted, so a second run
starts every file from byte 0. Here each file goes to a stable `blobs/<etag>.incomplete` (the name
older huggingface_hub versions used), which `http_get(resume_size=...)` continues with an HTTP Range
request; the snapshot's links are made only when every blob is complete, so an interrupted download
never looks like a usable model. Respects HF_HOME, HF_HUB_CACHE, HF_ENDPOINT and HF_TOKEN as the
library does.

Lines written (one JSON object each, `type` first):
  plan      {repo, revision, commit, totalBytes, presentBytes, files: [{name, size, present}]}
  file      {name, size, resumeFrom}                 a file starts (resumeFrom: bytes kept from before)
  progress  {doneBytes, totalBytes, file, fileDone, fileSize}   at most ~5 a second
  file-done {name}
  done      {path, commit, downloadedBytes}
  error     {code, message}                          then exit 1
  cancelled {}                                       SIGINT/SIGTERM, then exit 130
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

_out_lock = threading.Lock()


def emit(kind, **fields):
    line = json.dumps({"type": kind, **fields}, separators=(",", ":")) + "\n"
    with _out_lock:
        os.write(1, line.encode())


def fail(code, message):
    emit("error", code=code, message=message)
    sys.stdout.flush()
    os._exit(1)


def on_signal(signum, frame):
    # The partial blobs stay where they are: the next run resumes them.
    os.write(1, b'{"type":"cancelled"}\n')
    os._exit(130)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["download"])
    parser.add_argument("repo")
    parser.add_argument("--revision", default="main")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--plan-only", action="store_true")
    parser.add_argument("--confirm", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
        from huggingface_hub.file_download import http_get, repo_folder_name
        from huggingface_hub.utils import WeakFileLock, build_hf_headers
    except ImportError as error:
        fail("no-library", f"huggingface_hub is not importable in this venv: {error}")

    try:
        run(args, HfApi, constants, get_hf_file_metadata, hf_hub_download, hf_hub_url, http_get, repo_folder_name, WeakFileLock, build_hf_headers)
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable line
        code, message = describe(error, args.repo)
        fail(code, message)


def run(args, HfApi, constants, get_hf_file_metadata, hf_hub_download, hf_hub_url, http_get, repo_folder_name, WeakFileLock, build_hf_headers):
    repo = args.repo
    cache_dir = constants.HF_HUB_CACHE
    storage = os.path.join(cache_dir, repo_folder_name(repo_id=repo, repo_type="model"))
    blobs = os.path.join(storage, "blobs")
    locks = os.path.join(cache_dir, ".locks", repo_folder_name(repo_id=repo, repo_type="model"))

    info = HfApi().model_info(repo, revision=args.revision, files_metadata=True)
    commit = info.sha
    names = [s.rfilename for s in (info.siblings or [])]
    # Each file's etag (its blob's name) and final URL come from the same HEAD call hf_hub_download makes.
    files = []
    for name in names:
        meta = get_hf_file_metadata(hf_hub_url(repo, name, revision=commit))
        if meta.etag is None:
            raise RuntimeError(f"{name}: the server sent no ETag")
        size = meta.size
        if size is None:
            sibling = next(s for s in info.siblings if s.rfilename == name)
            size = sibling.lfs.size if sibling.lfs is not None else (sibling.size or 0)
        blob = os.path.join(blobs, meta.etag)
        partial = blob + ".incomplete"
        present = size if os.path.exists(blob) else (os.path.getsize(partial) if os.path.exists(partial) else 0)
        url = hf_hub_url(repo, name, revision=commit)
        if meta.xet_file_data is None and meta.location and meta.location != url:
            url = meta.location
        files.append({"name": name, "size": size, "etag": meta.etag, "blob": blob, "partial": partial, "present": min(present, size), "url": url})

    total = sum(f["size"] for f in files)
    emit(
        "plan",
        repo=repo,
        revision=args.revision,
        commit=commit,
        totalBytes=total,
        presentBytes=sum(f["present"] for f in files),
        files=[{"name": f["name"], "size": f["size"], "present": f["present"]} for f in files],
    )
    if args.plan_only:
        return
    if args.confirm and sys.stdin.readline().strip() != "go":
        emit("cancelled")
        return

    progress_lock = threading.Lock()
    done = {f["name"]: f["present"] for f in files}
    last_emit = [0.0]
    downloaded = [0]

    def report(name, size, force=False):
        now = time.monotonic()
        with progress_lock:
            if not force and now - last_emit[0] < 0.2:
                return
            last_emit[0] = now
            total_done = sum(done.values())
            file_done = done[name]
        emit("progress", doneBytes=total_done, totalBytes=total, file=name, fileDone=file_done, fileSize=size)

    def reporter_for(name, size):
        class Reporter:
            """Just enough of tqdm for http_get: it is built with total/initial and told each chunk."""

            def __init__(self, *a, initial=0, **kw):
                with progress_lock:
                    done[name] = initial

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def update(self, n=1):
                with progress_lock:
                    done[name] += n
                    downloaded[0] += n
                report(name, size)

            def close(self):
                pass

            def refresh(self, *a, **kw):
                pass

            def set_postfix_str(self, *a, **kw):
                pass

        return Reporter

    headers = build_hf_headers()

    def fetch(f):
        if os.path.exists(f["blob"]):
            return
        os.makedirs(blobs, exist_ok=True)
        os.makedirs(locks, exist_ok=True)
        with WeakFileLock(os.path.join(locks, f"{f['etag']}.lock")):
            if os.path.exists(f["blob"]):
                return
            resume = os.path.getsize(f["partial"]) if os.path.exists(f["partial"]) else 0
            if resume > f["size"]:
                os.remove(f["partial"])
                resume = 0
            emit("file", name=f["name"], size=f["size"], resumeFrom=resume)
            request_headers = dict(headers)
            if urlparse(f["url"]).netloc != urlparse(hf_hub_url(repo, f["name"])).netloc:
                request_headers.pop("authorization", None)
            with open(f["partial"], "ab") as handle:
                http_get(f["url"], handle, resume_size=resume, headers=request_headers, expected_size=f["size"], tqdm_class=reporter_for(f["name"], f["size"]))
            os.replace(f["partial"], f["blob"])
        with progress_lock:
            done[f["name"]] = f["size"]
        report(f["name"], f["size"], force=True)
        emit("file-done", name=f["name"])

    # Small files first: the config and tokenizer are done early, the weights share the bandwidth.
    pending = sorted(files, key=lambda f: f["size"])
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        for future in [pool.submit(fetch, f) for f in pending]:
            future.result()

    # Every blob is here: hf_hub_download now only links the snapshot and records refs/<revision>.
    for f in files:
        hf_hub_download(repo, f["name"], revision=args.revision)
    emit("done", path=os.path.join(storage, "snapshots", commit), commit=commit, downloadedBytes=downloaded[0])


def describe(error, repo):
    name = type(error).__name__
    text = str(error).strip().splitlines()[0] if str(error).strip() else name
    if name == "GatedRepoError":
        return "gated", f"{repo} is gated: accept its terms on huggingface.co and set HF_TOKEN ({text})"
    if name == "RepositoryNotFoundError":
        return "not-found", f"no repository {repo} on the Hub, or it is private (set HF_TOKEN for private ones)"
    if name == "RevisionNotFoundError":
        return "revision", f"{repo} has no such revision ({text})"
    if isinstance(error, OSError) and getattr(error, "errno", None) == 28:
        return "disk", f"the disk is full: {text}"
    if name in ("ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutException", "RemoteProtocolError", "LocalEntryNotFoundError", "OfflineModeIsEnabled", "ProxyError"):
        return "network", f"cannot reach the Hub ({name}: {text})"
    return "failed", f"{name}: {text}"


if __name__ == "__main__":
    main()
