"""Typed answers to choices: numbers, labels, and the shortened labels WhatsApp shows."""

import pytest

from handlers.choosing import label_index, typed_number
from tests.conftest import FakeChat

LABELS = ["Satu kecamatan", "Beda kecamatan, satu kabupaten/kota", "Kabupaten/kota lain", "Kenapa?"]


@pytest.mark.parametrize("text, n", [("2", 2), (" 2. ", 2), ("3)", 3), ("²", None), ("12a", None), ("1234", None)])
def test_typed_number(text, n):
    assert typed_number(text) == n


@pytest.mark.parametrize(
    "text, index",
    [
        ("satu kecamatan", 0),
        ("Beda kecamatan, satu kabupaten/kota", 1),
        ("Beda kecamatan…", 1),  # a WhatsApp button/row title cut to fit
        ("Beda kecamatan, satu...", 1),
        ("2. Beda kecamatan…", 1),  # a numbered list row copied as text
        ("kenapa", 3),
        ("3. Beda kecamatan…", None),  # the number and the label disagree
        ("Beda kecamatan", None),  # not marked as shortened: a question, not a choice
        ("Be…", None),  # too short to tell
        ("", None),
    ],
)
def test_label_index(text, index):
    assert label_index(LABELS, text) == index


async def test_shortened_label_answers_a_triage_question(chat: FakeChat):
    await chat.send("/usulan")
    await chat.send("Jalan tani")
    await chat.send("Dengan Desa…")
    assert "Desa mitra berada di mana?" in chat.text
    await chat.send("2. Beda kecamatan…")
    assert "melibatkan BUM Desa" in chat.text


async def test_shortened_label_answers_the_main_menu(chat: FakeChat):
    await chat.send("/mulai")
    await chat.send("Siapkan usulan…")
    assert "Nama usulan" in chat.text
