"""``python -m eval jsquad``: JSQuAD retrieval benchmark (more subcommands in eval/README.md)."""

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
