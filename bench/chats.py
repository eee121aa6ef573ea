"""Concurrent chats: 1, 2 and 4 users asking at once, with the chat model in-process
(``llamacpp``: one model behind a lock) and in llama.cpp's server with parallel slots
(``llama-server``), in one run on the same questions.

Each user is a thread asking every one of the same answerable dev questions (over the project
corpus, never the test set), each user starting at another one, one after the other through
``Chatbot.stream``; all users share one ``Chatbot`` as the web chat does, so every round has the
same mix of work. Throughput is answers completed per minute of wall time; first token is the
model's first token of each answer (``Answer.timings['model_first_token_s']``; the verbatim quote
streams before it). Every round starts cold in both modes: the in-process model's KV cache is
reset and the server is restarted (its prompt cache would otherwise answer a repeated
question's prompt from memory).
"""

from __future__ import annotations

import threading
from pathlib import Path

from chatbot import Chatbot, Settings
from chatbot.chain import Answer
from chatbot.llama_server import chat_model, stop_server

from .corpus import dev_questions
from .stats import median, pct, stopwatch

ANSWERED = ["d010", "d023", "d094"]  # answerable Japanese dev questions (as in bench.generation)


def _ask(bot: Chatbot, question: str) -> dict:
    with stopwatch() as t:
        answer = next(e for e in bot.stream(question) if isinstance(e, Answer))
    return {"question": question, "total_s": t(), "model_first_token_s": answer.timings.get("model_first_token_s"),
            "refused": answer.refused, "answer_chars": len(answer.raw or "")}


def round_of(bot: Chatbot, users: int, questions: list[str], per_user: int) -> dict:
    """``users`` threads, each asking ``per_user`` questions in turn; wall time and every answer."""
    rows: list[dict] = []
    errors: list[BaseException] = []

    def user(i: int) -> None:
        try:
            for k in range(per_user):
                rows.append(_ask(bot, questions[(i + k) % len(questions)]))
        except BaseException as exc:  # reported after the round
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    with stopwatch() as wall:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    firsts = [r["model_first_token_s"] for r in rows if r["model_first_token_s"] is not None]
    return {"users": users, "answers": len(rows), "wall_s": wall(), "answers_per_min": 60 * len(rows) / wall(),
            "first_token_p50_s": pct(firsts, 50), "first_token_p95_s": pct(firsts, 95),
            "total_p50_s": median([r["total_s"] for r in rows]), "rows": rows}


def chats(data_dir: Path, corpus_dir: Path, users: list[int], per_user: int | None = None, repeats: int = 2,
          parallel: int = 4, model: str | None = None) -> dict:
    """Each mode (in-process, server) at each number of users, ``repeats`` times (the spread of a
    shared machine shows in the repeats); ``per_user`` questions each (default: all of them)."""
    questions = [q["question"] for q in dev_questions(ANSWERED)]
    per_user = per_user or len(questions)
    base = Settings(data_dir=data_dir, corpus_dir=corpus_dir, **({"llm_model": model} if model else {}))
    server = base.model_copy(update={"llm_backend": "llama-server", "llm_parallel": parallel})
    local = Chatbot(base)
    local.ingest()
    _ask(local, questions[0])  # loads both models once

    def cold(mode: str) -> Chatbot:
        """The shared bot with nothing cached from an earlier round."""
        if mode == "in-process":
            local.chat_model.context.reset()
            return local
        stop_server(server)
        return Chatbot(server, embeddings=local.embeddings, chat_model=chat_model(server))

    out: dict = {"model": base.llm_model, "parallel": parallel, "per_user": per_user, "repeats": repeats, "modes": {}}
    try:
        for mode in ("in-process", "server"):
            out["modes"][mode] = [round_of(cold(mode), n, questions, per_user) for _ in range(repeats) for n in users]
    finally:
        stop_server(server)
    summary = {}
    today = median([r["answers_per_min"] for r in out["modes"]["in-process"] if r["users"] == 1])
    for mode, runs in out["modes"].items():
        one = median([r["answers_per_min"] for r in runs if r["users"] == 1])
        for n in users:
            mine = [r for r in runs if r["users"] == n]
            summary[f"{mode}/{n}"] = {
                "answers_per_min": [r["answers_per_min"] for r in mine],
                "throughput_vs_1_user": median([r["answers_per_min"] for r in mine]) / one,
                "throughput_vs_in_process_1_user": median([r["answers_per_min"] for r in mine]) / today,
                "first_token_p50_s": median([r["first_token_p50_s"] for r in mine]),
                "first_token_p95_s": median([r["first_token_p95_s"] for r in mine])}
    out["summary"] = summary
    return out
