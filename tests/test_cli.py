"""The command line, run as a newcomer would: real processes, a real database file."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(*args, stdin: str | None = None, cwd: Path = REPO):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_console_pipe_prints_menu_and_answer_and_keeps_log(tmp_path):
    db = tmp_path / "x.db"
    p = run("console", "--db", str(db), stdin="/mulai\napa itu bkad\n")
    assert p.returncode == 0, p.stderr
    assert "1. Tanya aturan" in p.stdout
    assert "2. Siapkan usulan kerja sama" in p.stdout
    assert "3. Bantuan" in p.stdout
    assert "PP 43/2014 Pasal 144" in p.stdout
    # python -m bot (no sub-command) is the console too; a second run keeps the question log
    p2 = run("--db", str(db), stdin="siapa saja anggota bkad\n")
    assert p2.returncode == 0, p2.stderr
    conn = sqlite3.connect(db)
    questions = [r[0] for r in conn.execute("SELECT question FROM question_log ORDER BY id")]
    conn.close()
    assert questions == ["apa itu bkad", "siapa saja anggota bkad"]


def test_ask_json_cites_permendagri_pasal_3():
    p = run("ask", "--json", "kerja sama antar desa dituangkan dalam apa")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["outcome"] == "answer"
    assert any(c.startswith("Permendagri 96/2017 Pasal 3") for c in data["citations"])
    assert set(data) == {"question", "outcome", "entry", "title", "score", "citations", "answer", "suggestions",
                         "miss", "asked", "probability"}


def test_ask_reads_one_question_per_line():
    p = run("ask", "--json", stdin="apa itu bkad\nharga cabai hari ini\n")
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["outcome"] for r in rows] == ["answer", "none"]


def test_eval_prints_metrics():
    p = run("eval", "tests/data/dev-questions.jsonl", "--json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert {"top1", "top3", "rank_top1", "rank_top3", "oos_rejection", "wrong_answer"} <= set(report)
    assert report["wrapped"]["wrappers"] >= 8 and 0 <= report["wrapped"]["kept"] <= 100


def test_eval_prints_ranking_beside_decided_and_the_wrapped_run():
    p = run("eval", "tests/data/blind-questions.jsonl", "--split", "test")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("rows 81 ")
    for label in ("ranking top-1 (no cut-off)", "decided top-1 (answered)", "wrong answers", "out of scope declined",
                  "wrapped keep the plain outcome and entry"):
        assert label in p.stdout, p.stdout


def test_ask_plain_names_the_kind_of_miss():
    p = run("ask", stdin="dana desa kapan cair\nsaya kades Sukamaju\nOm swastiastu\nmatur suksma pak\n")
    assert p.stdout.splitlines() == [
        "none: di luar cakupan", "none: belum ada pertanyaan", "none: sapaan", "none: ucapan terima kasih"
    ]


def test_bad_config_stops_with_one_line_naming_the_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[retrieval]\nanswer_probability = \"tinggi\"\n")
    p = run("ask", "--config", str(cfg), "apa itu bkad")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0
    assert "retrieval.answer_probability" in p.stderr


def test_db_backup_and_unanswered(tmp_path):
    db = tmp_path / "live.db"
    run("console", "--db", str(db), stdin="resep rendang\nresep rendang\n")
    p = run("kb", "unanswered", "--db", str(db))
    assert p.returncode == 0
    assert "2  none" in p.stdout and "resep rendang" in p.stdout
    target = tmp_path / "backup.db"
    p = run("db", "backup", str(target), "--db", str(db))
    assert p.returncode == 0, p.stderr
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT count(*) FROM question_log").fetchone()[0] == 2
    conn.close()


def test_ask_plain_prints_one_line_per_question():
    p = run("ask", stdin="apa itu bkad\nresep rendang\n")
    lines = p.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("answer: ") and "PP 43/2014 Pasal 144" in lines[0]
    assert lines[1].startswith("none: ")


def test_db_backup_refuses_a_missing_database(tmp_path):
    missing = tmp_path / "salah-ketik" / "pandu.db"
    p = run("db", "backup", str(tmp_path / "b.db"), "--db", str(missing))
    assert p.returncode == 2
    assert "nothing to back up" in p.stderr
    assert not missing.exists() and not (tmp_path / "b.db").exists()


def test_unreadable_file_and_empty_question_are_one_line_errors(tmp_path):
    p = run("eval", str(tmp_path / "tidak-ada.jsonl"))
    assert p.returncode == 2 and p.stderr.strip().startswith("error:") and "\n" not in p.stderr.strip()
    assert "Traceback" not in p.stderr
    p = run("ask", "--json", "   ")
    assert p.returncode == 2 and "empty" in p.stderr
