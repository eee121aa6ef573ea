"""The eval's scoring rules (pure functions, no model). The product's own checker re-run on its
answers (eval/self_check.py) and the summary; the independent scorers are pinned in
tests/test_eval_independent.py."""

import json

import numpy as np

from eval.answers import summarize
from eval.scoring import fact_found
from eval.self_check import citation_scores

DEAL = "OpenAIがAmazon Web Services(AWS)と結んだ、7年間で380億ドル(約5.8兆円)という天文学的な規模のクラウド契約です。"


def test_fact_variants_match_after_normalizing():
    assert fact_found("7年間で３８０億ドルです[1]。", ["380億"])
    assert fact_found("A 38 billion dollar deal.", ["380億"])  # the same amount, other units
    assert fact_found("The deal is $38B over seven years.", ["seven years", "7年"])
    assert not fact_found("70年間の契約です。", ["7年"])
    assert not fact_found("3,800億ドルです。", ["380億"])


def answer(text, quote=DEAL, refused=False):
    """An answer as the eval sees it: the JSON of ``Chatbot.ask`` (``Answer.to_dict()``)."""
    return {"question": "契約の規模は？", "answer": text, "refused": refused, "language": "ja",
            "query": "契約の規模は？", "sources": [], "timings": {},
            "citations": [{"n": 1, "doc_id": "corpus/a.md", "title": "t", "source": "", "chunk_id": "c1",
                           "text": DEAL, "quote": quote}]}


def test_self_check_citation_recall_and_precision_count_supported_sentences():
    ok = answer("7年間で380億ドルのクラウド契約です[1]。")
    assert citation_scores(ok) == (1, 1, 1, 1)
    bad = answer("7年間で380億ドルのクラウド契約です[1]。GoogleのTPUも使います[1]。")
    assert citation_scores(bad) == (1, 2, 1, 2)
    uncited = answer("7年間で380億ドルのクラウド契約です。")
    assert citation_scores(uncited) == (0, 1, 0, 0)


def test_citation_scores_are_plain_ints_with_numpy_similarity():
    # The real similarity returns numpy floats; the counts go into JSON rows.
    def similarity(value):
        return lambda sentence, texts: np.full(len(texts), value, dtype=np.float32)

    paraphrase = answer("OpenAIはAWSと長期のクラウド利用で合意しました[1]。")
    unrelated = answer("GoogleのTPUも使います[1]。")
    assert citation_scores(paraphrase, similarity(0.99)) == (1, 1, 1, 1)
    assert citation_scores(unrelated, similarity(0.1)) == (0, 1, 0, 1)
    for scores in (citation_scores(paraphrase, similarity(0.99)), citation_scores(unrelated, similarity(0.1))):
        assert all(type(v) is int for v in scores)
        json.dumps(scores)


def test_summary_counts_refusals_by_kind():
    rows = [
        {"id": "a", "type": "fact", "language": "ja", "refused": False, "fact_accuracy": 1.0, "all_facts": True,
         "has_docs": True, "has_evidence": True, "doc_rank": 1, "evidence_rank": 2, "citations": 1,
         "self_check_sentences": 1, "self_check_sentences_supported": 1, "self_check_citation_pairs": 1,
         "self_check_citation_pairs_ok": 1, "self_check_fabricated": [],
         "first_token_s": 2.0, "total_s": 4.0},
        {"id": "b", "type": "fact", "language": "en", "refused": True, "fact_accuracy": 0.0, "all_facts": False,
         "has_docs": True, "has_evidence": True, "doc_rank": 3, "evidence_rank": None, "citations": 0,
         "first_token_s": 1.0, "total_s": 1.0},
        {"id": "c", "type": "unanswerable", "language": "ja", "refused": True, "has_docs": False,
         "has_evidence": False, "doc_rank": None, "evidence_rank": None, "citations": 0, "total_s": 1.0},
    ]
    s = summarize(rows)
    assert s["fact_accuracy"] == 0.5 and s["false_refusal_rate"] == 0.5 and s["correct_refusal_rate"] == 1.0
    assert s["retrieval"]["doc_hit@1"] == 0.5 and s["retrieval"]["evidence_hit@5"] == 0.5
    assert s["self_check_citation_recall"] == 1.0 and s["self_check_answers_with_fabrication"] == 0
    assert "citation_recall" not in s and "answers_with_fabrication" not in s  # only as self_check_*
    assert s["latency"]["first_token_p50_s"] == 2.0  # refused answers have no generation latency


def test_threshold_applied_offline_refuses_only_rows_below_it():
    from eval.threshold import curve, refuse_below

    rows = [
        {"id": "a", "type": "fact", "language": "ja", "refused": False, "answerable": 0.9, "fact_accuracy": 1.0,
         "all_facts": True, "answer": "x", "citations": 1},
        {"id": "b", "type": "fact", "language": "en", "refused": False, "answerable": 0.1, "fact_accuracy": 1.0,
         "all_facts": True, "answer": "y", "citations": 1},
        {"id": "c", "type": "unanswerable", "language": "ja", "refused": False, "answerable": 0.15, "answer": "z", "citations": 1},
        {"id": "d", "type": "unanswerable", "language": "ja", "refused": True, "answerable": None, "answer": "", "citations": 0},
    ]
    assert refuse_below(rows[0], 0.2) is rows[0]  # above the threshold: unchanged
    low = refuse_below(rows[1], 0.2)
    assert low["refused"] and low["fact_accuracy"] == 0.0 and low["refusal_reason"] == "decided_not_answerable"
    assert refuse_below(rows[3], 0.2) is rows[3]  # refused before the decision: unchanged
    at_0, at_02 = curve(rows, [0, 0.2])
    assert (at_0["fact_accuracy"], at_0["false_refusal_rate"], at_0["correct_refusal_rate"]) == (1.0, 0.0, 0.5)
    assert (at_02["fact_accuracy"], at_02["false_refusal_rate"], at_02["correct_refusal_rate"]) == (0.5, 0.5, 1.0)
