"""The evidence-sentence vectors stored next to the index: written by ingest with the chunks,
deleted with them, never for a sentence another article still holds (real e5, real SQLite)."""

import sqlite3

import pytest

import chatbot.ingest as ingest_mod
from chatbot.ingest import sentence_texts

SHARED = "両社は2025年11月3日に提携を発表した。"
ALPHA = f"---\ntitle: アルファ\n---\n\nアルファ社は新しい工場を福岡に建てる。\n\n{SHARED}\n"
BETA = f"---\ntitle: ベータ\n---\n\nベータ社は蓄電池の出荷を倍に増やす。\n\n{SHARED}\n"


def stored_texts(bot) -> set[str]:
    """The sentences whose vectors the cache holds (by their hash)."""
    with sqlite3.connect(bot.sentence_vectors.path) as db:
        keys = {k for (k,) in db.execute("SELECT key FROM vectors")}
    _, texts, _ = bot.store.all_texts()
    every = {t for text in texts for t in sentence_texts(text)} | set(sentence_texts(ALPHA)) | set(sentence_texts(BETA))
    return {t for t in every if bot.sentence_vectors._key(t) in keys}


def every_chunk_has_its_sentences(bot) -> bool:
    _, texts, _ = bot.store.all_texts()
    wanted = [t for text in texts for t in sentence_texts(text)]
    return all(v is not None for v in bot.sentence_vectors._load(wanted).values())


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "alpha.md").write_text(ALPHA, encoding="utf-8")
    (folder / "beta.md").write_text(BETA, encoding="utf-8")
    return folder


def test_removing_an_article_deletes_its_sentences_but_not_shared_ones(bot, corpus):
    bot.ingest(corpus)
    assert every_chunk_has_its_sentences(bot)
    assert {"アルファ社は新しい工場を福岡に建てる。", SHARED} <= stored_texts(bot)
    bot.remove("corpus/alpha.md")
    kept = stored_texts(bot)
    assert "アルファ社は新しい工場を福岡に建てる。" not in kept and "アルファ" not in " ".join(kept)
    assert SHARED in kept and "ベータ社は蓄電池の出荷を倍に増やす。" in kept  # beta still holds them
    bot.remove("corpus/beta.md")
    assert stored_texts(bot) == set()


def test_a_changed_article_drops_the_sentences_of_its_replaced_chunk(bot, corpus):
    bot.ingest(corpus)
    (corpus / "alpha.md").write_text(ALPHA.replace("福岡", "熊本"), encoding="utf-8")
    report = bot.ingest(corpus)
    assert report.chunks_added == 1 and report.chunks_removed == 1
    kept = stored_texts(bot)
    assert "アルファ社は新しい工場を熊本に建てる。" in kept and "アルファ社は新しい工場を福岡に建てる。" not in kept
    assert SHARED in kept and every_chunk_has_its_sentences(bot)


def test_ingest_embeds_only_the_new_chunks_sentences(bot, corpus):
    bot.ingest(corpus / "alpha.md")
    embedded = []
    real = bot.embeddings.embed_passages

    def counting(texts):
        embedded.extend(texts)
        return real(texts)

    bot.embeddings.embed_passages = counting
    try:
        bot.ingest(corpus)
    finally:
        del bot.embeddings.embed_passages
    chunk, *sentences = embedded
    assert chunk.startswith("ベータ社") and SHARED in chunk  # the one new chunk
    assert sentences == ["ベータ社は蓄電池の出荷を倍に増やす。"]  # alpha's sentences and the shared one were stored


def test_a_crash_after_some_chunks_leaves_every_stored_chunk_with_its_sentences(bot, corpus, monkeypatch):
    monkeypatch.setattr(ingest_mod, "EMBED_BATCH", 1)
    monkeypatch.setattr(bot.embeddings, "parallel_texts", 1)  # one chunk a write
    calls = []
    real_add = bot.store.add

    def dies_on_second_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process stopped mid-ingest
        return real_add(*args, **kwargs)

    monkeypatch.setattr(bot.store, "add", dies_on_second_write)
    with pytest.raises(KeyboardInterrupt):
        bot.ingest(corpus)
    assert bot.store.count() == 1 and every_chunk_has_its_sentences(bot)
    monkeypatch.setattr(bot.store, "add", real_add)
    assert bot.ingest(corpus).chunks_added == 1 and every_chunk_has_its_sentences(bot)


def test_a_cache_from_before_the_records_is_recorded_once_then_removals_work(bot, corpus):
    bot.ingest(corpus)
    with sqlite3.connect(bot.sentence_vectors.path) as db:
        db.execute("DELETE FROM chunk_sentences")  # as written by the previous version
    bot.remove("corpus/alpha.md")
    kept = stored_texts(bot)
    assert SHARED in kept and "アルファ社は新しい工場を福岡に建てる。" not in kept
