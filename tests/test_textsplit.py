"""Long replies are split at paragraph boundaries within a channel's limit, losing nothing."""

import pytest

from bot.textsplit import split_text


def test_short_text_is_one_part():
    assert split_text("halo", 4096) == ["halo"]


def test_split_at_paragraphs():
    paras = [f"Paragraf {i}. " + "kata " * 150 for i in range(12)]
    text = "\n\n".join(p.strip() for p in paras)
    parts = split_text(text, 4096)
    assert len(parts) >= 2
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("Paragraf") for p in parts)
    assert "\n\n".join(parts) == text


@pytest.mark.parametrize("limit", [50, 100, 4096])
def test_overlong_paragraph_and_word_are_cut_within_limit(limit):
    text = "a" * 10000 + "\n\n" + "kata " * 3000 + "\nbaris"
    parts = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_overlong_paragraph_is_cut_at_line_breaks_before_spaces():
    lines = [f"{i}. " + "langkah " * 5 for i in range(1, 40)]
    text = "\n".join(line.strip() for line in lines)
    parts = split_text(text, 200)
    assert all(len(p) <= 200 for p in parts)
    assert "\n".join(parts) == text  # every part is whole lines
