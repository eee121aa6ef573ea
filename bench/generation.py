"""Generation through ``Chatbot.stream`` against raw llama-cpp-python on the same prompt,
time to first token (cold and with the system prompt already in the KV cache), and how the
source budget moves time to first token."""

from __future__ import annotations

from pathlib import Path

from chatbot import Chatbot, Settings
from chatbot.chain import Answer

from .stats import median, stopwatch

# Typical questions a reader asks about the shipped corpus (not eval-set questions).
QUESTIONS = [
    "OpenAIはなぜNVIDIAを選んだのですか？",
    "OpenAIとAWSの契約の規模はどれくらいですか？",
    "マイクロソフトのナデラCEOは何と述べましたか？",
]


def _rate(tokens: int, first: float, total: float) -> float:
    """Decode speed: tokens after the first one over the time after the first one."""
    return (tokens - 1) / (total - first) if tokens > 1 and total > first else float("nan")


def through_chatbot(bot: Chatbot, question: str) -> dict:
    """Time one answer through the public streaming API."""
    with stopwatch() as t:
        first = last = None
        for event in bot.stream(question):
            if isinstance(event, str):
                first = first if first is not None else t()
                last = t()
            if isinstance(event, Answer):
                answer = event
        total = t()
    tokens = bot.chat_model.count_tokens(answer.raw) if answer.raw else 0
    # Decode speed ends at the last token; the citation checks after it are timed apart.
    return {"first_token_s": first, "last_token_s": last, "total_s": total, "tokens": tokens,
            "decode_tokens_per_s": _rate(tokens, first or 0, last or 0),
            "retrieve_s": answer.timings.get("retrieve_s"), "check_s": total - (last or total),
            "refused": answer.refused}


def raw_llama(bot: Chatbot, messages: list[dict]) -> dict:
    """The same chat prompt straight into ``llama_cpp.Llama.create_chat_completion``."""
    model = bot.chat_model
    parts = []
    with stopwatch() as t:
        first = None
        for part in model.llama.create_chat_completion(messages, stream=True, max_tokens=model.max_tokens,
                                                       temperature=model.temperature, seed=0):
            delta = part["choices"][0]["delta"].get("content")
            if delta:
                first = first if first is not None else t()
                parts.append(delta)
        total = t()
    tokens = model.count_tokens("".join(parts).strip())
    return {"first_token_s": first, "total_s": total, "tokens": tokens,
            "decode_tokens_per_s": _rate(tokens, first or 0, total)}


def prompt_tokens(bot: Chatbot, messages: list[dict]) -> int:
    return len(bot.chat_model.llama.tokenize(
        "".join(m["content"] for m in messages).encode("utf-8"), add_bos=False))


def generation(data_dir: Path, corpus_dir: Path, budgets: list[int]) -> dict:
    """Per question: ``Chatbot.stream`` and raw llama-cpp-python on the same prompt, each from an
    empty KV cache (decode-speed ratio, cold first token). Then the questions again, each right
    after a different one, so only the fixed system prompt is reused from the KV cache (warm
    first token), at the default source budget and at each of ``budgets``."""
    bot = Chatbot(Settings(data_dir=data_dir, corpus_dir=corpus_dir))
    bot.ingest()
    llama = bot.chat_model.llama  # load before timing
    rows = []
    for q in QUESTIONS:
        messages = bot.chat_model._messages(bot.chain.prepare.invoke({"question": q, "history": None})["messages"])
        llama.reset()
        ours = through_chatbot(bot, q)
        llama.reset()
        raw = raw_llama(bot, messages)
        rows.append({"question": q, "prompt_tokens": prompt_tokens(bot, messages), "chatbot": ours, "raw": raw})
    ratio = median([r["chatbot"]["decode_tokens_per_s"] / r["raw"]["decode_tokens_per_s"] for r in rows])

    default_budget = bot.settings.context_tokens
    by_budget = []
    for budget in [default_budget] + [b for b in budgets if b != default_budget]:
        bot.settings.context_tokens = budget
        runs = [through_chatbot(bot, q) for q in QUESTIONS]  # each follows a different question
        by_budget.append({"context_tokens": budget, "first_token_s": median([r["first_token_s"] for r in runs]),
                          "runs": runs})
    bot.settings.context_tokens = default_budget
    return {
        "model": bot.settings.llm_model, "decode_ratio": ratio,
        "chatbot_decode_tokens_per_s": median([r["chatbot"]["decode_tokens_per_s"] for r in rows]),
        "raw_decode_tokens_per_s": median([r["raw"]["decode_tokens_per_s"] for r in rows]),
        "check_s": median([r["chatbot"]["check_s"] for r in rows]),
        "cold_first_token_s": median([r["chatbot"]["first_token_s"] for r in rows]),
        "raw_cold_first_token_s": median([r["raw"]["first_token_s"] for r in rows]),
        "warm_first_token_s": by_budget[0]["first_token_s"],
        "prompt_tokens": median([r["prompt_tokens"] for r in rows]),
        "first_token_by_budget": sorted(by_budget, key=lambda b: b["context_tokens"]), "rows": rows,
    }
