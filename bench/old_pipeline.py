"""The 11-25 answer pipeline (commit a31d87c) rebuilt for the benchmark, up to its first token.

The old chain put whole passages (best first, within ``context_tokens=800``, cut to their best
sentences only when one did not fit: :mod:`bench.old_context`) into the old answer prompt and
streamed the model's reply. Its prompt templates are copied below verbatim from
``chatbot/prompts/{ja,en}.yaml`` at a31d87c, as data (nothing is read from git at run time).

Kept from the old chain: the prompts follow the language the *sources* are written in, so an
English question over Japanese articles is first translated by the model (one short call with
the old translation prompt) and then answered in Japanese. In the old product that Japanese
draft was then translated back and only the back-translation was streamed, so for such questions
the user's first token came even later than the draft's first token measured here: the old
figure is a lower bound there. Left out (they decide whether the model is asked at all, not how
fast it answers): the relevance and question-terms refusals, and the follow-up rewrite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from chatbot.chunking import count_tokens
from chatbot.retrieval import SearchResult

from .old_context import Source, select_sources

CONTEXT_TOKENS = 800  # the old Settings.context_tokens default
MAX_TOKENS = 400  # the old Settings.llm_max_tokens default
TOP_K = 5

# chatbot/prompts/{ja,en}.yaml at a31d87c: the answer and translation templates, verbatim.
PROMPTS: dict[str, dict[str, str]] = {
    "ja": {
        "system": (
            "あなたはニュース記事についての質問に答えるアシスタントです。次のルールを守ってください。\n"
            "- 【資料】に書かれている内容だけを使い、日本語で簡潔に答える。資料にない知識や推測は書かない。\n"
            "- 各文の最後に、根拠にした資料の番号を [1] のように付ける。\n"
            "- 数字・金額・日付・固有名詞は資料の表記どおりに書く。\n"
            "- 資料に答えがないときは「{refusal}」とだけ答える。"),
        "user": (
            "【資料】\n"
            "{sources}\n"
            "\n"
            "【質問】{question}\n"
            "（資料に書かれていることだけを使い、答えの各文の最後に根拠の資料番号を[1]のように付けてください）"),
        "source": "[{n}] {title}{byline}\n{text}",
        "byline": "（{byline}）",
        "refusal": "提供された記事には、この質問に答える情報が見つかりませんでした。",
        "translate": (
            "次の文章を自然な日本語に翻訳してください。[1] のような番号は同じ位置に残し、翻訳だけを出力してください。\n"
            "\n"
            "{text}"),
    },
    "en": {
        "system": (
            "You answer questions about news articles. Follow these rules.\n"
            "- Use only what the numbered SOURCES say (they may be in Japanese) and answer briefly in English. "
            "No outside knowledge, no guesses.\n"
            "- End every sentence with the number of the source it comes from, like [1].\n"
            "- Give numbers, amounts, dates and names exactly as the sources state them.\n"
            "- If the sources do not answer the question, reply only: \"{refusal}\""),
        "user": (
            "SOURCES\n"
            "{sources}\n"
            "\n"
            "QUESTION: {question}\n"
            "(Answer in English using only what the sources say, and end each sentence with its source number, "
            "like [1].)"),
        "source": "[{n}] {title}{byline}\n{text}",
        "byline": " ({byline})",
        "refusal": "The provided articles do not contain information that answers this question.",
        "translate": (
            "Translate the following text into natural English. Keep markers such as [1] in the same places, "
            "and output only the translation.\n"
            "\n"
            "{text}"),
    },
}

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def detect_language(text: str) -> str:
    """The old question-language rule: ``"ja"`` when the text contains kana or kanji."""
    return "ja" if _JAPANESE.search(text) else "en"


def text_language(text: str) -> str:
    """The old sources-language rule: ``"ja"`` when kana and kanji are at least a third of the letters."""
    japanese = len(_JAPANESE.findall(text))
    letters = japanese + sum(ch.isascii() and ch.isalpha() for ch in text)
    return "ja" if letters and japanese / letters >= 1 / 3 else "en"


def source_budget(question: str, llm_context: int) -> int:
    """The old ``AnswerChain._source_budget``: the setting, capped by what fits in the context."""
    fixed = 300 + count_tokens(question) + MAX_TOKENS
    return max(64, min(CONTEXT_TOKENS, llm_context - fixed))


def format_source(language: str, s: Source) -> str:
    p = PROMPTS[language]
    r = s.result
    return p["source"].format(n=s.n, title=r.title or "(untitled)", text=s.excerpt,
                              byline=p["byline"].format(byline=r.byline) if r.byline else "")


def answer_messages(language: str, sources: list[Source], question: str) -> list[dict]:
    """The old answer prompt (``PromptSet.answer_prompt``) as chat messages."""
    p = PROMPTS[language]
    return [{"role": "system", "content": p["system"].replace("{refusal}", p["refusal"])},
            {"role": "user", "content": p["user"].format(
                sources="\n\n".join(format_source(language, s) for s in sources), question=question)}]


def translate_messages(language: str, text: str) -> list[dict]:
    """The old translation prompt: ``text`` into ``language``, keeping [n] markers."""
    return [{"role": "user", "content": PROMPTS[language]["translate"].format(text=text)}]


def clean_translation(reply: str, original: str) -> str:
    """The old ``_translate_question`` post-processing: first line, quotes stripped, sane length."""
    reply = reply.strip()
    reply = reply.splitlines()[0].strip(" 「」\"'") if reply else ""
    return reply if reply and len(reply) <= 3 * len(original) + 20 else original


@dataclass
class OldPrompt:
    """What the old chain would have put to the model for one question."""

    question_language: str
    answer_language: str  # the sources' language: the old prompts' language
    sources: list[Source]
    source_tokens: int  # tiktoken tokens of the excerpts (the budget's unit)
    needs_translation: bool  # the question is asked in another language than the sources'

    def messages(self, asked: str) -> list[dict]:
        return answer_messages(self.answer_language, self.sources, asked)


def prepare(question: str, results: list[SearchResult], query_vector: np.ndarray,
            vectors: Callable[[list[str]], np.ndarray], llm_context: int) -> OldPrompt:
    """Sources and prompt language for ``question`` (the old ``prepare`` pipeline, no history)."""
    sources = select_sources(question, results, source_budget(question, llm_context), query_vector, vectors)
    language = detect_language(question)
    answer_language = text_language(" ".join(s.excerpt for s in sources)) if sources else language
    return OldPrompt(language, answer_language, sources, sum(count_tokens(s.excerpt) for s in sources),
                     answer_language != language)
