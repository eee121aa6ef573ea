import os

from chatbot import Settings
from chatbot.loaders import Document, Skipped, load_documents, load_file


def write(path, content, mode="w"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_front_matter_gives_title_and_metadata(tmp_path):
    f = write(tmp_path / "news" / "a.md",
              "---\ntitle: 記事の題\npublisher: 日経\npublished: 2025-11-03\n---\n\n本文です。\n")
    doc = load_file(f, tmp_path / "news")
    assert isinstance(doc, Document)
    assert doc.title == "記事の題"
    assert doc.metadata["publisher"] == "日経"
    assert doc.metadata["published"] == "2025-11-03"
    assert doc.text == "本文です。"
    assert doc.doc_id == "news/a.md"


def test_title_falls_back_to_heading_then_file_name(tmp_path):
    heading = load_file(write(tmp_path / "c" / "h.md", "# 見出し\n\n本文。"), tmp_path / "c")
    assert heading.title == "見出し"
    assert heading.text == "見出し\n\n本文。"  # heading marks removed, offsets refer to this text
    plain = load_file(write(tmp_path / "c" / "メモ.txt", "本文だけ。"), tmp_path / "c")
    assert plain.title == "メモ"


def test_html_text_and_title_without_scripts(tmp_path):
    html = ("<html><head><title>HTMLの記事</title><script>alert('x')</script></head>"
            "<body><h1>大見出し</h1><p>一段落目。</p><p>二段落目&amp;続き。</p><style>p{}</style></body></html>")
    doc = load_file(write(tmp_path / "c" / "p.html", html), tmp_path / "c")
    assert doc.title == "大見出し"  # the page's headline (og:title, JSON-LD, <h1>) before <title>
    assert "alert" not in doc.text and "p{}" not in doc.text
    assert "一段落目。\n\n二段落目&続き。" in doc.text


def test_normalization_nfkc_and_line_ends(tmp_path):
    doc = load_file(write(tmp_path / "c" / "n.txt", "ＡＷＳは３８０億ドル\r\n\r\n\r\n\r\n次の行\x07。"), tmp_path / "c")
    assert doc.text == "AWSは380億ドル\n\n次の行。"


def test_bad_files_are_skipped_with_reasons_and_good_ones_load(tmp_path):
    c = tmp_path / "c"
    write(c / "good.md", "良い記事です。")
    write(c / "latin1.txt", "caf\xe9".encode("latin-1"))
    write(c / "empty.md", "   \n\n")
    write(c / "binary.txt", b"\x00\x01\x02abc")
    write(c / "bad_yaml.md", "---\ntitle: [unclosed\n---\n本文。")
    write(c / "list_yaml.md", "---\n- a\n- b\n---\n本文。")
    write(c / "image.png", b"\x89PNG")
    os.symlink(c / "loop.md", c / "loop.md")
    docs, skipped = load_documents([c])
    assert [d.doc_id for d in docs] == ["c/good.md"]
    reasons = {os.path.basename(s.path): s.reason for s in skipped}
    assert "UTF-8" in reasons["latin1.txt"]
    assert "empty" in reasons["empty.md"]
    assert "binary" in reasons["binary.txt"]
    assert "front matter" in reasons["bad_yaml.md"]
    assert "front matter" in reasons["list_yaml.md"]
    assert "unsupported" in reasons["image.png"]
    assert "loop" in reasons["loop.md"]


def test_too_large_file_is_skipped(tmp_path, monkeypatch):
    big = write(tmp_path / "c" / "big.txt", "あ" * 200)  # 600 bytes
    result = load_file(big, tmp_path / "c", Settings(max_file_mb=0.0005))
    assert isinstance(result, Skipped) and result.reason.startswith("file too large (0.0 MB > 0.0005 MB)")
    monkeypatch.setenv("CHATBOT_MAX_FILE_MB", "0.001")  # the setting, from the environment
    assert isinstance(load_documents([tmp_path / "c"])[0][0], Document)


def test_missing_path_is_reported(tmp_path):
    docs, skipped = load_documents([tmp_path / "nope"])
    assert not docs and skipped[0].reason == "no such file or folder"


def test_symlinked_folder_loop_is_not_followed(tmp_path):
    c = tmp_path / "c"
    write(c / "a.md", "本文。")
    os.symlink(c, c / "self")
    docs, _ = load_documents([c])
    assert [d.doc_id for d in docs] == ["c/a.md"]


def test_single_file_in_a_corpus_subfolder_keeps_the_folder_doc_id(tmp_path):
    corpus = tmp_path / "corpus"
    f = write(corpus / "sub" / "a.md", "本文。")
    whole, _ = load_documents([corpus])
    single, _ = load_documents([f], home=corpus)
    assert [d.doc_id for d in whole] == [d.doc_id for d in single] == ["corpus/sub/a.md"]
