from chatbot.chunking import chunk_text, count_tokens, split_paragraphs, split_sentences


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentences_keep_punctuation_and_split_on_all_terminators():
    assert sentences("今日は晴れ。明日は雨！本当？ Yes! Really?") == [
        "今日は晴れ。", "明日は雨！", "本当？", "Yes!", "Really?"]


def test_no_split_inside_quotes_or_parentheses():
    text = "彼は「必要なのはチップではない。電力だ。」と述べた。次の文。"
    assert sentences(text) == ["彼は「必要なのはチップではない。電力だ。」と述べた。", "次の文。"]


def test_numbers_are_not_split():
    text = "投資額は5,000億円。評価額は5.8兆円です。Price is 3.5 dollars. Next one."
    assert sentences(text) == ["投資額は5,000億円。", "評価額は5.8兆円です。", "Price is 3.5 dollars.", "Next one."]


def test_line_breaks_end_sentences_and_reset_unbalanced_brackets():
    text = "見出し「閉じない\n本文です。"
    assert sentences(text) == ["見出し「閉じない", "本文です。"]


def test_closing_quote_after_terminator_stays_with_sentence():
    assert sentences("「そうだ。」次。") == ["「そうだ。」", "次。"]


def test_chunks_are_exact_slices_within_budget():
    text = ("これはテスト用の文です。" * 40 + "\n\n") * 5
    chunks = chunk_text("d", text, max_tokens=100)
    assert len(chunks) > 5
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert count_tokens(c.text) <= 100
    # together the chunks cover every sentence
    covered = "".join(c.text for c in chunks).replace("\n", "")
    assert covered == text.replace("\n", "")


def test_overlap_repeats_last_sentence():
    text = "".join(f"文{i}はここにある。" for i in range(60))
    chunks = chunk_text("d", text, max_tokens=60, overlap=1)
    for a, b in zip(chunks, chunks[1:]):
        last = sentences(a.text)[-1]
        assert b.text.startswith(last)


def test_paragraph_kept_whole_and_heading_moves_with_its_text():
    para1 = "最初の段落です。" * 12
    heading = "次の見出し"
    para2 = "二つ目の段落の本文です。" * 10
    text = f"{para1}\n\n{heading}\n\n{para2}"
    chunks = chunk_text("d", text, max_tokens=150)
    assert chunks[0].text == para1
    assert chunks[1].text.startswith(heading)


def test_overlong_sentence_is_cut_to_fit():
    text = "あ" * 1000 + "。"
    chunks = chunk_text("d", text, max_tokens=50)
    assert all(c.tokens <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_paragraphs_fall_back_to_lines():
    text = "一行目。\n二行目。"
    assert [text[s:e] for s, e in split_paragraphs(text)] == ["一行目。", "二行目。"]


def test_quotation_followed_by_particle_is_one_sentence():
    assert sentences("「電力だ。」と述べた。次。") == ["「電力だ。」と述べた。", "次。"]
