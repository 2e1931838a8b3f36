"""The knowledge-base validator: the real KB passes; every kind of mistake is reported as file: entry: problem."""

import shutil
import textwrap
from pathlib import Path

import pytest

from knowledge.base import load_kb

REPO = Path(__file__).resolve().parent.parent
KB = REPO / "knowledge"

GOOD = '''
id = "{id}"
title = "Keanggotaan BKAD"
status = "{status}"
questions = [{questions}]
answer = "BKAD terdiri atas unsur Pemerintah Desa, anggota BPD, dan lainnya."
citations = [{citations}]
related = [{related}]

[[excerpts]]
cite = "{cite}"
sumber = "{sumber}"
text = """
{text}
"""
'''

QS = ", ".join(f'"pertanyaan contoh nomor {w}"' for w in ["satu", "dua", "tiga", "empat", "lima", "enam"])
TEXT_144 = "(1) Badan kerja sama antar-Desa terdiri atas:\na. Pemerintah Desa;\nb. anggota Badan Permusyawaratan Desa;"


def make_kb(tmp_path: Path, **entries: dict) -> Path:
    d = tmp_path / "kb"
    d.mkdir()
    shutil.copy(KB / "regulations.toml", d / "regulations.toml")
    shutil.copy(KB / "normalisation.toml", d / "normalisation.toml")
    shutil.copytree(KB / "sources", d / "sources")
    (d / "entries").mkdir()
    for name, fields in entries.items():
        values = dict(
            id=name, status="verbatim", questions=QS, citations='"PP 43/2014 Pasal 144 ayat (1)"', related="",
            cite="PP 43/2014 Pasal 144", sumber="verbatim", text=TEXT_144,
        )
        values.update(fields)
        (d / "entries" / f"{fields.get('file', name)}.toml").write_text(textwrap.dedent(GOOD.format(**values)))
    return d


def problems(tmp_path, **entries) -> list[str]:
    return load_kb(make_kb(tmp_path, **entries)).problems


def test_real_knowledge_base_passes():
    kb = load_kb(KB)
    assert kb.problems == []
    assert len(kb.entries) >= 15


def test_a_good_entry_passes(tmp_path):
    assert problems(tmp_path, **{"bkad-anggota": {}}) == []


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"citations": '"PP 43/2014 pasal 144"'}, "not in canonical form"),
        ({"citations": '"PP 99/2099 Pasal 1"'}, "unknown regulation"),
        ({"citations": '"Permendagri 96/2017 Pasal 15"', "cite": "Permendagri 96/2017 Pasal 15"}, "not in sources"),
        ({"text": "(1) Badan kerja sama antar-Desa terdiri atas para kepala desa saja."}, "not found verbatim"),
        ({"status": "verbatim", "sumber": "parafrase"}, "status must be 'unverified'"),
        ({"status": "kira-kira"}, "status must be one of"),
        ({"status": "verified"}, "needs verified_against"),
        ({"questions": '"satu", "dua"'}, "at least 6 are needed"),
        ({"related": '"tidak-ada"'}, "related id 'tidak-ada' does not exist"),
        ({"citations": '"UU 6/2014 Pasal 91"'}, "citation UU 6/2014 Pasal 91 has no excerpt"),
        ({"file": "nama-lain"}, "file name must be"),
    ],
)
def test_mistakes_are_reported(tmp_path, fields, expected):
    found = problems(tmp_path, **{"bkad-anggota": fields})
    assert any(expected in p for p in found), found
    assert all(p.startswith("entries/") for p in found)


def test_paraphrase_quoted_as_verbatim_is_caught(tmp_path):
    # Permendagri 96/2017 Pasal 14 ayat (2) huruf c comes from a machine-altered copy: paraphrase only.
    text = "c. bidang dan/atau potensi Desa yang telah disepakati untuk dikerjasamakan, tertuang dalam RKP Desa;"
    found = problems(
        tmp_path,
        **{"p14": {"citations": '"Permendagri 96/2017 Pasal 14 ayat (2) huruf c"', "cite": "Permendagri 96/2017 Pasal 14", "text": text}},
    )
    assert any("paraphrase in the source" in p for p in found), found


OCR_TEXT = "BUM Desa terdiri atas:\na. BUM Desa; dan\nb. BUM Desa bersama."


def test_ocr_text_cannot_be_status_verbatim(tmp_path):
    # PP 11/2021 comes from an OCR'd copy: quotable, but the entry stays unverified until checked.
    ocr = {"citations": '"PP 11/2021 Pasal 2"', "cite": "PP 11/2021 Pasal 2", "text": OCR_TEXT}
    found = problems(tmp_path, **{"bumdes-jenis": ocr})
    assert any("comes from an OCR'd copy" in p for p in found), found


def test_ocr_text_in_an_unverified_entry_passes(tmp_path):
    d = make_kb(tmp_path, **{"bumdes-jenis": {"status": "unverified", "citations": '"PP 11/2021 Pasal 2"',
                                               "cite": "PP 11/2021 Pasal 2", "text": OCR_TEXT}})
    path = d / "entries" / "bumdes-jenis.toml"
    path.write_text(path.read_text().replace('status = "unverified"', 'status = "unverified"\nnote = "Teks OCR."'))
    assert load_kb(d).problems == []


def test_uncertain_word_is_never_quoted(tmp_path):
    text = "(2) Dalam kerja sama usaha sebagaimana dimaksud pada ayat (1), BUM Desa/BUM Desa bersama dilarang menjadikan atau meletakkan beban kewajiban atau prestasi apapun untuk pihak lain termasuk untuk penutupan risiko kerugian dan/atau jaminan pinjaman atas Aset Desa yang dikelola, didayagunakan, dan diambil [?] manfaat tertentu."
    fields = {"status": "unverified", "citations": '"PP 11/2021 Pasal 56 ayat (2)"', "cite": "PP 11/2021 Pasal 56", "text": text}
    found = problems(tmp_path, **{"jaminan": fields})
    assert any("marks uncertain [?]" in p for p in found), found


def test_quotation_with_gap_matches_piecewise(tmp_path):
    text = "(1) Badan kerja sama antar-Desa terdiri atas:\n[…]\n(3) Badan kerja sama sebagaimana dimaksud pada ayat (2) bertanggung jawab kepada kepala Desa."
    assert problems(tmp_path, **{"bkad-anggota": {"text": text}}) == []


def test_duplicate_phrasing_and_id(tmp_path):
    found = problems(tmp_path, **{"satu": {}, "dua": {}})
    assert any("is also a phrasing of" in p for p in found), found


def test_missing_field_and_bad_toml(tmp_path):
    d = make_kb(tmp_path, **{"ok-entry": {}})
    (d / "entries" / "rusak.toml").write_text("id = 'rusak'\ntitle = \n")
    (d / "entries" / "kurang.toml").write_text("id = 'kurang'\ntitle = 'x'\n")
    found = load_kb(d).problems
    assert any(p.startswith("entries/rusak.toml: -: not valid TOML") for p in found), found
    assert any("entries/kurang.toml: kurang: missing field 'answer'" in p for p in found), found


def test_cli_kb_check_exit_codes(tmp_path):
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "bot", "kb", "check"], cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok:")
    d = make_kb(tmp_path, **{"x": {"status": "kira-kira"}})
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[knowledge]\npath = "{d}"\n')
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "check", "--config", str(cfg)], cwd=REPO, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert bad.stdout.startswith("entries/x.toml: x: status must be one of")


def test_duplicate_phrasings_are_judged_by_the_directorys_own_normaliser(tmp_path):
    """Phrasings the live bot's normaliser (the knowledge directory's) makes equal are duplicates."""
    d = make_kb(tmp_path, **{"satu": {}, "dua": {"questions": QS.replace("contoh", "cth")}})
    assert not any("is also a phrasing of" in p for p in load_kb(d).problems)
    norm = d / "normalisation.toml"
    norm.write_text(norm.read_text(encoding="utf-8").replace("[words]\n", '[words]\ncontoh = ["cth"]\n', 1),
                    encoding="utf-8")  # fmt: skip
    found = load_kb(d).problems
    assert any("satu: phrasing 'pertanyaan contoh nomor satu' is also a phrasing of dua" in p for p in found), found


def test_broken_regulations_file_is_reported_once_by_kb_check(tmp_path):
    import subprocess
    import sys

    d = make_kb(tmp_path, **{"ok-entry": {}})
    shutil.copytree(KB / "flows", d / "flows")
    (d / "regulations.toml").write_text("[kb\nversion = ", encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[knowledge]\npath = "{d}"\n')
    bad = subprocess.run([sys.executable, "-m", "bot", "kb", "check", "--config", str(cfg)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 1
    assert bad.stdout.count("regulations.toml: -: cannot be read") == 1, bad.stdout
    assert "flows/" in bad.stdout  # the flows are still checked (their citations now name no regulation)


def test_load_knowledge_lists_twenty_flow_problems_and_counts_the_rest(tmp_path, base_config):
    from dataclasses import replace

    from bot.app import KnowledgeError, load_knowledge

    d = tmp_path / "kb"
    shutil.copytree(KB, d)
    for path in (d / "flows").glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('kind = "confirm"', 'kind = "toggle"'), encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(replace(base_config, knowledge=replace(base_config.knowledge, path=str(d))))
    assert len(err.value.problems) > 20
    assert f"… and {len(err.value.problems) - 20} more" in str(err.value)


def test_out_of_scope_examples_are_checked(tmp_path):
    d = make_kb(tmp_path, **{"ok-entry": {}})
    (d / "out_of_scope.toml").write_text(
        '[[topic]]\nname = "dana desa"\nquestions = ["dana desa kapan cair", "Dana Desa kapan cair?",'
        ' "pertanyaan contoh nomor satu"]\n\n[[topic]]\nname = "kosong"\nquestions = []\n'
    )
    kb = load_kb(d)
    found = kb.problems
    assert any("out_of_scope.toml: dana desa: 'Dana Desa kapan cair?' is listed twice" in p for p in found), found
    assert any("'pertanyaan contoh nomor satu' is also a phrasing of ok-entry" in p for p in found), found
    assert any("out_of_scope.toml: topic 2: needs a name and a non-empty list of questions" in p for p in found)
    assert ("dana desa", "dana desa kapan cair") in kb.out_of_scope
    (d / "out_of_scope.toml").write_text("topic = 3\n")
    assert any("needs [[topic]] tables" in p for p in load_kb(d).problems)


def test_the_shipped_out_of_scope_examples_load():
    kb = load_kb(KB)
    assert len(kb.out_of_scope) >= 200
    assert len({topic for topic, _ in kb.out_of_scope}) >= 20
