"""How often the sentence that answers fails the lead test of the gate (``quote_not_about_question``):
every held-out JSQuAD question against its own paragraph, the answering sentence (the first that
holds a reference answer) checked as :meth:`chatbot.chain.AnswerChain.gate` checks a quote.
It must hold the kind of answer the question asks for, in the measure it names (:mod:`chatbot.answer_types`). It must
also name every one of the question's names (:meth:`chatbot.subjects.Subjects.covers`), with the
article's title and the two sentences before it.

When the answering sentence fails, the gate refuses an answerable question whenever that sentence
would have been the quote. So the rate bounds the rule's false refusals on data it was not built
on. The rule has no threshold; the misses are listed so that their causes can be read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chatbot.answer_types import asked_unit, expected_kind, holds_kind
from chatbot.chunking import split_sentences
from chatbot.evidence import EvidenceSentence
from chatbot.retrieval import SearchResult
from chatbot.shapes import COMPARE, form_of
from chatbot.subjects import Subjects

from .jsquad import contains_answer, load_jsquad, split_paragraphs


def run(path: Path, part: str = "held-out") -> dict:
    """The rates on the ``part`` (``held-out`` or ``training``) paragraphs of JSQuAD."""
    paragraphs, questions = load_jsquad(path)
    chosen = set(split_paragraphs(paragraphs)[part == "held-out"])
    questions = [q for q in questions if q["para"] in chosen and form_of(q["question"]) != COMPARE]
    counted, fails, units, examples = 0, Counter(), Counter(), []
    for q in questions:
        title, body = paragraphs[q["para"]]
        result = SearchResult(rank=1, doc_id=str(q["para"]), title=title, source="", chunk_id=str(q["para"]),
                              text=body, score=1.0, start=0, end=len(body))
        spans = [(s, e) for s, e in split_sentences(body) if contains_answer(q["answers"], body[s:e])]
        if not spans:
            continue  # the answer crosses a sentence boundary
        counted += 1
        (start, end), kind, unit = spans[0], expected_kind(q["question"]), asked_unit(q["question"])
        sentence = EvidenceSentence(1, body[start:end], result, start, end, 1.0)
        units.update([unit] if unit else [])
        subjects = Subjects.of([q["question"]], [result])
        why = [w for w, failed in (("kind", not holds_kind(kind, [sentence.text])),
                                   ("unit", not holds_kind(None, [sentence.text], unit)),
                                   ("names", not subjects.covers(sentence))) if failed]
        fails.update(why)
        fails["either"] += bool(why)
        if why and len(examples) < 40:
            examples.append({"question": q["question"], "sentence": sentence.text, "kind": kind, "unit": unit,
                             "names": list(subjects.names), "fails": why})
    rate = {k: round(v / counted, 4) if counted else None for k, v in fails.items()}
    return {"part": part, "questions": len(questions), "counted": counted, "answering_sentence_fails": dict(fails),
            "units_asked": dict(units),
            "rate": rate, "examples": examples}
