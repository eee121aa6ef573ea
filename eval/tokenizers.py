"""BM25 alone on JSQuAD with different Japanese tokenizers (`python -m eval tokenizers`).

Shows why the product uses Sudachi (mode A, normalized forms): every variant runs through
the same BM25 index as ``chatbot.lexical``; only the tokenizer changes.
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

from chatbot.lexical import _STOP_POS, BM25Index
from chatbot.lexical import tokenize as product_tokenize

from .jsquad import load_jsquad, metrics


def _fugashi(mode: str):
    import fugashi

    tagger = fugashi.Tagger()

    def tokenize(text: str) -> list[str]:
        out = []
        for w in tagger(unicodedata.normalize("NFKC", text).lower()):
            if mode != "surface-all" and (w.feature.pos1 in _STOP_POS or not w.surface.strip()):
                continue
            lemma = w.feature.lemma
            use_lemma = mode == "lemma" and not w.surface.isascii() and lemma and lemma != "*"
            out.append(lemma.split("-")[0].lower() if use_lemma else w.surface)
        return out

    return tokenize


def _sudachi(split: str):
    from sudachipy import Dictionary, SplitMode

    tok = Dictionary(dict="core").tokenizer(mode=getattr(SplitMode, split))

    def tokenize(text: str) -> list[str]:
        return [m.normalized_form().lower() for m in tok.tokenize(unicodedata.normalize("NFKC", text).lower())
                if m.part_of_speech()[0] not in _STOP_POS and m.surface().strip()]

    return tokenize


VARIANTS = {
    "fugashi+unidic-lite, surface, all tokens": lambda: _fugashi("surface-all"),
    "fugashi+unidic-lite, surface, content words": lambda: _fugashi("surface"),
    "fugashi+unidic-lite, lemma, content words": lambda: _fugashi("lemma"),
    "sudachi core, mode C, normalized, content words": lambda: _sudachi("C"),
    "sudachi core, mode A, normalized, content words (product)": lambda: product_tokenize,
}


def run(path: Path) -> dict:
    paragraphs, questions = load_jsquad(path)
    docs = [f"{title}\n\n{body}" for title, body in paragraphs]
    out = {}
    for name, make in VARIANTS.items():
        tokenize = make()
        t0 = time.time()
        index = BM25Index([tokenize(d) for d in docs])
        seconds = time.time() - t0
        ranks = []
        for q in questions:
            top = [i for i, _ in index.top(tokenize(q["question"]), 10)]
            ranks.append(top.index(q["para"]) + 1 if q["para"] in top else None)
        m = {k: round(v, 4) for k, v in metrics(ranks).items()}
        m["tokenize_docs_s"] = round(seconds, 2)
        out[name] = m
        print(name, m, flush=True)
    return out
