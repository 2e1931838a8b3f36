"""The flow files are validated like knowledge entries: the real flows pass; mistakes are reported."""

import shutil
import subprocess
import sys
from pathlib import Path

from knowledge.flows import CONTENTS, load_flows

REPO = Path(__file__).resolve().parent.parent
KB = REPO / "knowledge"


def test_real_flows_pass():
    flows = load_flows(KB)
    assert flows.problems == []
    assert set(flows.flows) == {"antar-desa", "pihak-ketiga-prakarsa-desa", "pihak-ketiga-prakarsa-mitra"}
    for flow in flows.flows.values():
        assert {s.field for s in flow.steps} >= {c[0] for c in CONTENTS}


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "kb"
    shutil.copytree(KB, d, ignore=shutil.ignore_patterns("entries"))
    return d


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_mistakes_are_reported(tmp_path):
    d = _copy(tmp_path)
    ad = d / "flows" / "antar-desa.toml"
    _edit(ad, "a. Kepala Desa melakukan inventarisasi", "a. Kepala Desa wajib melakukan inventarisasi")
    _edit(ad, 'citations = ["Permendagri 96/2017 Pasal 7"]', 'citations = ["Permendagri 96/2017 Pasal 7", "Permendagri 96/2017 Pasal 15"]')
    _edit(ad, 'prompt = "Desa mitra sudah menanggapi surat penawaran?"', 'prompt = "Desa mitra menanggapi dalam 14 hari?"')
    _edit(ad, 'stage = "pelaporan"', 'stage = "evaluasi"')
    pk = d / "flows" / "pihak-ketiga-prakarsa-desa.toml"
    text = pk.read_text(encoding="utf-8")
    pk.write_text(text.replace('note = "Bunyi ketentuan ini berasal', 'xnote = "Bunyi', 1), encoding="utf-8")
    _edit(d / "flows" / "triage.toml", 'outcome = "antar-daerah"', 'outcome = "tidak-ada"')
    problems = "\n".join(load_flows(d).problems)
    assert "step inventarisasi: excerpt Permendagri 96/2017 Pasal 13: text not found verbatim" in problems
    assert "Permendagri 96/2017 Pasal 15 cites an article whose text is not in sources" in problems
    assert "no deadline was found" in problems
    assert "stage 'evaluasi' is not one of the flow's stages" in problems
    assert "unknown field 'xnote'" in problems
    assert "outcome 'tidak-ada' does not exist" in problems


def test_a_paraphrase_without_note_and_a_missing_content_field(tmp_path):
    d = _copy(tmp_path)
    pk = d / "flows" / "pihak-ketiga-prakarsa-desa.toml"
    _edit(pk, 'note = "Bunyi ketentuan ini berasal dari salinan yang diubah mesin dan belum dicocokkan dengan teks resmi."\n', "")
    _edit(pk, 'field = "pendanaan"', 'field = "dana"')
    problems = "\n".join(load_flows(d).problems)
    assert "rests on a paraphrase, so it needs a 'note'" in problems
    assert "no text step fills the field 'pendanaan'" in problems


def test_kb_check_command_checks_flows(tmp_path):
    d = _copy(tmp_path)
    shutil.copytree(KB / "entries", d / "entries")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[knowledge]\npath = "{d}"\n', encoding="utf-8")
    ok = subprocess.run([sys.executable, "-m", "bot", "kb", "check", "--config", str(cfg)],
                        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "3 checklist flows" in ok.stdout
    _edit(d / "flows" / "antar-desa.toml", 'kind = "confirm"', 'kind = "toggle"')
    bad = subprocess.run([sys.executable, "-m", "bot", "kb", "check", "--config", str(cfg)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "kind must be one of" in bad.stdout


def test_triage_labels_stay_distinct_when_whatsapp_shortens_them():
    flows = load_flows(KB)
    for q in flows.questions.values():
        heads = [o.label[:20].casefold() for o in q.options]
        assert len(set(heads)) == len(heads), q.id


def test_bum_desa_path_keeps_the_musyawarah_antar_desa_and_shows_both_texts_on_bkad():
    """Issue 13 item 6: Pasal 4 ayat (1) (Pemerintah Desa) and UU 6/2014 Pasal 92 ayat (3) (BKAD, no exception) are
    both shown on the BUM Desa / kawasan path; the user decides, the flow does not drop the BKAD on a blog's word."""
    flow = load_flows(KB).flows["antar-desa"]
    ids = [s.id for s in flow.steps_for({"bum-desa": "ya"})]
    assert "kesepakatan-mad" in ids and "kesepakatan-musdes" in ids and "bkad" not in ids
    choice = flow.step("bkad-pilihan")
    assert choice.id in ids and choice.kind == "choice"
    assert {"Permendagri 96/2017 Pasal 4 ayat (1)", "UU 6/2014 Pasal 92 ayat (3)"} <= set(choice.citations)
    assert "Pemerintah Desa" in choice.prompt and "BKAD" in choice.prompt and choice.missing
    bkad_path = {s.id: s for s in flow.steps_for({"bum-desa": "tidak"})}
    assert "PP 43/2014 Pasal 144 ayat (3)" in bkad_path["pelaksana-bkad"].citations and "bkad-pilihan" not in bkad_path
    outcome = load_flows(KB).outcomes["antar-desa-pemerintah-desa"]
    assert "UU 6/2014 Pasal 92 ayat (3)" in outcome.citations and "tanpa pengecualian" in outcome.text


def test_signing_step_names_no_signer_its_source_does_not_name():
    step = load_flows(KB).flows["pihak-ketiga-prakarsa-desa"].step("tanda-tangan")
    assert step.citations == ("Permendagri 96/2017 Pasal 14 ayat (1) huruf d",)
    assert "oleh" not in step.prompt and "Kepala Desa" not in step.prompt
