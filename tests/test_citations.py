"""Citation parsing, alignment and fact checks (pure logic, no model)."""

from chatbot.citations import Passage, check_answer, check_translation, lexical_support, split_answer
from chatbot.facts import missing_facts, missing_terms, names, numbers, question_terms

NVIDIA = ("しかし、OpenAIの選択は違いました。AGI開発の最前線を走る彼らは、AWS独自チップが持つ特定の価格性能比よりも、"
          "NVIDIAが提供する絶対的な性能、柔軟性、そして成熟したCUDAソフトウェア・エコシステムを優先したのです。")
DEAL = "OpenAIがAmazon Web Services(AWS)と結んだ、7年間で380億ドル(約5.8兆円)という天文学的な規模のクラウド契約です。"
POWER = "ナデラCEOは、在庫にあるAI GPUの一部を接続するのに十分な電力が確保できていないと述べた。"
PASSAGES = [Passage(1, DEAL, doc_id="deal"), Passage(2, POWER, doc_id="power"), Passage(3, NVIDIA, doc_id="nvidia")]


def test_markers_are_parsed_in_every_common_form():
    parsed = split_answer("一つ目です[1]。二つ目です。[2][3] 三つ目［１，２］。四つ目【3】。")
    assert parsed == [("一つ目です。", [1]), ("二つ目です。", [2, 3]), ("三つ目。", [1, 2]), ("四つ目。", [3])]


def test_correct_citations_are_kept_and_renumbered_by_first_use():
    answer = "NVIDIAの絶対的な性能と柔軟性、成熟したCUDAエコシステムを優先したためです[3]。契約は7年間で380億ドルです[1]。"
    checked = check_answer(answer, PASSAGES)
    assert checked.text == ("NVIDIAの絶対的な性能と柔軟性、成熟したCUDAエコシステムを優先したためです[1]。"
                            "契約は7年間で380億ドルです[2]。")
    assert [(c.n, c.doc_id) for c in checked.citations] == [(1, "nvidia"), (2, "deal")]
    assert "CUDA" in checked.citations[0].quote and checked.citations[0].text == NVIDIA
    assert not checked.unsupported


def test_marker_to_no_source_is_dropped_and_sentence_is_realigned():
    checked = check_answer("ナデラCEOは十分な電力が確保できていないと述べました[9]。", PASSAGES)
    assert checked.text == "ナデラCEOは十分な電力が確保できていないと述べました[1]。"
    assert checked.citations[0].doc_id == "power"


def test_wrong_citation_is_moved_to_the_supporting_source():
    checked = check_answer("契約は7年間で380億ドルです[2]。", PASSAGES)
    assert [c.doc_id for c in checked.citations] == ["deal"]


def test_uncited_sentence_gets_its_best_source():
    checked = check_answer("OpenAIとAWSの契約は7年間で380億ドルです。", PASSAGES)
    assert checked.text.endswith("[1]。") and checked.citations[0].doc_id == "deal"


def test_unsupported_sentence_is_flagged_and_gets_no_citation():
    checked = check_answer("Googleは来年、量子コンピューターを発売します[1]。", PASSAGES)
    assert checked.citations == []
    assert len(checked.unsupported) == 1 and not checked.unsupported[0].supported


def test_invented_number_is_flagged_even_when_the_sentence_looks_supported():
    checked = check_answer("OpenAIがAWSと結んだ契約は7年間で450億ドルです[1]。", PASSAGES)
    assert checked.sentences[0].missing_facts == ["4.5e+10"]
    assert checked.unsupported


def test_cross_language_support_uses_the_similarity_signal():
    def similarity(sentence, candidates):
        return [0.9 if "380億" in c else 0.5 for c in candidates]

    answer = "The deal is worth 38 billion dollars over seven years."
    assert check_answer(answer, PASSAGES).citations == []  # no shared characters
    checked = check_answer(answer, PASSAGES, similarity=similarity)
    assert [c.doc_id for c in checked.citations] == ["deal"]
    assert checked.sentences[0].missing_facts == []  # 38 billion == 380億


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


def test_a_copied_title_is_no_claim():
    titled = Passage(4, "OpenAIとAWSの380億ドル契約\n" + DEAL, doc_id="deal", title="OpenAIとAWSの380億ドル契約")
    checked = check_answer("OpenAIとAWSの380億ドル契約[4]。契約は7年間で380億ドルです[4]。", PASSAGES + [titled],
                           keep_unsupported=False)
    assert checked.text == "契約は7年間で380億ドルです[1]。"
    assert [s.text for s in checked.removed] == ["OpenAIとAWSの380億ドル契約。"]


def test_question_terms_are_numbers_names_and_japanese_proper_nouns():
    assert question_terms("Microsoftは2019年にOpenAIへいくら出資した？") == ["2019", "openai"]
    assert question_terms("京都府で3つのデータセンターを建てたのは？") == ["京都"]  # small counts are not terms
    assert question_terms("アメリカで人気の日本のスポーツは？") == []  # countries have other names (米国)
    # katakana names are often written in Latin letters (Microsoft); 見方 is also a common noun
    assert question_terms("マイクロソフトについて2つの記事の見方は？") == []
    assert question_terms("When did Nadella meet AWS in 2019?", same_language=False) == ["2019", "aws"]
    assert missing_terms("OpenAIは380億ドルを何年で払う？", [DEAL]) == []  # found by value and by name
    assert missing_terms("GPT-6は380億ドルで作られた？", [DEAL]) == ["gpt-6"]


def test_years_must_match_exactly_while_rounded_amounts_may_differ():
    assert missing_facts("契約は2016年に結ばれた。", ["2025年11月3日、OpenAIは契約を発表した。"]) == ["2016"]
    assert missing_facts("約5.8兆円の契約。", ["5.82兆円の契約。"]) == []


def test_translation_keeps_citations_and_checks_numbers_and_acronyms():
    plant = Passage(1, "さらに8月に台湾の電子機器メーカー、フォックスコンから3億7500万ドルで買収したローズタウン工場を改修した。",
                    doc_id="plant")
    draft = check_answer("ソフトバンクはフォックスコンから3億7500万ドルで工場を買収した[1]。", [plant])
    assert draft.sentences and draft.citations[0].doc_id == "plant"
    ok = check_translation("SoftBank bought the plant from Foxconn for $375 million.", draft)
    assert ok.text == "SoftBank bought the plant from Foxconn for $375 million[1]." and not ok.removed
    bad = check_translation("SoftBank bought the plant for $475 million [1]. It runs GPT-7 there [1].", draft)
    assert bad.sentences == [] and len(bad.removed) == 2  # a changed figure, an invented model name
