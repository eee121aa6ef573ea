"""What a question gets back: the checked :class:`Answer`, the :class:`EvidenceFound` stream
event that comes before it, and the refusal reasons."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Iterator, Union

from .citations import Citation
from .evidence import Evidence
from .retrieval import SearchResult

# Answer.refusal_reason values (what each means: docs/architecture.md#refusals)
NO_RELEVANT_SOURCES = "no_relevant_sources"  # no passage is about the question at all
TERMS_NOT_FOUND = "terms_not_in_sources"  # a name or number of the question is in no passage
ANSWER_TYPE = "answer_type_not_in_evidence"  # asked when/how much/who, and no evidence holds one
NOT_ABOUT_QUESTION = "quote_not_about_question"  # no sentence to quote names all its subjects and the kind asked
NOT_ANSWERABLE = "decided_not_answerable"  # the calibrated probability of a right answer is too low
MODEL_REFUSED = "model_refused"  # the model's answer says the evidence does not hold it


@dataclass
class Quote:
    """An article sentence that leads the answer, verbatim, with its citation number; for a
    question in another language than the article, also its checked translation."""

    text: str
    n: int  # its citation number
    evidence_id: int  # its number in the evidence the model read
    translation: str | None = None


@dataclass
class Answer:
    """A checked answer. ``text`` carries [n] markers that index ``citations``."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    sources: list[SearchResult]  # everything retrieved, best first
    language: str
    query: str  # the standalone search text (differs from ``question`` for follow-ups)
    model: str
    form: str = "fact"  # the answer's shape: fact, why, compare, summary (chatbot.shapes)
    quotes: list[Quote] = field(default_factory=list)  # the article sentences that lead the answer
    timings: dict[str, float] = field(default_factory=dict)
    refusal_reason: str | None = None  # see the constants above
    removed: list[str] = field(default_factory=list)  # the model's sentences dropped by the checks
    raw: str = ""  # the model's reply before checking
    missing_terms: list[str] = field(default_factory=list)  # question terms no passage mentions
    evidence: list[dict] = field(default_factory=list)  # the numbered evidence sentences the model read
    quoted: bool = False  # the answer is only the quoted sentences (the model's own sentences failed)
    answerable: float | None = None  # the model's P(yes) that the evidence answers the question
    confidence: float | None = None  # calibrated probability that the answer is right (chatbot.answerability)
    translation: str | None = None  # the question translated into the articles' language (evidence search)

    def to_dict(self) -> dict:
        """JSON-ready form (the CLI's ``--json`` and the eval results)."""
        d = asdict(self)
        d["answer"] = d.pop("text")
        d["sources"] = [s.to_dict() for s in self.sources]
        return d


@dataclass
class EvidenceFound:
    """Stream event: the evidence was selected (yielded before the model reads anything)."""

    evidence: Evidence
    sources: list[SearchResult]
    language: str  # the question's language


StreamEvent = Union[str, EvidenceFound, Answer]  # what Chatbot.stream yields: evidence, text deltas, the answer


def final_answer(events: Iterator[StreamEvent]) -> Answer:
    """The :class:`Answer` that ends an answer stream."""
    for event in events:
        if isinstance(event, Answer):
            return event
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover


def since(t0: float) -> float:
    """Seconds since ``t0`` (``time.perf_counter``), rounded for an answer's timings."""
    return round(time.perf_counter() - t0, 3)
