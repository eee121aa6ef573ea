"""Citation parsing, checks against evidence sentences, and fact checks (pure logic, no model)."""

from chatbot.citations import check_answer, lexical_support, split_answer
from chatbot.evidence import Evidence, EvidenceSentence
from chatbot.facts import missing_facts, missing_terms, names, numbers, question_terms
from chatbot.retrieval import SearchResult

NVIDIA = ("しかし、OpenAIの選択は違いました。AGI開発の最前線を走る彼らは、AWS独自チップが持つ特定の価格性能比よりも、"
          "NVIDIAが提供する絶対的な性能、柔軟性、そして成熟したCUDAソフトウェア・エコシステムを優先したのです。")
DEAL = "OpenAIがAmazon Web Services(AWS)と結んだ、7年間で380億ドル(約5.8兆円)という天文学的な規模のクラウド契約です。"
POWER = "ナデラCEOは、在庫にあるAI GPUの一部を接続するのに十分な電力が確保できていないと述べた。"


def evidence(*texts: str, title: str = "") -> Evidence:
    """Evidence sentences 1..n, each the whole text of its own passage (doc ids d1, d2, ...)."""
    sentences = []
    for i, text in enumerate(texts, start=1):
        r = SearchResult(rank=i, doc_id=f"d{i}", title=title, source=f"d{i}.md", chunk_id=f"d{i}#0", text=text,
                         score=1.0)
        sentences.append(EvidenceSentence(i, text, r, 0, len(text), 1.0 - i / 10))
    return Evidence(sentences, list(sentences))


EVIDENCE = evidence(DEAL, POWER, NVIDIA)


def test_markers_are_parsed_in_every_common_form():
    parsed = split_answer("一つ目です[1]。二つ目です。[2][3] 三つ目［１，２］。四つ目【3】。")
    assert parsed == [("一つ目です。", [1]), ("二つ目です。", [2, 3]), ("三つ目。", [1, 2]), ("四つ目。", [3])]


def test_correct_citations_are_kept_renumbered_by_first_use_and_quote_their_sentence():
    answer = "NVIDIAの絶対的な性能と柔軟性、成熟したCUDAエコシステムを優先したためです[3]。契約は7年間で380億ドルです[1]。"
    checked = check_answer(answer, EVIDENCE)
    assert checked.text == ("NVIDIAの絶対的な性能と柔軟性、成熟したCUDAエコシステムを優先したためです[1]。"
                            "契約は7年間で380億ドルです[2]。")
    assert [(c.n, c.doc_id, c.evidence_id) for c in checked.citations] == [(1, "d3", 3), (2, "d1", 1)]
    assert checked.citations[0].quote == NVIDIA and checked.citations[0].text[0:len(NVIDIA)] == NVIDIA
    assert not checked.removed


def test_marker_to_no_evidence_is_dropped_and_sentence_is_realigned():
    checked = check_answer("ナデラCEOは十分な電力が確保できていないと述べました[9]。", EVIDENCE)
    assert checked.text == "ナデラCEOは十分な電力が確保できていないと述べました[1]。"
    assert checked.citations[0].doc_id == "d2"


def test_wrong_citation_is_moved_to_the_supporting_sentence():
    checked = check_answer("契約は7年間で380億ドルです[2]。", EVIDENCE)
    assert [c.doc_id for c in checked.citations] == ["d1"]


def test_stray_citation_next_to_the_supporting_one_is_dropped():
    checked = check_answer("契約は7年間で380億ドルです[1][2]。", EVIDENCE)
    assert checked.text == "契約は7年間で380億ドルです[1]。" and [c.doc_id for c in checked.citations] == ["d1"]


def test_citation_holding_a_figure_of_the_sentence_is_kept():
    first = "OpenAIはAWSとクラウド契約を結んだと発表した。"
    ev = evidence(first, "発表は2025年11月3日だった。")
    checked = check_answer("OpenAIはAWSとクラウド契約を結んだと2025年11月3日に発表した[1][2]。", ev)
    assert [c.evidence_id for c in checked.citations] == [1, 2] and not checked.removed


def test_uncited_sentence_gets_its_best_sentence():
    checked = check_answer("OpenAIとAWSの契約は7年間で380億ドルです。", EVIDENCE)
    assert checked.text.endswith("[1]。") and checked.citations[0].doc_id == "d1"


def test_unsupported_sentence_is_removed_and_gets_no_citation():
    checked = check_answer("Googleは来年、量子コンピューターを発売します[1]。", EVIDENCE)
    assert checked.citations == [] and checked.sentences == []
    assert len(checked.removed) == 1 and not checked.removed[0].supported


def test_invented_number_is_removed_even_when_the_sentence_looks_supported():
    checked = check_answer("OpenAIがAWSと結んだ契約は7年間で450億ドルです[1]。", EVIDENCE)
    assert checked.removed[0].missing_facts == ["4.5e+10"] and checked.sentences == []


def test_short_answer_restating_the_question_is_judged_on_what_it_adds():
    ev = evidence("テクノロジーと文化をテーマに執筆活動を行う27歳のAIライターです。")
    question = "星川アイナさんは何歳のライターですか？"
    assert check_answer("星川アイナさんは27歳のライターです[1]。", ev, question=question).sentences
    assert not check_answer("星川アイナさんは29歳のライターです[1]。", ev, question=question).sentences


def test_fact_in_the_neighbouring_evidence_sentence_is_cited_too():
    date = "2025年11月3日、AI業界を震撼させるニュースが飛び込みました。"
    ev = evidence(date, DEAL)
    ev.sentences[1].result.doc_id = "d1"  # the same article: the date sits in the sentence before
    checked = check_answer("2025年11月3日、OpenAIはAWSと7年間で380億ドルの契約を結びました[2]。", ev)
    assert checked.sentences and [c.evidence_id for c in checked.citations] == [1, 2]


def test_cross_language_support_uses_the_similarity_signal():
    def similarity(sentence, candidates):
        return [0.9 if "380億" in c else 0.5 for c in candidates]

    answer = "The deal is worth 38 billion dollars over seven years."
    assert check_answer(answer, EVIDENCE).citations == []  # no shared characters
    checked = check_answer(answer, EVIDENCE, similarity=similarity)
    assert [c.doc_id for c in checked.citations] == ["d1"]
    assert checked.sentences[0].missing_facts == []  # 38 billion == 380億


def test_a_copied_title_is_no_claim():
    ev = evidence(DEAL, title="OpenAIとAWSの380億ドル契約")
    checked = check_answer("OpenAIとAWSの380億ドル契約[1]。契約は7年間で380億ドルです[1]。", ev)
    assert checked.text == "契約は7年間で380億ドルです[1]。"
    assert [s.text for s in checked.removed] == ["OpenAIとAWSの380億ドル契約。"]


def test_numbers_are_normalized_across_scripts_and_units():
    assert numbers("380億ドル") == numbers("38Bドル") == numbers("$38 billion") == {3.8e10}
    assert numbers("５兆９，０００億円") == {5.9e12}
    assert 5e11 in numbers("5,000億ドル規模")
    assert missing_facts("It is a $38B, 7-year deal.", [DEAL]) == []


def test_names_are_latin_proper_nouns_not_sentence_starts():
    assert names("The deal gives OpenAI access to NVIDIA GB200 chips via Amazon.") == {"openai", "nvidia", "gb200", "amazon"}
    assert missing_facts("OpenAI chose Google TPUs.", [NVIDIA]) == ["google", "tpus"]


def test_lexical_support_ignores_punctuation_and_width():
    assert lexical_support("ＣＵＤＡ　ソフトウェア・エコシステム。", "成熟したCUDAソフトウェア・エコシステム") == 1.0
    assert lexical_support("量子コンピューター", "成熟したCUDAソフトウェア・エコシステム") < 0.2


def test_english_sentence_over_japanese_source_checks_codes_not_transliterated_names():
    source = "2025年11月3日、OpenAIはAWSと契約した。ナデラCEOは電力が足りないと語った。"
    assert missing_facts("Nadella said power is short, on November 3, 2025.", [source], codes_only=True) == []
    assert missing_facts("OpenAI signed with Google on November 3.", [source], codes_only=True) == []
    assert missing_facts("OpenAI signed with GCP on November 4.", [source], codes_only=True) == ["4", "gcp"]
    assert "november" not in names("It was announced on November 3.")


def test_question_terms_are_numbers_names_and_japanese_proper_nouns():
    assert question_terms("Microsoftは2019年にOpenAIへいくら出資した？") == ["2019", "openai"]
    assert question_terms("京都府で3つのデータセンターを建てたのは？") == ["京都"]  # small counts are not terms
    assert question_terms("アメリカで人気の日本のスポーツは？") == []  # countries have other names (米国)
    # katakana names are often written in Latin letters (Microsoft); 見方 is also a common noun
    assert question_terms("マイクロソフトについて2つの記事の見方は？") == []
    assert question_terms("When did Nadella meet AWS in 2019?", same_language=False) == ["2019", "aws"]
    assert missing_terms("OpenAIは380億ドルを何年で払う？", [DEAL]) == []  # found by value and by name
    assert missing_terms("GPT-6は380億ドルで作られた？", [DEAL]) == ["gpt-6"]
    # Names joined by a hyphen count when each is found; a code with a number part must match whole.
    assert missing_terms("How big is the OpenAI-AWS deal?", [DEAL], same_language=False) == []
    assert missing_terms("Is the deal about GPT-7?", [DEAL + "GPT-5やGPT-6"], same_language=False) == ["gpt-7"]
    # Across languages a code joined to plain words needs only its code: the article writes AI生成.
    assert question_terms("Why must AI-generated ads be labelled?", same_language=False) == ["ai"]
    assert missing_terms("Why must AI-generated ads be labelled?", ["生成AIでつくった広告に「AI生成」と表示する。"],
                         same_language=False) == []


def test_years_must_match_exactly_while_rounded_amounts_may_differ():
    assert missing_facts("契約は2016年に結ばれた。", ["2025年11月3日、OpenAIは契約を発表した。"]) == ["2016"]
    assert missing_facts("約5.8兆円の契約。", ["5.82兆円の契約。"]) == []
