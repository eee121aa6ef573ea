"""The quotes that lead an answer, as shown: verbatim (a Japanese sentence in 「」, an English one
in “”), or translated into the question's language and checked against the original; and the
answer text composed from them and the model's checked sentences."""

from __future__ import annotations

import re
from typing import Callable, Sequence

from .answer import Quote
from .citations import MARKER, CheckedSentence, Citation, citation, join
from .evidence import Evidence, EvidenceSentence
from .facts import has_fact, missing_facts, names, spelled_out_as_digits, vague_magnitudes
from .prompts import PromptSet
from .text import language_of
from .transliteration import unfounded_names


def faithful(translation: str, original: str, language: str, others: Sequence[str] = (), question: str = "",
             instructions: Sequence[str] = ()) -> bool:
    """Whether ``translation`` is in ``language`` and carries exactly the numbers and codes of
    ``original``, both ways (figures spelled as words count as their digits; an ordinal word may
    carry a number, "the first store" for 1号店, but does not state one; a magnitude such as
    数十万 must stay "hundreds of thousands", not become "tens of thousands"), and names only what
    the original (or the ``question``) names: the small model sometimes invents a name, or writes
    another company's name from the evidence. It must not echo its ``instructions`` (the
    translation prompt: "…keeping every number, date and name…" is the prompt, not the article).

    An English translation of a Japanese sentence must spell each of its names from that sentence
    (:func:`~chatbot.transliteration.unfounded_names`). Otherwise a Latin name that the original
    lacks must not come from ``others``, the evidence's other sentences in the original's language."""
    if not translation or language_of(translation) != language:
        return False
    if any(missing_facts(spelled_out_as_digits(a), [spelled_out_as_digits(b, ordinals=True)], codes_only=True)
           for a, b in ((translation, original), (original, translation))):
        return False
    if vague_magnitudes(translation) != vague_magnitudes(original) or echoes(translation, instructions, original):
        return False
    if language == "en" and language_of(original) == "ja":
        return not unfounded_names(translation, original, question)
    borrowed = [n for n in names(translation) if not has_fact(original, n) and not has_fact(question, n)]
    others = [o for o in others if o != original and language_of(o) == language_of(original)]
    return not any(has_fact(o, n) for n in borrowed for o in others)


def echoes(text: str, instructions: Sequence[str], source: str = "", n: int = 4) -> bool:
    """Whether ``text`` repeats a run of ``n`` words of one of ``instructions`` that ``source`` lacks."""
    def runs(t: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z]+", t.lower())
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}

    return bool(runs(text) & set().union(*map(runs, instructions)) - runs(source)) if instructions else False


def numbered_lines(text: str, ids: list[int]) -> dict[int, str]:
    """``{n: line}`` from the model's "[n] …" lines; a single unnumbered reply is the first id's."""
    out: dict[int, str] = {}
    for line in text.splitlines():
        m = re.match(r"\s*[\[［【]\s*(\d+)\s*[\]］】]\s*(.*)", line)
        if m and int(m.group(1)) in ids:
            out[int(m.group(1))] = m.group(2).strip()
    if not out and len(ids) == 1 and text.strip():
        out[ids[0]] = MARKER.sub("", text.strip().splitlines()[0]).strip()
    return out


def foreign(lead: list[EvidenceSentence], language: str) -> list[EvidenceSentence]:
    """The ``lead`` sentences that are not in ``language``: the ones to translate (a mixed
    archive's lead may hold both languages)."""
    return [s for s in lead if language_of(s.text) != language]


def translated_quotes(lead: list[EvidenceSentence], reply: str, language: str,
                      translate_alone: Callable[[str], str], others: Sequence[str] = (),
                      question: str = "", instructions: Sequence[str] = ()) -> list[Quote]:
    """The ``lead`` sentences with their translations from the model's ``reply`` ("[n] …" lines).
    A translation that is not :func:`faithful` (against ``others``, the evidence's sentences, and
    the translation prompts' ``instructions``) is
    asked for once more with the sentence alone; when that fails too, the quote is shown in its
    original language (``translation`` None). A sentence already in ``language`` is quoted as it is."""
    todo = foreign(lead, language)
    lines = numbered_lines(reply, [s.id for s in todo])
    quotes = []
    for i, s in enumerate(lead, 1):
        if s not in todo:
            quotes.append(Quote(s.text, i, s.id))
            continue
        t = lines.get(s.id, "").strip(" 「」“”\"")
        ok = faithful(t, s.text, language, others, question, instructions)
        if not ok:
            # Read with the question, the small model tends to answer rather than translate
            # (dropping a period or a figure).
            t = translate_alone(s.text).strip(" 「」“”\"")
            ok = faithful(t, s.text, language, others, question, instructions)
        quotes.append(Quote(s.text, i, s.id, t if ok else None))
    return quotes


QUOTE_MARKS = {"ja": ("「", "」"), "en": ("“", "”")}  # by the language of the quoted text


def marked(text: str) -> str:
    """``text`` in the quotation marks of its own language."""
    open_mark, close_mark = QUOTE_MARKS[language_of(text)]
    return f"{open_mark}{text}{close_mark}"


def quote_block(prompts: PromptSet, quotes: list[Quote], bullets: bool = False) -> str:
    """The lead quotes as shown, each with its marker: verbatim in the marks of their language,
    translated ones in “”. A quote in another language whose translation failed the check is
    shown as it is, labelled so."""
    parts = [f"“{q.translation}”[{q.n}]" if q.translation else f"{marked(q.text)}[{q.n}]" for q in quotes]
    if bullets:
        return "\n".join(f"・{p}" for p in parts)
    if any(q.translation for q in quotes):
        label = prompts.quote_translated
    elif quotes and language_of(quotes[0].text) != prompts.language:
        label = prompts.quote_untranslated
    else:
        label = prompts.quote
    return label + "".join(parts)


def compose(prompts: PromptSet, quotes: list[Quote], kept: list[CheckedSentence], evidence: Evidence,
            bullets: bool = False) -> tuple[str, list[Citation]]:
    """The answer text and its citations, numbered 1..m in order of first use: the quotes first
    (their ``n``), then the model's checked sentences (whose ``cites`` hold evidence ids and are
    renumbered here)."""
    numbers = {q.evidence_id: q.n for q in quotes}
    for sentence in kept:
        for n in sorted(sentence.cites):
            numbers.setdefault(n, len(numbers) + 1)
        sentence.cites = [numbers[n] for n in sorted(sentence.cites)]
    text = quote_block(prompts, quotes, bullets)
    if kept:
        text += "\n" + join(kept)
    return text, sorted((citation(evidence.get(i), n) for i, n in numbers.items()), key=lambda c: c.n)
