"""Evidence selection on hand-made passages with a deterministic fake embedder (pure logic)."""

import numpy as np

from chatbot.chunking import count_tokens
from chatbot.evidence import select_evidence
from chatbot.ranker import FEATURES, Ranker, candidates_of, featurize
from chatbot.retrieval import SearchResult
from chatbot.rules import ARTICLE_MARGIN

VOCAB = ["契約", "電力", "GPU", "工場", "天気"]


def vectors(texts):
    """A bag-of-keywords embedding: texts sharing keywords with the question score higher."""
    out = np.array([[1.0 + 5.0 * t.count(w) for w in VOCAB] for t in texts])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def passage(doc, rank, start, text):
    return SearchResult(rank=rank, doc_id=doc, title=f"{doc} title", source=f"{doc}.md", chunk_id=f"{doc}#{start}",
                        text=text, score=1.0 / rank, start=start, end=start + len(text))


A = passage("a", 1, 0, "前置きの文です。OpenAIは11月3日に契約を発表しました。契約は7年間です。天気の話です。天気の話の続きです。")
B = passage("b", 2, 0, "別の記事です。契約の背景には電力不足があります。電力の話です。")
QUESTION = "OpenAIの契約はいつ発表されましたか？"


def select(budget, results=(A, B)):
    """Evidence as the chain selects it, ranked by the hand-set baseline score (deterministic here)."""
    candidates = candidates_of(list(results))
    scores = Ranker.baseline().score(featurize([QUESTION], candidates, vectors([QUESTION]), vectors))
    for c, score in zip(candidates, scores):
        c.score = float(score)
    return select_evidence(sorted(candidates, key=lambda c: -c.score), budget, ARTICLE_MARGIN)


def test_best_sentence_comes_with_its_neighbours_in_text_order():
    ev = select(200)
    texts = [s.text for s in ev.sentences]
    i = texts.index("OpenAIは11月3日に契約を発表しました。")
    assert texts[i - 1] == "前置きの文です。" and texts[i + 1] == "契約は7年間です。"
    assert ev.ranked[0].text == "OpenAIは11月3日に契約を発表しました。"
    assert [s.id for s in ev.sentences] == list(range(1, len(ev.sentences) + 1))


def test_every_article_near_the_top_is_represented_and_grouped():
    ev = select(80)
    docs = [s.doc_id for s in ev.sentences]
    assert set(docs) == {"a", "b"}
    assert docs == sorted(docs, key=docs.index)  # grouped by article
    assert [r.doc_id for r, _ in ev.articles()] == ["a", "b"]


def test_budget_is_held_and_spans_are_exact():
    for budget in (10, 40, 80, 400):
        ev = select(budget)
        best = count_tokens(ev.ranked[0].text)
        assert ev.tokens() <= max(budget, best)  # the best sentence is kept even if alone over budget
        for s in ev.sentences:
            assert s.result.text[s.start:s.end] == s.text


def test_neighbours_cross_passage_boundaries_of_one_article():
    first = passage("a", 1, 0, "OpenAIは11月3日に契約を発表しました。")
    second = passage("a", 2, len(first.text), "契約は7年間です。天気の話です。")
    ev = select(60, (first, second))
    assert [s.text for s in ev.sentences][:2] == ["OpenAIは11月3日に契約を発表しました。", "契約は7年間です。"]


def test_sentence_repeated_by_overlapping_passages_is_kept_once():
    overlap = passage("a", 3, 0, "前置きの文です。OpenAIは11月3日に契約を発表しました。")
    ev = select(400, (A, overlap, B))
    texts = [s.text for s in ev.sentences]
    assert len(texts) == len(set(texts))


def test_no_passages_means_no_evidence():
    assert not select(200, ())


def test_a_translated_form_scores_only_the_sentences_in_its_own_language():
    """In a mixed archive the translation reaches the English article's sentences; the Japanese
    ones keep the similarities of the question as asked."""
    english = passage("c", 1, 0, "OpenAI announced the GPU contract on November 3. The weather was fine.")
    translation = "When did OpenAI announce the contract?"
    japanese = candidates_of([A, B])
    candidates = japanese + candidates_of([english])
    forms = [QUESTION, translation]
    alone = featurize([QUESTION], japanese, vectors([QUESTION]), vectors)
    both = featurize(forms, candidates, vectors(forms), vectors, translated=1)
    untranslated = featurize(forms, candidates, vectors(forms), vectors)
    dense, bigram = FEATURES.index("dense"), FEATURES.index("bigrams")
    k = len(japanese)
    np.testing.assert_allclose(both[:k, dense], alone[:, dense], rtol=1e-6)
    np.testing.assert_allclose(both[:k, bigram], alone[:, bigram])
    assert not np.allclose(untranslated[:k, dense], alone[:, dense])  # without it the translation scores them too
    np.testing.assert_allclose(both[k:, dense], untranslated[k:, dense])  # the English ones see both forms
