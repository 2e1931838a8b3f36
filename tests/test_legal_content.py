"""Issue 13: each legal fix has a rule or a test that would have caught it.

The rules (kb check) are exercised on small knowledge bases made for the test; the item tests read the real
entries and flows, so a later edit that brings a loose end back fails here.
"""

import re
from pathlib import Path

import pytest

from knowledge.base import load_kb
from knowledge.flows import load_flows
from tests.test_kb_check import make_kb

REPO = Path(__file__).resolve().parent.parent
KB = REPO / "knowledge"


@pytest.fixture(scope="module")
def kb():
    return load_kb(KB)


@pytest.fixture(scope="module")
def flows(kb):
    return load_flows(KB, kb.regulations, kb.sources)


def _problems(tmp_path, **fields) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return load_kb(make_kb(tmp_path, contoh=fields)).problems


# -- the rules -------------------------------------------------------------------------------------------------
def test_a_quotation_may_not_end_inside_a_word_the_source_cuts_off(tmp_path):
    """Item 5: Pasal 13 ayat (3) huruf b breaks off inside item 5 ("hak dan kewaji[…]")."""
    text = "b. surat penawaran kerja sama memuat paling sedikit:\n[…]\n5. hak dan kewaji[…]"
    found = _problems(tmp_path, citations='"Permendagri 96/2017 Pasal 13 ayat (3) huruf b"',
                      cite="Permendagri 96/2017 Pasal 13", text=text)  # fmt: skip
    assert any("quotes a word the source cuts off" in p for p in found), found


PENJELASAN_56 = (
    "Ayat (3) Pengelolaan bersama sumber daya merupakan pengelolaan atas sumber daya publik seperti mata air, "
    "sungai, danau, pantai, alam pegunungan, hutan, tambang alam, dan sebagainya untuk dikelola bersama sebagai "
    "usaha bidang ekonomi dan/atau usaha pelayanan umum BUM Desa/BUM Desa bersama."
)


def test_a_penjelasan_is_quoted_under_its_heading_and_named_in_the_answer(tmp_path):
    """Item 11: examples from the Penjelasan of PP 11/2021 Pasal 56 were presented as the article."""
    common = {"status": "unverified", "citations": '"PP 11/2021 Pasal 56 ayat (3)"', "cite": "PP 11/2021 Pasal 56"}
    bare = _problems(tmp_path / "a", text=PENJELASAN_56, **common)
    assert any("quotes the Penjelasan as if it were the article" in p for p in bare), bare
    headed = f"Penjelasan Pasal 56\n[…]\n{PENJELASAN_56}"
    unnamed = _problems(tmp_path / "b", text=headed, **common)
    assert any("its text must say 'Penjelasan'" in p for p in unnamed), unnamed
    assert not any("as if it were the article" in p for p in unnamed), unnamed


def test_an_answer_may_not_name_an_article_it_does_not_cite(tmp_path):
    """Item 16: an answer that names "Pasal 145" while citing only Pasal 144 is reported."""
    d = make_kb(tmp_path, contoh={})
    path = d / "entries" / "contoh.toml"
    text = path.read_text(encoding="utf-8")
    bad = text.replace("dan lainnya.", "dan lainnya; perubahannya diatur Pasal 145.")
    path.write_text(bad, encoding="utf-8")
    found = load_kb(d).problems
    assert any("names 'Pasal 145', which none of its citations or excerpts contain" in p for p in found), found
    path.write_text(text.replace("dan lainnya.", "dan lainnya (Pasal 144 ayat (1))."), encoding="utf-8")
    assert load_kb(d).problems == []
    path.write_text(text.replace("dan lainnya.", "dan lainnya (Pasal 144 ayat (3))."), encoding="utf-8")
    assert any("names 'Pasal 144 ayat (3)'" in p for p in load_kb(d).problems)  # an ayat it does not quote


def test_naming_a_missing_article_is_allowed_only_to_say_it_is_missing(tmp_path):
    d = make_kb(tmp_path, contoh={"citations": '"Permendagri 96/2017 Pasal 5 ayat (2) huruf b"',
                                         "cite": "Permendagri 96/2017 Pasal 5",
                                         "text": "b. kerja sama atas prakarsa Pihak Ketiga"})  # fmt: skip
    path = d / "entries" / "contoh.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("dan lainnya.", "dan lainnya. Tahapannya diatur Pasal 15."), encoding="utf-8")
    assert any("names 'Pasal 15'" in p for p in load_kb(d).problems)
    path.write_text(text.replace("dan lainnya.", "dan lainnya. Bunyi Pasal 15 belum ditemukan."), encoding="utf-8")
    assert load_kb(d).problems == []


def test_flow_and_template_texts_are_checked_like_answers(tmp_path):
    """Item 16: prompts, outcomes and document templates go through the same rules as entries."""
    import shutil

    d = tmp_path / "kb"
    shutil.copytree(KB, d)
    triage = d / "flows" / "triage.toml"
    triage.write_text(triage.read_text(encoding="utf-8").replace(
        "• Dituangkan dalam: Peraturan Bersama Kepala Desa, melalui kesepakatan Musyawarah antar-Desa.\n",
        "• Dituangkan dalam: Peraturan Bersama Kepala Desa (Pasal 9).\n"), encoding="utf-8")  # fmt: skip
    offer = d / "templates" / "surat-penawaran.toml"
    offer.write_text(offer.read_text(encoding="utf-8").replace('text = "Hak dan kewajiban"\n',
                     'text = "Hak dan kewajiban"\ncitations = ["Permendagri 96/2017 Pasal 13 ayat (3) huruf b"]\n', 1),
                     encoding="utf-8")  # fmt: skip
    found = "\n".join(load_flows(d).problems)
    assert "outcome antar-desa-bkad: names 'Pasal 9'" in found, found
    assert "templates/surat-penawaran.toml" in found and "has no excerpt of that article" in found, found


def test_an_outcome_resting_on_ocr_text_tells_the_user(tmp_path):
    import shutil

    d = tmp_path / "kb"
    shutil.copytree(KB, d)
    triage = d / "flows" / "triage.toml"
    text = triage.read_text(encoding="utf-8")
    start = text.index('id = "bum-desa-bersama-lintas-wilayah"')
    note_line = text.index("note = ", start)
    triage.write_text(text[:note_line] + text[text.index("\n", note_line) + 1:], encoding="utf-8")
    found = "\n".join(load_flows(d).problems)
    assert "comes from an OCR'd copy, so status must be 'unverified'" in found, found


# -- the items, on the real knowledge base ---------------------------------------------------------------------
def test_item1_transitional_rule_is_only_about_pp_43_2014(kb):
    e = kb.by_id["kerja-sama-lama-tetap-berlaku"]
    assert "aturan yang berlaku sekarang" not in e.answer and "aturan baru" not in e.answer
    assert "Permendagri 96/2017 belum ada dalam teks" in e.answer


def test_item2_evaluation_is_answered_from_uu_pasal_69_ayat_4_only(kb):
    e = kb.by_id["pengundangan-peraturan-bersama"]
    assert "UU 6/2014 Pasal 69 ayat (4)" in e.citations
    assert "pedoman teknis" not in e.answer.split("\n")[-1] or "belum ada" in e.answer
    assert not re.search(r"(?i)evaluasi\)? ada di pedoman", e.answer)


def test_item3_ex_pnpm_capital_exception(kb):
    e = kb.by_id["modal-bum-desa-bersama"]
    assert "PP 11/2021 Pasal 73 ayat (4)" in e.citations and "eks PNPM" in e.answer


def test_item4_bum_desa_bersama_across_kabupaten_is_not_stopped(flows):
    for qid in ("bumdesma-kabupaten", "bumdesma-provinsi"):
        ya = next(o for o in flows.questions[qid].options if o.id == "ya")
        outcome = flows.outcomes[ya.outcome]
        assert outcome.flow == "antar-desa" and "PP 11/2021 Pasal 7 ayat (4)" in outcome.citations
        assert "Permendagri 96/2017 Pasal 3 ayat (2)" in outcome.citations  # both texts are shown
    wilayah = {o.id: o for o in flows.questions["wilayah"].options}
    assert wilayah["lintas-kabupaten"].next == "bumdesma-kabupaten" and not wilayah["lintas-kabupaten"].outcome


def test_item5_no_text_treats_offer_letter_item_5_as_known(flows):
    step = flows.flows["antar-desa"].step("hak-kewajiban")
    assert not any(c.startswith("Permendagri 96/2017 Pasal 13") for c in step.citations)
    assert step.missing  # the user is told the list breaks off here
    offer = flows.templates["surat-penawaran"]
    for item in offer.items:
        if item.field == "hak_kewajiban":
            assert not item.citations
        else:
            assert "Permendagri 96/2017 Pasal 13 ayat (3) huruf b" in item.citations


def test_item7_pasal_149_amendment_is_named(kb):
    for eid in ("dasar-kerja-sama-desa", "dasar-permendagri-96"):
        answer = kb.by_id[eid].answer
        assert "PP 47/2015" in answer and "di bidang Pemerintahan Desa" in answer, eid


def test_item8_permendagri_does_not_stop_at_one_kabupaten(kb):
    for e in kb.entries:
        if "Permendagri 96/2017 Pasal 3 ayat (1)" in e.citations and "kabupaten/kota" in e.answer:
            assert "Permendagri 96/2017 Pasal 3 ayat (2)" in e.citations and "antar-Daerah" in e.answer, e.id


def test_item9_pasal_14_is_for_prakarsa_desa_only(kb):
    for e in kb.entries:
        if any(c.startswith("Permendagri 96/2017 Pasal 14 ayat (1)") for c in e.citations):
            assert "prakarsa Desa" in e.answer, e.id


def test_item10_mad_of_pp_11_2021_is_the_bum_desa_bersama_organ(kb):
    e = kb.by_id["mad-keputusan-tahunan-khusus"]
    assert "organ BUM Desa" in e.answer and "PP 11/2021 Pasal 16 ayat (1)" in e.citations


def test_item12_texts_listing_the_eight_contents_cite_where_the_list_is(flows):
    for f in flows.flows.values():
        for s in f.steps:
            if "ruang lingkup" in s.prompt and "penyelesaian perselisihan" in s.prompt:
                assert any(c == "Permendagri 96/2017 Pasal 6" or c.startswith("PP 43/2014 Pasal 143 ayat (4)")
                           for c in s.citations), (f.id, s.id)  # fmt: skip
                assert "PP 43/2014 Pasal 143 ayat (3)" not in s.citations, (f.id, s.id)


def test_item13_third_party_flows_speak_of_no_partner_village(flows):
    for fid in ("pihak-ketiga-prakarsa-desa", "pihak-ketiga-prakarsa-mitra"):
        for s in flows.flows[fid].steps:
            assert not re.search(r"kedua Desa|Desa mitra|antar[- ]Desa", s.prompt), (fid, s.id)


def test_item14_every_antar_desa_outcome_names_the_musyawarah_desa_of_pasal_13(flows):
    for o in flows.outcomes.values():
        if o.flow == "antar-desa" and not o.id.startswith("bum-desa-bersama"):
            assert "Musyawarah Desa" in o.text and "BPD" in o.text, o.id
            assert {"Permendagri 96/2017 Pasal 13 ayat (2) huruf b", "Permendagri 96/2017 Pasal 13 ayat (2) huruf c"} <= set(o.citations), o.id


def test_item15_no_answer_rests_on_a_curators_note_about_uu_3_2024(kb):
    """UU 3/2024 text in the corpus is only Pasal 26 and 87A of UU 6/2014; nothing else may be said of it."""
    for e in kb.entries:
        if "3/2024" in e.answer:
            assert any(c.startswith(("UU 6/2014 Pasal 26", "UU 6/2014 Pasal 87A")) for c in e.citations), e.id
    assert "belum disesuaikan" not in kb.by_id["istilah-rpjm-desa"].answer
