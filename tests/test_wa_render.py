"""Rendering replies within WhatsApp's limits (no network)."""

import re

import pytest

from bot import wa_render
from bot.wa_render import neutralise, next_page, parse_more, render, shorten, unique_titles
from handlers import texts
from handlers.messages import Choice, Document, Outbound, Reply

LONG = "Kesepakatan tentang pembentukan badan kerja sama antar-Desa nomor"


def outbound(n: int, label=lambda i: f"{LONG} {i}", text="Silakan pilih.", heading="") -> Outbound:
    choices = tuple(Choice(label(i), f"kb:show:x{i}") for i in range(1, n + 1))
    return Outbound(Reply(text, heading=heading, choices=choices), "MeNu1234", tuple(f"MeNu1234.{i}" for i in range(n)))


def check_limits(msgs):
    for m in msgs:
        assert len(m.text) <= (wa_render.TEXT_LIMIT if m.kind == "text" else wa_render.BODY_LIMIT)
        if m.kind == "buttons":
            assert 1 <= len(m.buttons) <= 3
            assert all(len(b.title) <= 20 for b in m.buttons)
            assert len({b.title for b in m.buttons}) == len(m.buttons)
        if m.kind == "list":
            assert 1 <= len(m.buttons) <= 10
            assert all(len(b.title) <= 24 and len(b.description) <= 72 for b in m.buttons)
            assert len(m.list_button) <= 20
        assert len({b.id for b in m.buttons}) == len(m.buttons)


@pytest.mark.parametrize("n", [2, 3])
def test_two_or_three_choices_are_unique_reply_buttons(n):
    out = outbound(n)
    msgs = render(out)
    check_limits(msgs)
    assert [m.kind for m in msgs] == ["buttons"]
    assert [b.id for b in msgs[0].buttons] == list(out.choice_tokens)
    assert msgs[0].text == "Silakan pilih."


def test_buttons_shortened_on_word_boundaries():
    out = Outbound(
        Reply("x", choices=(Choice("Tanya aturan", "a"), Choice("Siapkan usulan kerja sama", "b"), Choice("Bantuan", "c"))),
        "m", ("m.0", "m.1", "m.2"),
    )
    (msg,) = render(out)
    assert [b.title for b in msg.buttons] == ["Tanya aturan", "Siapkan usulan…", "Bantuan"]


def test_seven_choices_are_one_list_with_full_labels_in_descriptions():
    out = outbound(7)
    msgs = render(out)
    check_limits(msgs)
    (msg,) = msgs
    assert msg.kind == "list" and len(msg.buttons) == 7
    assert [b.id for b in msg.buttons] == list(out.choice_tokens)
    assert msg.buttons[0].title.startswith("1. ") and msg.buttons[6].title.startswith("7. ")
    assert msg.buttons[0].title.endswith("…")
    assert msg.buttons[0].description == f"{LONG} 1"


def test_fourteen_choices_page_with_lainnya_and_global_numbers():
    out = outbound(14, label=lambda i: f"Topik {i}")
    (first,) = render(out)
    check_limits([first])
    assert [b.title for b in first.buttons[:9]] == [f"{i}. Topik {i}" for i in range(1, 10)]
    more = first.buttons[9]
    assert more.title == texts.WA_MORE and parse_more(more.id) == ("MeNu1234", 9)
    second = next_page("MeNu1234", [f"Topik {i}" for i in range(1, 15)], 9)
    check_limits([second])
    assert [b.title for b in second.buttons] == [f"{i}. Topik {i}" for i in range(10, 15)]
    assert [b.id for b in second.buttons] == list(out.choice_tokens[9:])  # still the core's tokens


def test_twenty_five_choices_three_pages():
    labels = [f"Topik {i}" for i in range(1, 26)]
    page2 = next_page("m", labels, 9)
    assert len(page2.buttons) == 10 and parse_more(page2.buttons[-1].id) == ("m", 18)
    page3 = next_page("m", labels, 18)
    assert [b.title for b in page3.buttons][-1] == "25. Topik 25"
    assert next_page("m", labels, 25) is None and next_page("m", labels, 0) is None


MARKUP = "Jalan *tani* _Sukamaju_ ~lama~ `kode` ```blok```"
FORMATTING = re.compile(r"(?<![^\W_])[*_~`]|[*_~`](?![^\W_])")  # a marker at a word edge: WhatsApp may format it


def test_heading_is_bold_and_markup_in_every_part_is_neutralised():
    def choices(n):
        return tuple(Choice(f"{MARKUP} {i}", f"kb:{i}", description=f"_{i}_ *x*") for i in range(n))

    for n in (2, 5):
        out = Outbound(
            Reply(f"Usulan \"{MARKUP}\" dibuat.\n> kutipan", heading=f"Status: {MARKUP}", choices=choices(n)),
            "m", tuple(f"m.{i}" for i in range(n)),
        )
        msgs = render(out)
        check_limits(msgs)
        (msg,) = msgs
        heading, _, rest = msg.text.partition("\n\n")
        assert heading.startswith("*Status: Jalan ∗tani∗ ˍSukamajuˍ") and heading.endswith("*")
        assert not FORMATTING.search(heading[1:-1]) and not FORMATTING.search(rest)
        assert "\nˍ" not in rest and "\n˃ kutipan" in rest  # a quote mark at a line start is neutralised too
        for b in msg.buttons:
            assert not FORMATTING.search(b.title) and not FORMATTING.search(b.description)
    doc = Document("a.docx", b"x", caption=MARKUP)
    (msg,) = render(Outbound(Reply(MARKUP, document=doc)))
    assert msg.kind == "document" and msg.text == "Jalan ∗tani∗ ˍSukamajuˍ ˜lama˜ ˋkodeˋ ˋˋˋblokˋˋˋ"


def test_neutralise_keeps_markers_inside_words_and_text_readable():
    assert neutralise("snake_case https://x.go.id/a_b?c=1*2") == "snake_case https://x.go.id/a_b?c=1*2"
    assert neutralise("a**b *c") == "a∗∗b ∗c"
    assert neutralise("nilai > 5\n>kutip") == "nilai > 5\n˃kutip"


def test_document_alone_when_its_text_only_repeats_the_caption():
    doc = Document("a.docx", b"x", caption="Surat Penawaran")
    assert [m.kind for m in render(Outbound(Reply("Surat Penawaran", document=doc)))] == ["document"]
    assert [m.kind for m in render(Outbound(Reply("Draf siap.", document=doc)))] == ["text", "document"]


def test_list_rows_show_the_label_and_the_description_when_the_title_is_cut():
    choices = (Choice(f"{LONG} {i}", f"x{i}", description="Sudah dijawab: Jalan tani") for i in range(4))
    (msg,) = render(Outbound(Reply("Pilih:", choices=tuple(choices)), "m", tuple(f"m.{i}" for i in range(4))))
    check_limits([msg])
    assert msg.buttons[0].description == "Kesepakatan tentang pembentukan badan kerja…: Sudah dijawab: Jalan tani"
    (msg,) = render(Outbound(Reply("Pilih:", choices=tuple(Choice(f"L{i}", "x", "Dilewati") for i in range(4))),
                             "m", tuple(f"m.{i}" for i in range(4))))  # fmt: skip
    assert [b.description for b in msg.buttons] == ["Dilewati"] * 4


def test_button_descriptions_are_shown_in_the_body():
    choices = (Choice("Desa mitra", "a", "Sukajaya"), Choice("Kecamatan", "b", "Dilewati"), Choice("Kembali", "c"))
    (msg,) = render(Outbound(Reply("Pilih langkah:", choices=choices), "m", ("m.0", "m.1", "m.2")))
    assert msg.kind == "buttons"
    assert msg.text == "Pilih langkah:\n\n• Desa mitra: Sukajaya\n• Kecamatan: Dilewati"


def test_long_text_split_and_choices_after_it():
    para = "Kalimat peraturan yang cukup panjang untuk diuji. " * 30
    out = outbound(2, text="\n\n".join([para] * 10))
    msgs = render(out)
    check_limits(msgs)
    assert [m.kind for m in msgs[:-1]] == ["text"] * (len(msgs) - 1) and len(msgs) >= 4
    assert msgs[-1].kind == "buttons"


def test_unique_titles_number_clashing_labels():
    titles = unique_titles(["Kerja sama antar-Desa bidang A", "Kerja sama antar-Desa bidang B"], 20)
    assert len(set(titles)) == 2 and all(len(t) <= 20 for t in titles)
    assert shorten("kata " * 10, 12).endswith("…") and len(shorten("kata " * 10, 12)) <= 12
    assert shorten("Supercalifragilisticexpialidocious", 10) == "Supercali…"


def test_parse_more_rejects_bad_ids():
    for bad in ("more:", "more::3", "more:abc:x", "MeNu.1", "more:" + "a" * 80 + ":1"):
        assert parse_more(bad) is None
