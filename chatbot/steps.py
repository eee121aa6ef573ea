"""The typed values the answer chain's steps pass on (:mod:`chatbot.chain`): the :class:`Query`
condense makes, what find :class:`Found`, and the gate's or the model's :class:`Decision`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .answer_types import holds_kind
from .evidence import Evidence
from .ranker import Candidate
from .retrieval import SearchResult
from .subjects import Subjects


@dataclass
class Query:
    """What the user asked, and the forms of it each step uses."""

    question: str  # as typed
    language: str  # the question's language: the answer's language
    form: str  # the answer's shape (chatbot.shapes)
    kind: str | None  # the kind of fact asked for (chatbot.answer_types)
    search_text: str  # standalone text for retrieval
    model_question: str  # the question as put to the model
    forms: list[str]  # the question's forms the sentences are scored against
    top_k: int
    unit: str | None = None  # the measure its figure is asked in (chatbot.answer_types.asked_unit)

    def answered_by(self, sentence: str) -> bool:
        """Whether ``sentence`` holds the kind of answer asked for, in the measure asked."""
        return holds_kind(self.kind, [sentence], self.unit)


@dataclass
class Found:
    """What retrieval found for a :class:`Query`."""

    results: list[SearchResult]  # passages, best first
    ranked: list[Candidate]  # every sentence of the passages, best first
    features: np.ndarray  # the ranker's features, one row per candidate of ``ranked``
    evidence: Evidence  # the selected sentences
    relevance: float  # the best passage's dense cosine
    translation: str | None = None  # the question in the articles' language, when it differs
    subjects: Subjects = Subjects()  # the companies, people and products asked about, as the passages spell them


@dataclass
class Decision:
    answerable: bool
    probability: float | None = None  # the model's P(yes), when it was asked
    confidence: float | None = None  # calibrated probability that the answer is right
    reason: str | None = None  # the refusal_reason when not answerable
    missing: list[str] = field(default_factory=list)
