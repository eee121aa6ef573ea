"""How well ``chatbot.transliteration`` tells a name that a Japanese sentence spells from one it
does not: ``python -m eval transliteration`` writes eval/results/transliteration.json.

Each pair of eval/transliteration_pairs.tsv is asked both ways: the English name against a
sentence that writes it (founded is right), and against every sentence of corpus/ and
eval/news/articles that does not (founded is a false licence: an invented name let through).
The threshold ``chatbot.rules.TRANSLITERATION_DISTANCE`` is read off this curve.

``subjects`` asks the same of :func:`chatbot.transliteration.written_in` with ``every``, the
stricter test by which a question's Latin-script name becomes a subject of a Japanese passage
(each word spells a whole reading, not a part of one; ``chatbot.subjects``).
"""

from __future__ import annotations

import re
from pathlib import Path

from chatbot.lexical import name_readings
from chatbot.rules import TRANSLITERATION_DISTANCE
from chatbot.transliteration import (MIN_FOUNDING_LETTERS, distance, english_key, romanized, spelling_key,
                                     written_in)

ROOT = Path(__file__).resolve().parent.parent
PAIRS = Path(__file__).resolve().parent / "transliteration_pairs.tsv"
TEMPLATE = "{}の関係者は、新しい計画について説明した。"
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)


def pairs(path: Path = PAIRS) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [(english.strip(), japanese.strip()) for english, japanese in rows]


def article_sentences() -> list[str]:
    files = sorted((ROOT / "corpus").rglob("*.md")) + sorted((ROOT / "eval" / "news" / "articles").glob("*.md"))
    sentences = []
    for f in files:
        for s in re.split(r"(?<=[。！？])|\n", f.read_text(encoding="utf-8")):
            if re.search(r"[ぁ-ん]", s) and len(s.strip()) >= 10:
                sentences.append(s.strip())
    return sentences


def best_distance(name: str, readings: list[str]) -> float:
    """The distance of the name's closest word to a reading: one founding word founds a name of
    several (``unfounded_names``), and only words of ``MIN_FOUNDING_LETTERS`` or more do."""
    words = name.split()
    founding = [w for w in words if len(words) == 1 or len(w) >= MIN_FOUNDING_LETTERS]
    return min((distance(english_key(w), r) for w in founding for r in readings), default=1.0)


def run() -> dict:
    sentences = article_sentences()
    readings = {s: [spelling_key(romanized(r)) for r in name_readings(s)] for s in sentences}
    positives, negatives, subject_hits, subject_false = [], [], [], []
    for english, japanese in pairs():
        positives.append(best_distance(english, [spelling_key(romanized(r)) for r in name_readings(TEMPLATE.format(japanese))]))
        subject_hits.append(written_in(english, TEMPLATE.format(japanese), every=True))
        for s in sentences:
            if japanese not in s and english.lower() not in s.lower():
                negatives.append(best_distance(english, readings[s]))
                subject_false.append(written_in(english, s, every=True))
    curve = [{"threshold": t, "names_found": round(sum(d <= t for d in positives) / len(positives), 3),
              "invented_let_through": round(sum(d <= t for d in negatives) / len(negatives), 4)}
             for t in THRESHOLDS]
    missed = [e for (e, _), d in zip(pairs(), positives) if d > TRANSLITERATION_DISTANCE]
    subjects = {"names_found": round(sum(subject_hits) / len(subject_hits), 3),
                "invented_let_through": round(sum(subject_false) / len(subject_false), 4),
                "not_found": [e for (e, _), hit in zip(pairs(), subject_hits) if not hit]}
    return {"pairs": len(positives), "sentences": len(sentences), "negative_pairs": len(negatives),
            "curve": curve, "threshold": TRANSLITERATION_DISTANCE, "not_found_at_threshold": missed,
            "subjects": subjects}
