"""``python -m eval [--split test|dev|news-test|news-dev]`` (answer evaluation of one split of eval/splits.py,
the default), ``python -m eval check``, ``python -m eval jsquad`` (JSQuAD retrieval and answer containment) and
the retrieval experiments behind the README's tables."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from .splits import SPLITS

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        argv = ["answers", *argv]
    parser = argparse.ArgumentParser(prog="python -m eval")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("answers", help="answer accuracy, citations, refusals and latency (default)")
    p.add_argument("--backend", help="LLM backend (default: CHATBOT_LLM_BACKEND)")
    p.add_argument("--model", help="LLM model (default: CHATBOT_LLM_MODEL)")
    p.add_argument("--split", choices=tuple(SPLITS), default="test",
                   help="test: eval/questions.jsonl (report only, never tune on it); dev: eval/dev.jsonl; "
                   "news-test (report only) / news-dev: eval/news/*.jsonl over the fictional eval/news/articles")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--types", help="comma-separated question types to run")
    p.add_argument("--ids", help="comma-separated question ids to run (e.g. q001,q002)")
    p.add_argument("--judge", action="store_true",
                   help="add an LLM-as-judge score (needs EVAL_JUDGE_BASE_URL and EVAL_JUDGE_MODEL)")
    p.add_argument("--results", type=Path, default=None,
                   help="folder for the JSON, report and plot (default: eval/results/<split>)")
    p = sub.add_parser("jsquad", help="open-retrieval benchmark on JSQuAD")
    p.add_argument("--path", type=Path, default=None, help="valid-v1.3.json (default: ../shared/data/jsquad)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument("--modes", default="bm25,dense,hybrid", help="retrieval modes (empty: skip retrieval)")
    p.add_argument("--keyword-indexes", default="",
                   help="other keyword engines to measure in the same run, e.g. tantivy,memory (CHATBOT_KEYWORD_INDEX)")
    p.add_argument("--answers", type=int, default=0, metavar="N",
                   help="also answer a seeded random sample of N questions with the LLM, and score the quote "
                   "floor on them (make eval-jsquad uses 100)")
    p.add_argument("--unanswerable", type=int, default=0, metavar="N",
                   help="also ask N other questions with their own paragraph left out of the index; the right "
                   "answer is a refusal (make eval-jsquad uses 100)")
    p.add_argument("--seed", type=int, default=None, help="seed of both samples (default: eval.jsquad.SEED = 0)")
    p.add_argument("--model", help="LLM model for --answers/--unanswerable (default: CHATBOT_LLM_MODEL)")
    p.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON files (default: eval/results)")
    p = sub.add_parser("tokenizers", help="BM25 on JSQuAD with fugashi vs Sudachi tokenizers")
    p.add_argument("--path", type=Path, default=None)
    sub.add_parser("transliteration", help="names of English translations found in their Japanese originals "
                   "(the threshold of chatbot/transliteration.py)")
    p = sub.add_parser("corpus-retrieval", help="evidence hit@k of one split's questions with the current settings")
    p.add_argument("--split", choices=tuple(SPLITS), default="test")
    p = sub.add_parser("fusion-sweep", help="score fusion settings on JSQuAD from cached candidates")
    p.add_argument("--path", type=Path, default=None)
    p = sub.add_parser("question-terms", help="false refusals of the question-terms rule on JSQuAD")
    p.add_argument("--path", type=Path, default=None)
    p.add_argument("--limit", type=int, default=None)
    p = sub.add_parser("quote-subjects", help="answering sentences of held-out JSQuAD that fail the gate's lead test")
    p.add_argument("--path", type=Path, default=None)
    p.add_argument("--part", choices=("held-out", "training"), default="held-out")
    p = sub.add_parser("threshold", help="the answerability threshold applied offline to a stored run (see eval/threshold.py)")
    p.add_argument("run", type=Path, help="a run's JSON, or a JSQuAD results folder, made with CHATBOT_MIN_CONFIDENCE=0")
    p.add_argument("--thresholds", default="0,0.1,0.2,0.25,0.3,0.35,0.4,0.5,0.6,0.7")
    p.add_argument("--write", type=float, default=None, help="also write the run at this threshold")
    p = sub.add_parser("train-ranker", help="learn the evidence-sentence ranker (chatbot/data/ranker.json) on the "
                       "JSQuAD training paragraphs and the dev split(s); see eval/train_ranker.py")
    p.add_argument("--path", type=Path, default=None, help="JSQuAD valid-v1.3.json (default: ../shared/data/jsquad)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jsquad-train", type=int, default=2000, help="JSQuAD training questions sampled")
    p.add_argument("--jsquad-heldout", type=int, default=600, help="JSQuAD held-out questions sampled (report only)")
    p.add_argument("--english", type=int, nargs=2, default=None, metavar=("TRAIN", "HELDOUT"),
                   help="of those, how many are also asked in English (the local model translates them; "
                   "default: eval.train_ranker.N_ENGLISH)")
    p.add_argument("--out", type=Path, default=None, help="where to write the weights (default: chatbot/data/ranker.json)")
    p.add_argument("--compare", action="store_true", help="also fit the alternatives (linear models, fewer rounds)")
    p.add_argument("--refresh", action="store_true", help="recompute the cached candidate features")
    p = sub.add_parser("train-answerability", help="learn the calibrated answerability (chatbot/data/answerability.json) "
                       "and choose CHATBOT_MIN_CONFIDENCE on dev; see eval/train_answerability.py")
    p.add_argument("--path", type=Path, default=None, help="JSQuAD valid-v1.3.json (default: ../shared/data/jsquad)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--answerable", type=int, default=200, help="JSQuAD training questions asked over every paragraph")
    p.add_argument("--gold-removed", type=int, default=200, help="JSQuAD training questions asked without their paragraph")
    p.add_argument("--refresh", action="store_true", help="recompute the cached rows (needs the local model)")
    p = sub.add_parser("check", help="validate every split against the schema and its articles (corpus/, "
                       "eval/news/articles), and dev questions against test questions")
    p.add_argument("--test", type=Path, default=None, help="test questions (default: eval/questions.jsonl)")
    p.add_argument("--dev", type=Path, default=None, help="dev questions (default: eval/dev.jsonl)")
    args = parser.parse_args(argv)

    if args.command == "threshold":
        from .threshold import run as threshold_run

        return threshold_run(args.run, [float(t) for t in args.thresholds.split(",")], args.write)
    if args.command == "train-ranker":
        from .jsquad import DEFAULT_PATH
        from .train_ranker import N_ENGLISH, OUT, run as train

        summary = train(jsquad=args.path or DEFAULT_PATH, n_train=args.jsquad_train, n_heldout=args.jsquad_heldout,
                        seed=args.seed, out=args.out or OUT, compare=args.compare, refresh=args.refresh,
                        n_english=tuple(args.english or N_ENGLISH))
        print(json.dumps(summary["results"], indent=1))
        return 0
    if args.command == "train-answerability":
        from .jsquad import DEFAULT_PATH
        from .train_answerability import run as train_answerability

        summary = train_answerability(jsquad=args.path or DEFAULT_PATH, n_answerable=args.answerable,
                                      n_removed=args.gold_removed, seed=args.seed, refresh=args.refresh)
        print(json.dumps({k: summary[k] for k in ("usable", "code_refusals_of_answerable", "threshold")}, indent=1))
        return 0
    if args.command == "answers":
        return run_answers(args)
    if args.command == "jsquad":
        from .jsquad import DEFAULT_PATH, SEED, run_answers as jsquad_answers, run_retrieval
        from .jsquad import run_unanswerable, tradeoff_table

        args.results.mkdir(parents=True, exist_ok=True)
        if args.modes:
            result = run_retrieval(args.path or DEFAULT_PATH, limit=args.limit, modes=args.modes.split(","),
                                   keyword_indexes=[e for e in args.keyword_indexes.split(",") if e])
            result["date"] = _now()
            out = args.results / "jsquad-retrieval.json"
            out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            print(json.dumps(result["modes"], indent=2))
            print(f"wrote {out}", file=sys.stderr)
        ends = {}  # answers / unanswerable: each written as soon as it is done
        if args.answers or args.unanswerable:
            from chatbot import Chatbot, Settings

            shared = Chatbot(Settings(**({"llm_model": args.model} if args.model else {})))
            seed = SEED if args.seed is None else args.seed
        for name, n, evaluate in (("answers", args.answers, jsquad_answers),
                                  ("unanswerable", args.unanswerable, run_unanswerable)):
            if n:
                result = evaluate(args.path or DEFAULT_PATH, n, model=args.model, seed=seed, shared=shared)
                result["date"] = _now()
                out = args.results / f"jsquad-{name}.json"
                out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
                print(f"wrote {out}", file=sys.stderr)
                ends[name] = result
        if ends:
            print(tradeoff_table(ends.get("answers"), ends.get("unanswerable")))
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
    elif args.command == "question-terms":
        from .jsquad import DEFAULT_PATH
        from .terms import run

        result = run(args.path or DEFAULT_PATH, args.limit)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "jsquad-question-terms.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({k: v for k, v in result.items() if k != "examples"}, indent=2))
    elif args.command == "quote-subjects":
        from .jsquad import DEFAULT_PATH
        from .quote_subjects import run

        result = run(args.path or DEFAULT_PATH, part=args.part)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"jsquad-quote-subjects-{args.part}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({k: v for k, v in result.items() if k != "examples"}, indent=2))
    elif args.command == "transliteration":
        from .transliteration import run

        result = run()
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "transliteration.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print(json.dumps(result, ensure_ascii=False, indent=1))
    elif args.command == "corpus-retrieval":
        from chatbot import Settings

        from .corpus_retrieval import evaluate, load_questions

        split = SPLITS[args.split]
        print(json.dumps(evaluate(split.bot(Settings()), load_questions(split.questions)), indent=2))
    elif args.command == "check":
        from .check import DEV_SET, EVAL_SET, check_all

        problems, notes = check_all(args.test or EVAL_SET, args.dev or DEV_SET)
        for p in [*notes, *problems]:
            print(p)
        print(f"{len(problems)} problems")
        return 1 if problems else 0
    return 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _judge():
    """An LLM-as-judge on an OpenAI-compatible server: 1.0 if the answer agrees with the reference."""
    base_url, model = os.environ.get("EVAL_JUDGE_BASE_URL"), os.environ.get("EVAL_JUDGE_MODEL")
    if not base_url or not model:
        raise SystemExit("--judge needs EVAL_JUDGE_BASE_URL and EVAL_JUDGE_MODEL (an OpenAI-compatible server)")
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=base_url, model=model, api_key=os.environ.get("EVAL_JUDGE_API_KEY", "none"),
                     temperature=0)

    def judge(q: dict, answer: dict) -> float:
        if q["type"] == "unanswerable":
            return 1.0 if answer["refused"] else 0.0
        reply = llm.invoke(
            "Does the ANSWER state the same facts as the REFERENCE for the QUESTION? Reply YES or NO.\n"
            f"QUESTION: {q['question']}\nREFERENCE: {q['reference_answer']}\nANSWER: {answer['answer']}").content
        return 1.0 if "YES" in reply.upper() else 0.0
    return judge


def run_answers(args: argparse.Namespace) -> int:
    """``python -m eval [--split dev|test]``: see eval/answers.py."""
    from .answers import run_eval

    return run_eval(args, judge=_judge() if args.judge else None)


if __name__ == "__main__":
    sys.exit(main())
