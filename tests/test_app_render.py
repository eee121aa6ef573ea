"""How app.py renders sources: escaped text, the cited sentence highlighted (no browser needed)."""

import importlib.util
from types import SimpleNamespace

from chatbot.answer import Answer, EvidenceFound, Quote
from chatbot.citations import Citation
from chatbot.retrieval import SearchResult
from chatbot.store import ChunkMeta
from conftest import ROOT

spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)

TEXT = "前の文。<script>alert(1)</script>は危険な文字列です。後の文。"


def result(**kw):
    return SearchResult(rank=1, doc_id="corpus/x.md", title="<b>T</b>", source="", chunk_id="c1", text=TEXT,
                        score=1.0, meta=ChunkMeta("corpus/x.md", "<b>T</b>", publisher="P<i>", published="2026-11-20"), **kw)


def test_cited_sentence_is_highlighted_and_everything_escaped():
    quote = "<script>alert(1)</script>は危険な文字列です。"
    answer = Answer(question="q", text="a[1]。", refused=False, language="ja", query="q", model="m",
                    sources=[result()], citations=[Citation(1, "corpus/x.md", "<b>T</b>", "", "c1", TEXT, quote)])
    out = app.render_sources(answer)
    assert "<script>" not in out and "<b>T</b>" not in out and "P<i>" not in out
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;は危険な文字列です。</mark>" in out
    assert "[1] &lt;b&gt;T&lt;/b&gt;" in out and "P&lt;i&gt; · 2026-11-20 · corpus/x.md" in out


def test_refusal_is_marked_and_lists_the_closest_passages():
    answer = Answer(question="q", text="提供された記事には、この質問に答える情報が見つかりませんでした。", refused=True,
                    language="ja", query="q", model="m", sources=[result()], citations=[])
    out = app.render_sources(answer)
    assert "class='refusal'" in out and "関連しそうな箇所" in out and "class='source closest'" in out
    assert "<script>" not in out


def test_refusal_shows_the_evidence_that_was_read_escaped():
    evidence = [{"id": 1, "text": "<script>x</script>電力が足りない。", "doc_id": "corpus/x.md", "title": "<b>T</b>"}]
    answer = Answer(question="q", text="提供された記事には、この質問に答える情報が見つかりませんでした。", refused=True,
                    language="ja", query="q", model="m", sources=[result()], citations=[], evidence=evidence)
    out = app.render_sources(answer)
    assert "[1] &lt;script&gt;x&lt;/script&gt;電力が足りない。" in out and "&lt;b&gt;T&lt;/b&gt;" in out
    assert "<script>" not in out and TEXT not in out  # the evidence, not the whole passages


def test_evidence_is_rendered_by_article_while_the_model_writes():
    from chatbot.evidence import Evidence, EvidenceSentence

    r = result()
    s = EvidenceSentence(1, "後の文。", r, TEXT.index("後の文。"), len(TEXT), 1.0)
    out = app.render_evidence(EvidenceFound(Evidence([s], [s]), [r], "en"))
    assert out.startswith("<div id='evidence'>") and "Sources found" in out
    assert "[1] 後の文。" in out and "&lt;b&gt;T&lt;/b&gt;" in out


def test_translated_quote_keeps_the_original_one_click_away_escaped():
    original = "<script>x</script>NVIDIAの性能を優先した。"
    answer = Answer(question="Why?", text="From the article (translated): “They put NVIDIA's performance first.”[1]",
                    refused=False, language="en", query="q", model="m", sources=[result()], citations=[],
                    quotes=[Quote(original, 1, 3, "They put NVIDIA's performance first.")])
    out = app.render_answer(answer)
    assert out.startswith("From the article (translated): “They put NVIDIA&#x27;s performance first.”[1]")
    assert "<details class='original'><summary>Original sentence [1]</summary>" in out
    assert "「&lt;script&gt;x&lt;/script&gt;NVIDIAの性能を優先した。」</details>" in out and "<script>" not in out


def test_an_english_original_under_a_japanese_translation_is_in_english_quotation_marks():
    original = "Brightpath will open a Tokyo office in April 2026."
    answer = Answer(question="いつ？", text="記事より（訳）：“ブライトパスは2026年4月に東京事務所を開く。”[1]",
                    refused=False, language="ja", query="q", model="m", sources=[result()], citations=[],
                    quotes=[Quote(original, 1, 3, "ブライトパスは2026年4月に東京事務所を開く。")])
    assert f"“{original}”</details>" in app.render_answer(answer)


def test_refusal_evidence_is_grouped_by_article_without_headings_or_questions():
    evidence = [
        {"id": 1, "text": "この記事の監修", "doc_id": "corpus/x.md", "title": "<b>T</b>", "chunk_id": "c1"},
        {"id": 2, "text": "OpenAIはAWSと380億ドルの契約を結んだと発表した。", "doc_id": "corpus/x.md",
         "title": "<b>T</b>", "chunk_id": "c1"},
        {"id": 3, "text": "なぜ今、OpenAIはこの一手を選んだのか。", "doc_id": "corpus/x.md", "title": "<b>T</b>",
         "chunk_id": "c1"},
        {"id": 4, "text": "契約は7年間にわたり、段階的に拡大される予定だ。", "doc_id": "corpus/x.md",
         "title": "<b>T</b>", "chunk_id": "c1"},
        {"id": 5, "text": "電力の確保が最大の課題だとナデラ氏は語った。", "doc_id": "corpus/y.md", "title": "電力の記事",
         "chunk_id": "c2"},
    ]
    answer = Answer(question="q", text="提供された記事には、この質問に答える情報が見つかりませんでした。", refused=True,
                    language="ja", query="q", model="m", sources=[result()], citations=[], evidence=evidence)
    out = app.render_sources(answer)
    assert out.count("&lt;b&gt;T&lt;/b&gt;") == 1 and out.count("電力の記事") == 1  # one heading per article
    assert out.count("class='source closest'") == 2
    assert out.index("[2] OpenAI") < out.index("[4] 契約は") < out.index("電力の記事") < out.index("[5] 電力")
    assert "この記事の監修" not in out and "なぜ今" not in out  # a heading and a question are no evidence
    assert "P&lt;i&gt; · 2026-11-20 · corpus/x.md" in out  # the article's byline, from its passage


def test_refusal_whose_evidence_is_only_headings_shows_the_closest_passages():
    evidence = [{"id": 1, "text": "この記事の監修", "doc_id": "corpus/x.md", "title": "<b>T</b>", "chunk_id": "c1"}]
    answer = Answer(question="q", text="提供された記事には、この質問に答える情報が見つかりませんでした。", refused=True,
                    language="ja", query="q", model="m", sources=[result()], citations=[], evidence=evidence)
    out = app.render_sources(answer)
    assert "[1] この記事の監修" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;は危険な文字列です。" in out


def test_a_pdf_citation_shows_the_page_of_the_cited_sentence():
    text = "二ページ目の最後の文です。\n\n三ページ目の最初の文です。"
    starts = [(3, 100 + text.index("三"))]
    meta = ChunkMeta("corpus/r.pdf", "決算資料", publisher="みなと電機", page=2, page_end=3, page_starts=starts)
    passage = SearchResult(rank=1, doc_id="corpus/r.pdf", title="決算資料", source="", chunk_id="c1", text=text,
                           score=1.0, start=100, end=100 + len(text), meta=meta, page=2, page_end=3,
                           page_starts=starts)
    assert passage.page_label == "pp. 2–3"

    def cite(quote):
        citation = SimpleNamespace(n=1, doc_id="corpus/r.pdf", title="決算資料", chunk_id="c1", text=text,
                                   quote=quote, page=None)
        return app.render_sources(SimpleNamespace(refused=False, citations=[citation], sources=[passage],
                                                  text="…[1]", language="ja"))

    assert "corpus/r.pdf · p. 3</small>" in cite("三ページ目の最初の文です。")
    assert "corpus/r.pdf · p. 2</small>" in cite("二ページ目の最後の文です。")
    refusal = app.render_sources(SimpleNamespace(refused=True, citations=[], sources=[passage], text="x",
                                                 language="ja", evidence=[]))
    assert "corpus/r.pdf · pp. 2–3</small>" in refusal  # a whole passage: its page range
