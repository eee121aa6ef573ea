"""Prompts as data: one YAML file per language in ``chatbot/prompts/``.

Each file holds the evidence prompt (fixed system text, the numbered evidence grouped by
article, the question and the yes/no answerability question), the answer turn that follows a
"yes", the label of the verbatim quote that leads every answer, the condense (follow-up
rewrite) prompt, the question's translation (for articles in the other language), the
follow-up fallback, the refusal
messages and the phrases by which a model says the evidence does not hold the answer.

The system text never changes and the evidence comes before the question, so llama.cpp reuses
the KV cache of the shared prefix: the answer turn extends the decision prompt and re-reads
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate

from .text import nfkc

LANGUAGES = ("ja", "en")


# Article text is data: a line that looks like an evidence number, a prompt heading or the
# question marker must not pose as one (prompt injection through an article).
_FAKE_MARKERS = re.compile(r"[\[［【]\s*(\d+)\s*[\]］】]")
_FAKE_HEADINGS = re.compile(r"【([^】]{0,12})】|《([^》]{0,40})》|\b(question|answer|evidence|system|user|assistant)\s*[:：]", re.I)


def neutralize(text: str) -> str:
    """``text`` as it may appear inside the prompt: on one line, with source-number brackets,
    【heading】 markers and ``Question:``-style labels defused."""
    text = re.sub(r"\s*\n\s*", " ", text)
    text = _FAKE_MARKERS.sub(r"(\1)", text)
    return _FAKE_HEADINGS.sub(lambda m: f"〔{m.group(1) or m.group(2)}〕" if m.group(3) is None
                              else f"{m.group(3)} -", text)


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one language."""

    language: str
    system: str
    evidence: str
    article: str
    byline: str
    line: str
    decide: str
    yes: str
    no: str
    answer: str
    refusal: str
    quote: str
    quote_translated: str  # the label of a translated quote
    quote_untranslated: str  # the label of a quote in the other language whose translation failed its check
    translate_evidence: str  # the request to translate evidence sentences {ids} into the question's language
    translate_sentence: str  # one article sentence alone into the question's language (when the first try fails)
    summary: str  # the heading of a summary: {title}
    original: str  # the label of a translated quote's original sentence
    evidence_found: str  # shown while the model writes
    closest: str
    translate: str  # the question into the other language (for the articles' language)
    condense: str
    follow_up: str
    refusal_markers: tuple[str, ...]

    def format_evidence(self, articles) -> str:
        """The evidence block: per article a header line, then its numbered sentences.

        ``articles`` is ``[(title, byline, [(n, sentence), ...]), ...]``."""
        blocks = []
        for title, byline, sentences in articles:
            head = self.article.format(title=neutralize(title or "(untitled)"),
                                       byline=self.byline.format(byline=neutralize(byline)) if byline else "")
            blocks.append("\n".join([head] + [self.line.format(n=n, text=neutralize(t)) for n, t in sentences]))
        return "\n".join(blocks)

    def decision_messages(self, evidence: str, question: str) -> list[BaseMessage]:
        """Evidence, question and the yes/no answerability question (the model's next token is scored)."""
        return [SystemMessage(self.system),
                HumanMessage(self.evidence.format(evidence=evidence, question=neutralize(question))
                             + "\n" + self.decide)]

    def answer_messages(self, evidence: str, question: str) -> list[BaseMessage]:
        """The decision prompt answered "yes", then the request for the cited answer."""
        return self.decision_messages(evidence, question) + [AIMessage(self.yes), HumanMessage(self.answer)]

    def translation_messages(self, evidence: str, question: str, ids: list[int]) -> list[BaseMessage]:
        """The decision prompt answered "yes", then the request to translate evidence sentences
        ``ids`` (one numbered line each): the sentences are already in the KV cache."""
        request = self.translate_evidence.format(ids=", ".join(f"[{n}]" for n in ids))
        return self.decision_messages(evidence, question) + [AIMessage(self.yes), HumanMessage(request)]

    def sentence_translation_messages(self, sentence: str) -> list[BaseMessage]:
        """The request to translate one article ``sentence`` alone into the question's language."""
        return [HumanMessage(self.translate_sentence.format(sentence=neutralize(sentence)))]

    @property
    def condense_prompt(self) -> ChatPromptTemplate:
        """Messages for the follow-up rewrite: variables ``history`` and ``question``."""
        return ChatPromptTemplate.from_messages([("human", self.condense)])

    def translate_messages(self, question: str) -> list[BaseMessage]:
        """The request to translate ``question`` into the other language (one line out)."""
        return [HumanMessage(self.translate.format(question=neutralize(question)))]

    def format_follow_up(self, question: str, previous: str) -> str:
        """A follow-up, with the previous question as context."""
        return self.follow_up.format(question=question, previous=previous)

    def is_refusal(self, answer: str) -> bool:
        """Whether the model's answer says that the evidence does not hold the answer.

        Only the opening sentence counts: a real answer may mention in passing that a
        detail is not stated."""
        text = nfkc(answer).strip().lower()
        first = re.split(r"(?<=[。．.!?！？])\s*", text, maxsplit=1)[0]
        return not text or any(m.lower() in first for m in self.refusal_markers)


@lru_cache(maxsize=None)
def prompts_for(language: str) -> PromptSet:
    """The prompt set for ``language`` (``ja`` or ``en``)."""
    if language not in LANGUAGES:
        language = "en"
    data = yaml.safe_load(resources.files("chatbot").joinpath("prompts", f"{language}.yaml").read_text("utf-8"))
    fields = {k: v for k, v in data.items() if k != "refusal_markers"}
    return PromptSet(language=language, refusal_markers=tuple(data["refusal_markers"]), **fields)
