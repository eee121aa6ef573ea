"""``python -m eval jsquad`` (retrieval benchmark) and ``python -m eval tokenizers`` (BM25 tokenizer comparison)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("jsquad", help="open-retrieval benchmark on JSQuAD")
    p.add_argument("--path", type=Path, default=None, help="valid-v1.3.json (default: ../shared/data/jsquad)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument("--modes", default="bm25,dense,hybrid")
    p = sub.add_parser("tokenizers", help="BM25 on JSQuAD with fugashi vs Sudachi tokenizers")
    p.add_argument("--path", type=Path, default=None)
    sub.add_parser("corpus-retrieval", help="evidence hit@k on eval/questions.jsonl with the current settings")
    p = sub.add_parser("fusion-sweep", help="score fusion settings on JSQuAD from cached candidates")
    p.add_argument("--path", type=Path, default=None)
    sub.add_parser("check", help="validate eval/questions.jsonl against the schema and corpus/")
    args = parser.parse_args(argv)

    if args.command == "jsquad":
        from .jsquad import DEFAULT_PATH, run_retrieval

        result = run_retrieval(args.path or DEFAULT_PATH, limit=args.limit, modes=args.modes.split(","))
        result["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / "jsquad-retrieval.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result["modes"], indent=2))
        print(f"wrote {out}", file=sys.stderr)
    elif args.command == "tokenizers":
        from .jsquad import DEFAULT_PATH
        from .tokenizers import run

        result = run(args.path or DEFAULT_PATH)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "jsquad-tokenizers.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif args.command == "fusion-sweep":
        from .fusion import sweep
        from .jsquad import DEFAULT_PATH

        rows = sweep(args.path or DEFAULT_PATH)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "jsquad-fusion-sweep.json").write_text(json.dumps(rows, indent=2) + "\n")
    elif args.command == "corpus-retrieval":
        from chatbot import Chatbot

        from .corpus_retrieval import evaluate, load_questions

        bot = Chatbot()
        bot.ingest(Path(__file__).resolve().parent.parent / "corpus")
        print(json.dumps(evaluate(bot, load_questions()), indent=2))
    elif args.command == "check":
        from .check import check

        problems = check()
        for p in problems:
            print(p)
        print(f"{len(problems)} problems")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
