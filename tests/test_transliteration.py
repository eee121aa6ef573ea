"""Names of an English translation checked against its Japanese original (real Sudachi readings)."""

import pytest

from chatbot.transliteration import romanized, unfounded_names, written_in

MINATO = "ミナト電池の大森健吾社長は、北海道でつくった電池を道内の電力会社に売ると述べた。"


@pytest.mark.parametrize("katakana, latin", [
    ("ティム", "timu"), ("シェル", "sheru"), ("ジェフ", "jefu"), ("ウォルマート", "worumato"),
    ("キャノン", "kyanon"), ("シャープ", "shapu"), ("トランプ", "torampu"), ("ヴォルタ", "voruta"),
])
def test_katakana_is_romanized_as_the_english_spelling_sounds(katakana, latin):
    assert romanized(katakana).replace("ー", "") == latin


@pytest.mark.parametrize("translation, original", [
    ("Minato Battery President Kengo Omori said it would sell the batteries made in Hokkaido.", MINATO),
    ("Existing data centers, such as Microsoft's hub in Ashburn, Virginia, are at capacity.",
     "既存データセンター(特にMicrosoftの主要拠点であるバージニア州アッシュバーンなど)は、限界に達しつつある。"),
    ("Quantix was founded in Boston in 2018.", "Quantixは2018年に米ボストンで創業した。"),
    ("It is a strategic asset for the United States in its AI race with China.",
     "これは中国とのAI競争における優位性を目指す米国にとって戦略的な資産だ。"),
    ("President Trump said so.", "トランプ大統領はそう述べた。"),
    ("AWS provides tens of thousands of NVIDIA GPUs.", "AWSは数十万基のNVIDIA製GPUを提供する。"),
    ("The company said so.", "同社はそう述べた。"),
])
def test_names_spelled_from_the_original_are_founded(translation, original):
    assert unfounded_names(translation, original) == []


@pytest.mark.parametrize("translation, original, invented", [
    ("It will build the cars at its factory in Los Angeles, California.", "ローズタウン工場で生産する。",
     ["Los Angeles", "California"]),
    ("Minato Battery's Masato Hayama, CEO, said it.", MINATO, ["Masato Hayama"]),
    ("Sony announced a new battery.", "同社は新型電池を発表した。", ["Sony"]),
    ("Japan's power companies will buy the batteries.", MINATO, ["Japan"]),
    ("This is why new GPUs cannot be added at data centers such as Ashburn.",
     "このため、新たにGPUを追加したくても設置できない。", ["Ashburn"]),
])
def test_a_name_the_original_does_not_spell_is_unfounded(translation, original, invented):
    assert unfounded_names(translation, original) == invented


def test_the_question_may_name_what_the_original_calls_the_company():
    original = "同社は新型電池を発表した。"
    assert unfounded_names("Sony announced a new battery.", original, "What did Sony announce?") == []


def test_the_shipped_threshold_finds_most_names_and_lets_few_invented_ones_through():
    # the measurement behind chatbot.rules.TRANSLITERATION_DISTANCE (python -m eval transliteration)
    from chatbot.rules import TRANSLITERATION_DISTANCE
    from eval.transliteration import run

    result = run()
    at = next(c for c in result["curve"] if c["threshold"] == TRANSLITERATION_DISTANCE)
    assert at["names_found"] >= 0.9 and at["invented_let_through"] <= 0.01
    # the stricter subject test (chatbot.rules.WHOLE_READING) lets fewer through, finding nearly as many
    assert result["subjects"]["names_found"] >= 0.9
    assert result["subjects"]["invented_let_through"] < at["invented_let_through"]


def test_a_subject_name_spells_a_whole_reading_not_a_part_of_one():
    assert written_in("Soranote", "業務チャット「ソラノート」の料金") and not written_in("Soranote", "ソラリンクの売上高")
    assert written_in("Tomakomai", "苫小牧市に新工場") and written_in("Ohio", "オハイオ州の工場")
    assert not written_in("Sora", "ソラリンクは値上げする") and written_in("Soralink", "ソラリンクは値上げする")  # a part
    # one word of a name is a mention (ナデラ氏); a subject needs every word somewhere in the passage
    assert written_in("Satya Nadella", "ナデラ氏は述べた") and not written_in("Satya Nadella", "ナデラ氏は述べた", every=True)
    assert written_in("Satya Nadella", "サティア・ナデラCEOは語った", every=True)
