"""The checklist driven by piping lines into `python -m bot console`, across two processes and one file DB."""

import subprocess
import sys
from pathlib import Path

import docx

REPO = Path(__file__).resolve().parent.parent


def console(db: Path, out: Path, lines: list[str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--db", str(db), "--out", str(out)],
        input="\n".join(lines) + "\n", cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_restart_resumes_same_step_with_same_answers(tmp_path):
    db, out = tmp_path / "pandu.db", tmp_path / "out"
    first = console(db, out, ["/usulan", "Jalan tani", "1", "1", "2", "Sukamaju", "Cibeber", "Cianjur", "Sukajaya",
                              "1", "Sudah"])
    last = first.rsplit("\n== ", 1)[-1]  # the last reply: the pending step
    assert last.startswith("Persiapan 3/7 ==") and "BPD sudah menyelenggarakan Musyawarah Desa" in last
    assert last.rstrip().endswith("1. Sudah\n2. Belum\n3. Tidak berlaku\n4. Kenapa?")
    # days later, a new process: a greeting is answered and the same step asked again; nothing is saved
    second = console(db, out, ["Selamat pagi", "/usulan", "/ringkasan"])
    greeted = second.split("\n== ")[0].removeprefix("== ")
    assert greeted.startswith("Persiapan 3/7 ==") and "Halo, Bapak/Ibu. Kita lanjutkan usulan \"Jalan tani\":" in greeted
    assert "Tersimpan" not in second and "BPD sudah menyelenggarakan Musyawarah Desa" in greeted
    assert "Desa pengusul: Desa Sukamaju" in second and "Desa mitra: Desa Sukajaya" in second and "Persiapan 2/7" in second


def test_whole_flow_by_piped_lines_writes_documents(tmp_path):
    db, out = tmp_path / "pandu.db", tmp_path / "out"
    lines = ["/usulan", "Air bersih", "2", "1", "Sukamaju", "Cibeber", "Cianjur", "CV Tirta", "1", "Budi Santoso", "Direktur"]
    lines += ["1"] * 9  # persiapan: Sudah
    lines += ["1", "2"]  # penawaran: Sudah, Belum
    lines += ["Pengelolaan air bersih", "Pelayanan air bersih", "CV membangun, Desa mengawasi", "5 tahun",
              "CV menyediakan pipa; Desa menyediakan lahan", "Dana CV Tirta", "Musyawarah para pihak",
              "Musyawarah, lalu difasilitasi Camat"]
    lines += ["1"] * 6 + ["/dokumen"]
    text = console(db, out, lines)
    assert "Semua langkah usulan \"Air bersih\" sudah dilalui" in text
    assert "Perjanjian Bersama" in text
    paths = sorted(out.glob("*.docx"))
    assert [p.name for p in paths] == ["usulan-1-air-bersih-rancangan-perjanjian-bersama.docx",
                                       "usulan-1-air-bersih-ringkasan.docx"]
    assert sorted(p.name for p in out.glob("*.pdf")) == [p.name.replace(".docx", ".pdf") for p in paths]
    body = "\n".join(p.text for p in docx.Document(str(paths[0])).paragraphs)
    assert "Dana CV Tirta" in body and "5 tahun" in body
    assert "belum diisi: jangka waktu" not in body and "belum diisi: nama Kepala Desa" in body
