"""Questions in another language than the articles, with a scripted chat model over the real
corpus, real e5 embeddings and a real Chroma store: the question's translation, the quote's
translation and its checks (figures, borrowed names, the retry of the sentence alone), mixed
archives and refusals in the question's language. Every script starts with the translation of
the question, then the decision ("Yes"/"No")."""

import re
import shutil

from chatbot import Chatbot
from chatbot.answer import NOT_ANSWERABLE, Quote
from chatbot.facts import names
from chatbot.text import language_of

from chain_helpers import EN, NVIDIA_EN, NVIDIA_EN_JA, NVIDIA_JA, best_sentence
from conftest import ROOT, ScriptedChatModel


def test_english_question_gets_the_quote_translated_and_checked(scripted_bot):
    best = best_sentence(scripted_bot(NVIDIA_EN_JA), NVIDIA_EN)
    # A faithful translation keeps the sentence's figures and Latin-script names as written.
    english = "In short: " + ", ".join(re.findall(r"[A-Za-z0-9][A-Za-z0-9.$-]*[A-Za-z0-9]|[0-9]", best.text))
    bot = scripted_bot(NVIDIA_EN_JA, "Yes", f"[{best.id}] {english}.")
    answer = bot.ask(NVIDIA_EN)
    translate, decision, translation = bot.chat_model.prompts
    assert NVIDIA_EN in translate[0].content and answer.translation == NVIDIA_EN_JA
    assert decision[0].content == EN.system and f"QUESTION: {NVIDIA_EN}\n{EN.decide}" in decision[1].content
    # The translation request extends the decision prompt: the evidence is not read again.
    assert [m.content for m in translation[:2]] == [m.content for m in decision] and f"[{best.id}]" in translation[-1].content
    assert not answer.refused and answer.language == "en"
    assert answer.text == f"{EN.quote_translated}“{english}.”[1]"  # English only; the original is the citation's
    assert answer.quotes == [Quote(best.text, 1, best.id, f"{english}.")] and answer.citations[0].quote == best.text


def test_a_translation_that_names_what_another_evidence_sentence_names_is_not_shown(scripted_bot):
    bot = scripted_bot(NVIDIA_EN_JA)
    query = bot.chain.condense(NVIDIA_EN)
    found = bot.chain.find(query)
    best = bot.chain.lead(query, found)[0]
    # A Latin-script name that only another evidence sentence holds (the question names neither).
    other = next(n for s in found.evidence.sentences if s is not best for n in sorted(names(s.text))
                 if n not in best.text.lower() and n not in NVIDIA_EN.lower())
    english = "In short: " + ", ".join(re.findall(r"[A-Za-z0-9][A-Za-z0-9.$-]*[A-Za-z0-9]|[0-9]", best.text))
    borrowed = f"[{best.id}] {english}, said {other.title()} Group."
    # The first translation borrows the name; the retry of the sentence alone does not.
    answer = scripted_bot(NVIDIA_EN_JA, "Yes", borrowed, f"{english}.").ask(NVIDIA_EN)
    assert answer.quotes[0].translation == f"{english}." and other.title() not in answer.text
    # When the retry borrows it too, the original is shown.
    answer = scripted_bot(NVIDIA_EN_JA, "Yes", borrowed, borrowed.split("] ", 1)[1]).ask(NVIDIA_EN)
    assert answer.quotes[0].translation is None and answer.text.startswith(EN.quote_untranslated)


def test_a_translation_that_changes_a_number_is_not_shown(scripted_bot):
    question = "How big is the OpenAI-AWS deal?"
    best = best_sentence(scripted_bot("OpenAIとAWSの契約の規模は？"), question)
    assert "380億ドル" in best.text or "38B" in best.text  # the deal sentence is quoted
    # The translation with the evidence changes the figure; so does the retry of the sentence alone.
    bot = scripted_bot("OpenAIとAWSの契約の規模は？", "Yes", f"[{best.id}] OpenAI signed a 12 billion dollar deal with AWS.",
                       "OpenAI signed a 12 billion dollar deal with AWS.")
    answer = bot.ask(question)
    assert answer.quotes[0].translation is None and "12 billion" not in answer.text
    assert answer.text.startswith(EN.quote_untranslated) and best.text in answer.text
    retry = bot.chat_model.prompts[-1][-1].content
    assert best.text in retry and "Translate this sentence" in retry


def test_a_translation_that_drops_a_period_is_retried_with_the_sentence_alone(scripted_bot):
    question = "How big is the OpenAI-AWS deal?"
    best = best_sentence(scripted_bot("OpenAIとAWSの契約の規模は？"), question)
    assert "7年間" in best.text and "380億ドル" in best.text
    bot = scripted_bot("OpenAIとAWSの契約の規模は？", "Yes", f"[{best.id}] OpenAI signed a $38 billion deal with AWS.",
                       "OpenAI signed a $38 billion (5.8 trillion yen) cloud deal with AWS over seven years.")
    answer = bot.ask(question)  # "seven" counts as the 7 of 7年間
    assert answer.quotes[0].translation == "OpenAI signed a $38 billion (5.8 trillion yen) cloud deal with AWS over seven years."
    assert answer.text.startswith(EN.quote_translated)


def test_a_translation_in_the_wrong_language_is_not_used(scripted_bot):
    bot = scripted_bot("Why did OpenAI pick NVIDIA?", "No")  # the model echoed English, not Japanese
    answer = bot.ask(NVIDIA_EN)
    assert answer.translation is None and answer.evidence and answer.refusal_reason == NOT_ANSWERABLE


def test_japanese_question_over_japanese_articles_is_not_translated(scripted_bot):
    bot = scripted_bot("いいえ")  # the decision is the only model call
    answer = bot.ask(NVIDIA_JA)
    assert answer.translation is None and len(bot.chat_model.prompts) == 1


def test_in_a_mixed_archive_a_question_is_translated_to_reach_the_articles_in_the_other_language(settings, e5, corpus_copy):
    """A question first finds passages in its own language; in an archive that also holds English
    articles it is translated when English articles may answer it (its own search reached one, or
    it names what no Japanese passage mentions), and the translation is kept only when an English
    passage matches it at least as well as the question's best Japanese passage matches the question."""
    shutil.copy(ROOT / "eval" / "news" / "articles" / "brightpath-series-c-japan.md", corpus_copy / "brightpath.md")
    question, into_english = "ブライトパスは東京事務所をいつ開く？", "When will Brightpath open its Tokyo office?"
    waste = "需要予測ソフトは食品廃棄を何%減らしたか？"
    model = ScriptedChatModel(replies=[into_english, "いいえ", "Trainium NVIDIA OpenAI", "いいえ", "いいえ"], prompts=[])
    bot = Chatbot(settings, embeddings=e5, chat_model=model)
    bot.ingest(corpus_copy)
    # 東京 is in no Japanese passage (the English article spells it Tokyo)
    assert {language_of(r.text) for r in bot.retriever.search(question)} == {"ja"}
    answer = bot.ask(question)
    assert question in model.prompts[0][0].content and answer.translation == into_english
    assert any(language_of(s["text"]) == "en" for s in answer.evidence)
    # Its own search reaches an English passage, so it is translated; a translation that matches
    # no English passage as well as the question matches its best one is dropped.
    assert "en" in {language_of(r.text) for r in bot.retriever.search(waste)}
    assert bot.ask(waste).translation is None and waste in model.prompts[2][0].content
    # Nothing points to the English article: no translation is asked for.
    nvidia = bot.ask(NVIDIA_JA)
    assert len(model.prompts) == 5 and nvidia.translation is None
    assert all(language_of(s["text"]) == "ja" for s in nvidia.evidence)


def test_english_refusal_is_in_english(scripted_bot):
    answer = scripted_bot(NVIDIA_EN_JA, "No").ask(NVIDIA_EN)
    assert answer.refused and answer.text == EN.refusal
