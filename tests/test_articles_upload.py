"""Safe uploads into the corpus folder (``chatbot.uploads.save_upload``; no browser, no index)."""

import os

import pytest

from chatbot.uploads import safe_name, save_upload
from fixtures import news_pages as fx

MB = 1_000_000
ARTICLE = "---\ntitle: テスト記事\n---\n\nカワセミ・ロボティクスは12億円を調達した。\n"


@pytest.fixture
def dirs(tmp_path):
    uploads, corpus = tmp_path / "gradio-tmp", tmp_path / "corpus"
    uploads.mkdir()
    corpus.mkdir()
    return uploads, corpus


def upload_file(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def files_in(corpus):
    return sorted(p.name for p in corpus.iterdir())


def test_article_is_saved_under_its_name(dirs):
    uploads, corpus = dirs
    dst, created, note = save_upload(upload_file(uploads, "kawasemi.md", ARTICLE), corpus, 20 * MB)
    assert (dst, created, note) == (corpus / "kawasemi.md", True, "")
    assert dst.read_text(encoding="utf-8") == ARTICLE and files_in(corpus) == ["kawasemi.md"]


def test_existing_file_is_never_overwritten(dirs):
    uploads, corpus = dirs
    (corpus / "kawasemi.md").write_text("元の記事です。", encoding="utf-8")
    dst, created, note = save_upload(upload_file(uploads, "kawasemi.md", ARTICLE), corpus, 20 * MB)
    assert dst == corpus / "kawasemi-2.md" and created and "kawasemi.md exists" in note
    assert (corpus / "kawasemi.md").read_text(encoding="utf-8") == "元の記事です。"
    # the same bytes again: nothing new is written
    again = save_upload(upload_file(uploads, "kawasemi.md", ARTICLE), corpus, 20 * MB)
    assert again == (corpus / "kawasemi-2.md", False, "already in the corpus")
    assert files_in(corpus) == ["kawasemi-2.md", "kawasemi.md"]


def test_a_symlink_in_the_corpus_is_never_written_through(dirs, tmp_path):
    uploads, corpus = dirs
    outside = tmp_path / "outside.md"
    outside.write_text("外のファイル。", encoding="utf-8")
    os.symlink(outside, corpus / "evil.md")
    os.symlink(tmp_path / "missing.md", corpus / "dangling.md")
    dst, created, _ = save_upload(upload_file(uploads, "evil.md", ARTICLE), corpus, 20 * MB)
    assert dst == corpus / "evil-2.md" and not dst.is_symlink()
    assert outside.read_text(encoding="utf-8") == "外のファイル。"
    dst, _, _ = save_upload(upload_file(uploads, "dangling.md", ARTICLE), corpus, 20 * MB)
    assert dst == corpus / "dangling-2.md" and not (tmp_path / "missing.md").exists()


def test_too_large_file_is_refused_before_anything_is_written(dirs):
    uploads, corpus = dirs
    big = upload_file(uploads, "big.txt", "あ" * (MB // 3 + 10))  # 1 MB and a bit, in UTF-8
    dst, created, reason = save_upload(big, corpus, 1 * MB)
    assert dst is None and "too large (1.0 MB; the limit is 1 MB)" in reason
    assert files_in(corpus) == []


@pytest.mark.parametrize("name, data, reason", [
    ("notes.exe", b"MZ\x90\x00", "unsupported file type"),
    ("archive.zip", b"PK\x03\x04", "unsupported file type"),
    ("broken.pdf", b"%PDF-1.4\n%%EOF", "not a readable PDF"),
    ("login.html", fx.login_wall_page(), "no article text found"),
    ("latin1.txt", "Café crème.".encode("latin-1"), "not UTF-8"),
])
def test_a_file_that_cannot_be_ingested_leaves_nothing_behind(dirs, name, data, reason):
    uploads, corpus = dirs
    dst, created, why = save_upload(upload_file(uploads, name, data), corpus, 20 * MB)
    assert dst is None and reason in why
    assert files_in(corpus) == []  # not even the hidden temporary copy


def test_file_names_cannot_leave_the_corpus_or_hide(dirs):
    assert safe_name("../../etc/passwd.md") == "passwd.md"
    assert safe_name("..\\..\\win.txt") == "win.txt"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("a\x00b\nc.md") == "abc.md"
    assert safe_name("記事 1.html") == "記事 1.html"
