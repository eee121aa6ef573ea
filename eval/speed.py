"""The host's prompt-reading speed, measured once at the start of an eval run.

Latency depends on the host as much as on the product (the same 1.5B model reads prompts at
20-75 tokens/s on different 2-core machines), so every run records how fast this host reads
one fixed prompt through the run's own chat model. Latencies of two runs can then be compared as
a ratio of this speed.
"""

from __future__ import annotations

import time

# A fixed prompt of about 300 tokens (Japanese and English, like the eval's prompts). Never edit
# it: the figure is only comparable across runs while the prompt stays the same.
PROMPT = (
    "次の文章を読んで、最後の質問に一語で答えてください。\n"
    "ある地方都市の図書館は、昨年から開館時間を夜九時まで延長した。利用者の多くは仕事帰りの会社員や"
    "試験勉強をする学生で、平日の夜でも閲覧席の半分ほどが埋まっている。館長によると、延長にかかる人件費は"
    "市の予算で賄われており、来年度も同じ体制を続ける予定だという。一方で、古い建物の空調設備は更新が"
    "遅れており、夏の午後には室温が上がりすぎるという声も寄せられている。市は今後三年以内に設備を入れ替える"
    "計画を立てているが、具体的な時期はまだ決まっていない。\n"
    "The library also started a weekend reading programme for children. Volunteers read picture books "
    "aloud every Saturday morning, and the number of families taking part has grown steadily since the "
    "spring. Staff say the programme costs little, because the books come from the existing collection "
    "and the readers are unpaid, but they would like a quieter room for it in the renovated building.\n"
    "質問: 図書館は夜何時まで開いていますか？"
)


def prompt_reading_speed(chat_model) -> dict | None:
    """``{"prompt_tokens", "seconds", "tokens_per_s", "method"}`` for :data:`PROMPT` read with at most
    one token generated, or None when the model cannot be timed (a test double, a server error)."""
    try:
        context = getattr(chat_model, "context", None)  # the local llama-cpp model's (ChatLlamaCpp)
        if context is not None:
            llama = context.llama
            with context.lock:
                context.reset()  # nothing of an earlier prompt is reused
                llama.create_chat_completion([{"role": "user", "content": "こんにちは"}], max_tokens=1)  # warm-up
                context.reset()
                t0 = time.perf_counter()
                out = llama.create_chat_completion([{"role": "user", "content": PROMPT}], max_tokens=1,
                                                   temperature=0.0)
                seconds = time.perf_counter() - t0
                context.reset()
            tokens = int(out["usage"]["prompt_tokens"])
            method = "llama-cpp chat completion, max 1 token, no cached prefix"
        else:
            from langchain_core.messages import HumanMessage

            from chatbot.chunking import count_tokens

            t0 = time.perf_counter()
            for _ in chat_model.stream([HumanMessage(content=PROMPT)]):
                break  # the first token
            seconds = time.perf_counter() - t0
            tokens = count_tokens(PROMPT)
            method = "time to the first streamed chunk; tokens counted with cl100k (approximate)"
    except Exception as exc:  # noqa: BLE001 - a missing figure must not stop the eval
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"prompt_tokens": tokens, "seconds": round(seconds, 3),
            "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None, "method": method}
