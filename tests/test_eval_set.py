from eval.check import check
from eval.corpus_retrieval import load_questions


def test_eval_set_is_valid_against_the_corpus():
    assert check() == []


def test_eval_set_covers_the_required_mix():
    qs = load_questions()
    by_type = {}
    for q in qs:
        by_type[q["type"]] = by_type.get(q["type"], 0) + 1
    assert len(qs) >= 50
    assert by_type["unanswerable"] >= 10 and by_type["follow_up"] >= 5
    assert sum(q["language"] == "en" for q in qs) >= 10
