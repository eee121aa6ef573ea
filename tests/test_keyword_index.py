"""The persistent keyword index: ingest updates only the chunks of the article that was added,
changed or removed; a restart opens the index instead of rebuilding it; chunks that reached
Chroma but not the index are found again; a second client of a shared Chroma server catches up
with the first's ingests; and each engine ranks like the in-memory BM25 it replaces."""

import pytest

import chatbot.keyword_index as keyword_index
from chatbot import Chatbot, Settings
from chatbot.keyword_index import ENGINES
from chatbot.lexical import BM25Index
from helpers import free_port, start_chroma

ON_DISK = ["sqlite", "tantivy"]
POWER = "# 電力の記事\n\nデータセンターの電力不足が深刻になっている。送電網の増強には十年かかるという。\n"
CHIPS = "# 半導体の記事\n\n半導体メーカーは新しい工場を熊本に建設すると発表した。\n"
HYDROGEN = "# 水素の記事\n\n水素を使う発電所の建設が始まった。送電網の増強には十年かかるという。\n"


def write(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def bm25_docs(bot, query):
    return {c.meta.doc_id for c in bot.retriever.bm25_candidates(query, 10)}


class Recorder:
    """Wraps an engine's writes and the tokenizer to record what was (re)indexed."""

    def __init__(self, bot, monkeypatch):
        self.added, self.deleted, self.tokenized = [], [], 0
        engine = bot.store.keyword.engine
        add, delete, tokenize = engine.add, engine.delete, keyword_index.tokenize
        monkeypatch.setattr(engine, "add", lambda ids, tokens: (self.added.extend(ids), add(ids, tokens)))
        monkeypatch.setattr(engine, "delete", lambda ids: (self.deleted.extend(ids), delete(ids)))

        def counting(text):
            self.tokenized += 1
            return tokenize(text)
        monkeypatch.setattr(keyword_index, "tokenize", counting)


@pytest.mark.parametrize("engine", ON_DISK)
def test_add_change_remove_touch_only_that_article(tmp_path, e5, monkeypatch, engine):
    corpus = write(tmp_path / "news", power=POWER, chips=CHIPS)
    bot = Chatbot(Settings(data_dir=tmp_path / "data", keyword_index=engine), embeddings=e5)
    bot.ingest(corpus)
    assert bot.store.keyword.engine.ids() == set(bot.store.all_ids())
    assert bm25_docs(bot, "電力不足") == {"news/power.md"}
    chips_ids = set(bot.store.metadata_of(["news/chips.md"]))

    rec = Recorder(bot, monkeypatch)
    write(corpus, power=HYDROGEN)  # changed: its chunk text is new
    report = bot.ingest(corpus)
    new_ids = set(bot.store.metadata_of(["news/power.md"]))
    assert report.chunks_added == len(new_ids) and set(rec.added) == new_ids
    assert not set(rec.deleted) & chips_ids  # the other article was not touched
    assert bm25_docs(bot, "水素発電") == {"news/power.md"} and bm25_docs(bot, "電力不足") == set()

    rec.added.clear()
    bot.remove("news/chips.md")
    assert set(rec.deleted) >= chips_ids and not rec.added
    assert bm25_docs(bot, "半導体工場") == set()
    assert bot.store.keyword.engine.ids() == set(bot.store.all_ids()) == new_ids


@pytest.mark.parametrize("engine", ON_DISK)
def test_restart_opens_the_index_instead_of_rebuilding(tmp_path, e5, monkeypatch, engine):
    settings = Settings(data_dir=tmp_path / "data", keyword_index=engine)
    Chatbot(settings, embeddings=e5).ingest(write(tmp_path / "news", power=POWER, chips=CHIPS))

    restarted = Chatbot(settings, embeddings=e5)
    rec = Recorder(restarted, monkeypatch)
    assert bm25_docs(restarted, "半導体工場") == {"news/chips.md"}
    assert rec.tokenized == 1 and not rec.added  # the query only: nothing re-tokenized, nothing rebuilt


@pytest.mark.parametrize("engine", ON_DISK)
def test_chunks_that_reached_chroma_but_not_the_index_are_found_after_a_restart(tmp_path, e5, monkeypatch, engine):
    settings = Settings(data_dir=tmp_path / "data", keyword_index=engine)
    bot = Chatbot(settings, embeddings=e5)
    bot.ingest(write(tmp_path / "news", power=POWER))

    # The process dies after Chroma committed the new article and before the keyword index did.
    def crash(ids, tokens):
        raise KeyboardInterrupt("killed")
    monkeypatch.setattr(bot.store.keyword.engine, "add", crash)
    with pytest.raises(KeyboardInterrupt):
        bot.ingest(write(tmp_path / "news", chips=CHIPS))
    assert bot.store.metadata_of(["news/chips.md"])  # in Chroma

    restarted = Chatbot(settings, embeddings=e5)
    assert bm25_docs(restarted, "半導体工場") == {"news/chips.md"}  # reconciled by chunk ids
    assert restarted.store.keyword.engine.ids() == set(restarted.store.all_ids())
    assert restarted.ingest(tmp_path / "news").chunks_added == 0


def test_tokenizer_change_rebuilds_from_the_store(tmp_path, e5, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data")
    Chatbot(settings, embeddings=e5).ingest(write(tmp_path / "news", power=POWER))
    monkeypatch.setattr(keyword_index, "TOKENIZER_VERSION", "another-tokenizer")
    restarted = Chatbot(settings, embeddings=e5)
    assert bm25_docs(restarted, "電力不足") == {"news/power.md"}


@pytest.mark.server
def test_a_second_client_of_a_chroma_server_sees_the_first_ones_ingests(tmp_path, e5, monkeypatch):
    port = free_port()
    server = start_chroma(tmp_path / "chroma-server", port)
    url = f"http://127.0.0.1:{port}"
    try:
        writer = Chatbot(Settings(data_dir=tmp_path / "a", chroma_url=url), embeddings=e5)
        reader = Chatbot(Settings(data_dir=tmp_path / "b", chroma_url=url), embeddings=e5)
        corpus = write(tmp_path / "news", power=POWER)
        writer.ingest(corpus)
        assert bm25_docs(reader, "電力不足") == {"news/power.md"}  # built from the server once

        rec = Recorder(reader, monkeypatch)
        writer.ingest(write(corpus, chips=CHIPS))
        assert bm25_docs(reader, "半導体工場") == {"news/chips.md"}
        chips_ids = set(reader.store.metadata_of(["news/chips.md"]))
        assert set(rec.added) == chips_ids  # only the new article's chunks were fetched and tokenized

        writer.remove("news/power.md")
        assert bm25_docs(reader, "電力不足") == set()
        assert reader.store.keyword.engine.ids() == chips_ids
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_ranks_like_the_in_memory_bm25(tmp_path, engine):
    # Filler documents keep every term below half of the documents, where SQLite's idf would be 0.
    docs = {"a": ["電力", "不足"], "b": ["チップ", "不足"], "c": ["電力", "電力", "契約"], "d": ["3.5", "c++"],
            **{f"x{i}": [f"other{i}", "words"] for i in range(6)}}
    index = ENGINES[engine](tmp_path)
    index.add(list(docs), [" ".join(t) for t in docs.values()])
    expected = BM25Index(list(docs.values()))
    ids = list(docs)
    for query in (["電力"], ["電力", "不足"], ["3.5"], ["c++", "契約"]):
        assert [cid for cid, _ in index.search(query, 10)] == [ids[i] for i, _ in expected.top(query, 10)]
    index.delete(["c"])
    assert [cid for cid, _ in index.search(["電力"], 10)] == ["a"] and index.ids() == set(docs) - {"c"}
