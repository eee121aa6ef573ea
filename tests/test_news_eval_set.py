"""The news eval splits (eval/news/): valid against their fictional articles, and the mix they promise."""

import dataclasses
import shutil
from collections import Counter

from chatbot.loaders import load_documents
from eval.check import check_all, check_splits, unmarked
from eval.corpus_retrieval import load_questions
from eval.splits import CORPUS, SPLITS

NEWS_TEST, NEWS_DEV = SPLITS["news-test"], SPLITS["news-dev"]


def test_news_splits_are_valid_against_their_articles():
    problems, notes = check_splits(NEWS_TEST.questions, NEWS_DEV.questions, NEWS_TEST.articles,
                                   names=("news-test", "news-dev"))
    assert problems == []
    assert any(n.startswith("news-dev: ") for n in notes)


def test_eval_check_covers_the_news_splits():
    problems, notes = check_all()
    assert problems == []
    assert {n.split(":")[0] for n in notes} == {"test", "dev", "news-test", "news-dev"}


def test_news_articles_are_fictional_and_kept_out_of_corpus():
    docs = load_documents([NEWS_TEST.articles])[0]
    assert len(docs) >= 8
    assert unmarked(NEWS_TEST.articles) == []
    assert not {d.path.rsplit("/", 1)[-1] for d in docs} & {p.name for p in CORPUS.iterdir()}
    for d in docs:
        assert d.doc_id.startswith("articles/")
        assert 800 <= len(d.text) <= 1900, d.doc_id  # 800-1,800 characters of body, plus the headline
        assert {"title", "publisher", "author", "published", "language"} <= set(d.metadata), d.doc_id


def test_an_article_without_the_fictional_mark_is_reported(tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(NEWS_TEST.articles, folder)
    one = sorted(folder.glob("*.md"))[0]
    one.write_text(one.read_text(encoding="utf-8").replace("fictional: true", "fictional: false"), encoding="utf-8")
    assert unmarked(folder) == [f"articles/{one.name}: front matter lacks 'fictional: true'"]


def test_news_splits_cover_every_article_and_the_required_mix():
    articles = {d.doc_id for d in load_documents([NEWS_TEST.articles])[0]}
    total = 0
    for split, prefix in ((NEWS_DEV, "n-d"), (NEWS_TEST, "n-t")):
        qs = load_questions(split.questions)
        total += len(qs)
        types = Counter(q["type"] for q in qs)
        assert all(q["id"].startswith(prefix) for q in qs)
        assert {d for q in qs for d in q["doc_ids"]} == articles, split.questions
        assert set(types) == {"fact", "why", "amount", "date", "multi_doc", "follow_up", "unanswerable"}
        assert 0.2 <= types["unanswerable"] / len(qs) <= 0.3
        assert 0.2 <= sum(q["language"] == "en" for q in qs) / len(qs) <= 0.35
        assert all(len(q["doc_ids"]) == 2 == len(q["evidence"]) for q in qs if q["type"] == "multi_doc")
    assert total >= 80


def test_the_news_split_is_asked_over_a_store_of_its_own(settings, e5, tmp_path):
    folder = tmp_path / "src" / "articles"  # two of the news articles, to keep the embedding short
    folder.mkdir(parents=True)
    for name in ("velora-mini-recall.md", "kairo-robotics-series-b.md"):
        shutil.copy(NEWS_DEV.articles / name, folder / name)
    split = dataclasses.replace(NEWS_DEV, articles=folder)
    bot = split.bot(settings, embeddings=e5)
    assert bot.settings.data_dir == settings.data_dir / "news-eval"
    assert bot.settings.collection == "news-eval" != settings.collection
    assert {d.doc_id for d in bot.documents()} == {"articles/velora-mini-recall.md",
                                                      "articles/kairo-robotics-series-b.md"}
    assert [r.doc_id for r in bot.search("Velora Miniのリコール台数", k=1)] == ["articles/velora-mini-recall.md"]
    # An article deleted from the folder leaves the split's store at the next run.
    (folder / "kairo-robotics-series-b.md").unlink()
    assert {d.doc_id for d in split.bot(settings, embeddings=e5).documents()} == {"articles/velora-mini-recall.md"}
    # The seed splits stay on the configured store, which the news split never wrote to.
    assert SPLITS["dev"].settings(settings) == settings
    assert not (settings.data_dir / "chroma").exists()
