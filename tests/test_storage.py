"""SQLite storage: schema, WAL, persistence across restarts, menus, privacy of the question log."""

import json
import os
import sqlite3

import pytest

from bot.storage import MENUS_KEPT, Storage, StorageError
from handlers.messages import Choice


def test_file_database_uses_wal_and_keeps_data(tmp_path):
    path = str(tmp_path / "a.db")
    s = Storage(path)
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.schema_version >= 1
    s.log_question("test:1", "test", "apa itu bkad", "answer", "bkad-pengertian", 91.0)
    s.close()
    s2 = Storage(path)
    rows = list(s2.question_log())
    assert [r["question"] for r in rows] == ["apa itu bkad"]
    s2.close()


def test_memory_database_works():
    s = Storage(":memory:")
    s.touch_chat("test:1", "test")
    assert s.chat_active("test:1")


def test_newer_schema_is_refused(tmp_path):
    path = str(tmp_path / "b.db")
    Storage(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer than this code"):
        Storage(path)


def test_garbage_file_is_refused_clearly(tmp_path):
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        Storage(str(path))


def test_menus_belong_to_their_chat_and_are_pruned():
    s = Storage(":memory:")
    first = s.save_menu("test:1", (Choice("A", "menu:tanya"),))
    assert s.get_menu("test:1", first) == [("A", "menu:tanya")]
    assert s.get_menu("test:2", first) is None
    for _ in range(MENUS_KEPT):
        s.save_menu("test:1", (Choice("B", "menu:bantuan"),))
    assert s.get_menu("test:1", first) is None
    assert s.latest_menu("test:1")[1] == [("B", "menu:bantuan")]


def test_chat_hash_is_salted_and_stable(monkeypatch):
    s = Storage(":memory:", log_salt=os.environ.get("PANDU_LOG_SALT"))
    h = s.chat_hash("telegram:42")
    assert h == s.chat_hash("telegram:42") and "telegram" not in h and len(h) == 32
    monkeypatch.setenv("PANDU_LOG_SALT", "another-salt")
    assert Storage(":memory:", log_salt=os.environ.get("PANDU_LOG_SALT")).chat_hash("telegram:42") != h


def test_delete_chat_removes_everything_of_that_chat_only():
    s = Storage(":memory:")
    for key in ("test:1", "test:2"):
        s.touch_chat(key, "test")
        s.set_focus(key, '{"frames": []}')
        s.save_menu(key, (Choice("A", "menu:tanya"),))
        s.log_question(key, "test", "q", "none", None, 0)
    s.delete_chat("test:1")
    for table in s.db.table_names():
        cols = {c.name for c in s.db[table].columns}
        if "chat_key" in cols:
            assert s.db.execute(f"SELECT count(*) FROM [{table}] WHERE chat_key = 'test:1'").fetchone()[0] == 0
    assert [r["chat_hash"] for r in s.question_log()] == [s.chat_hash("test:2")]
    assert s.get_focus("test:2") == '{"frames": []}' and s.get_focus("test:1") is None


def test_delete_chat_removes_proposals_and_answers(tmp_path):
    from bot.storage import Storage

    s = Storage(str(tmp_path / "p.db"))
    pid = s.create_proposal("test:a")
    other = s.create_proposal("test:b")
    data, _ = s.load_proposal("test:a", pid)
    s.save_proposal("test:a", data, {"desa": ("value", "Sukamaju")})
    s.save_proposal("test:a", data, {"desa": ("value", "Sukamaju")})  # idempotent
    assert s.load_proposal("test:a", pid)[1] == {"desa": ("value", "Sukamaju")}
    assert s.load_proposal("test:b", pid) is None  # another chat's proposal is invisible
    counts = s.delete_chat("test:a")
    assert counts["proposals"] == 1  # its answers go with it (ON DELETE CASCADE) or by chat_key
    assert s.db.execute("SELECT count(*) FROM proposal_answers WHERE chat_key = 'test:a'").fetchone()[0] == 0
    assert s.load_proposal("test:a", pid) is None and s.load_proposal("test:b", other) is not None
    s.close()


def test_upgrade_from_version_1_keeps_data(tmp_path):
    """A database made by the first release (schema 1) with data migrates to the newest schema, losing nothing."""
    import sqlite_utils

    from bot.storage import MIGRATIONS

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db["meta"].insert({"key": "schema_version", "value": "1"})
    db["question_log"].insert({"ts": 1.0, "chat_hash": "abc", "channel": "telegram", "question": "apa itu bkad",
                               "outcome": "answer", "entry_id": "bkad-pengertian", "score": 90.0})
    db["chat_state"].insert({"chat_key": "telegram:1", "mode": "", "data": "{}", "updated_at": 1.0})
    db["chat_state"].insert({"chat_key": "telegram:2", "mode": "usulan", "data": '{"pid": 7}', "updated_at": 1.0})
    db["chat_state"].insert({"chat_key": "telegram:3", "mode": "hapus", "updated_at": 1.0,
                             "data": '{"nonce": "ab12", "mode": "usulan", "data": {"pid": 8}}'})
    db.close()
    s = Storage(str(path))
    assert s.schema_version == len(MIGRATIONS) > 1
    assert [r["question"] for r in s.question_log()] == ["apa itu bkad"]
    assert s.get_focus("telegram:1") is None  # no mode: nothing to carry over
    assert json.loads(s.get_focus("telegram:2"))["frames"] == [{"kind": "guide", "proposal": 7}]
    assert json.loads(s.get_focus("telegram:3"))["frames"] == [{"kind": "guide", "proposal": 8},
                                                                {"kind": "delete", "nonce": "ab12"}]
    assert "chat_state" not in s.db.table_names()
    assert "proposals" in s.db.table_names()
    s.close()


def test_chat_id_salt_is_its_own_kept_in_the_database_and_not_from_the_environment(tmp_path, monkeypatch):
    path = str(tmp_path / "pandu.db")
    monkeypatch.setenv("PANDU_LOG_SALT", "first-salt")
    s = Storage(path, log_salt=os.environ.get("PANDU_LOG_SALT"))
    h = s.chat_id_hash("wa_id:6281234567890")
    assert len(h) == 32 and h != s.chat_hash("wa_id:6281234567890")
    s.close()
    monkeypatch.setenv("PANDU_LOG_SALT", "second-salt")
    s = Storage(path, log_salt=os.environ.get("PANDU_LOG_SALT"))
    assert s.chat_id_hash("wa_id:6281234567890") == h
    s.close()
    monkeypatch.delenv("PANDU_LOG_SALT")
    assert Storage(":memory:", log_salt=os.environ.get("PANDU_LOG_SALT")).chat_id_hash("wa_id:6281234567890") != h  # random per database


def test_whatsapp_chats_keyed_before_the_chat_salt_stay_reachable(tmp_path, monkeypatch):
    """A database whose wa_id chats were keyed with the question-log hash adopts that salt once, for good."""
    path = str(tmp_path / "pandu.db")
    monkeypatch.setenv("PANDU_LOG_SALT", "deployed-salt")
    old = Storage(path, log_salt=os.environ.get("PANDU_LOG_SALT"))  # as the previous release keyed a chat without a business-scoped id
    legacy = "whatsapp:wa-" + old.salts.legacy_log_hash("wa_id:6281234567890")[:24]
    old.touch_chat(legacy, "whatsapp")
    old.db.execute("DELETE FROM meta WHERE key = 'chat_salt'")  # that release had none
    old.close()
    for salt in ("deployed-salt", "rotated-salt"):  # the upgrade, then a change of PANDU_LOG_SALT
        monkeypatch.setenv("PANDU_LOG_SALT", salt)
        s = Storage(path, log_salt=os.environ.get("PANDU_LOG_SALT"))
        assert "whatsapp:wa-" + s.chat_id_hash("wa_id:6281234567890")[:24] == legacy
        s.close()
    s = Storage(path, log_salt=os.environ.get("PANDU_LOG_SALT"))
    assert s.chat_hash("x") != s.chat_id_hash("x")  # the log has a key of its own (bot/storage/identity.py)
    s.close()


def test_upgrade_from_version_3_keeps_every_row_and_remembers_seen_deliveries(tmp_path):
    """A filled database of the release before the focus and the inbox (schema 3) migrates to the newest schema."""
    import hashlib
    import hmac

    import sqlite_utils

    from bot.storage import MIGRATIONS

    wamid = "wamid.HBgMNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA="
    # release 3 stored hmac(chat_salt, "wamid:" + id)[:32] in wa_seen
    seen_key = hmac.new(b"release-3-salt", f"wamid:{wamid}".encode(), hashlib.sha256).hexdigest()[:32]
    path = tmp_path / "v3.db"
    db = sqlite_utils.Database(path)
    for migrate in MIGRATIONS[:3]:
        migrate(db)
    db["meta"].insert_all([{"key": "schema_version", "value": "3"}, {"key": "chat_salt", "value": "release-3-salt"}])
    db["chats"].insert({"chat_key": "telegram:1", "channel": "telegram", "created_at": 1.0, "last_seen": 2.0, "active": 1})
    db["chat_state"].insert({"chat_key": "telegram:1", "mode": "usulan", "data": '{"pid": 1}', "updated_at": 2.0})
    db["menus"].insert({"menu_id": "abcdefgh", "chat_key": "telegram:1", "created_at": 2.0,
                        "choices": '[["Sudah", "usl:a:1:3:persiapan_1:sudah"]]'})
    db["proposals"].insert({"id": 1, "chat_key": "telegram:1", "name": "Jalan tani", "flow": "antar-desa", "outcome": "",
                            "current": "persiapan_1", "revision": 3, "triage": "{}", "active": 1, "created_at": 1.0,
                            "updated_at": 2.0})
    db.execute("INSERT INTO proposal_answers VALUES (1, 'telegram:1', 'desa', 'value', 'Sukamaju', 2.0)")
    db["question_log"].insert({"ts": 1.0, "chat_hash": "abc", "channel": "telegram", "question": "apa itu bkad",
                               "outcome": "answer", "entry_id": "bkad-pengertian", "score": 90.0})
    db["wa_window"].insert({"chat_key": "whatsapp:ID.1", "last_inbound": 5.0})
    db["wa_seen"].insert({"message_id": seen_key, "seen_at": 3.0})
    db.close()

    s = Storage(str(path))
    assert s.schema_version == len(MIGRATIONS) == 6
    assert json.loads(s.get_focus("telegram:1"))["frames"] == [{"kind": "guide", "proposal": 1}]
    assert s.get_menu("telegram:1", "abcdefgh") == [("Sudah", "usl:a:1:3:persiapan_1:sudah")]
    data, answers = s.load_proposal("telegram:1", 1)
    assert (data["name"], data["at"], data["current"]) == ("Jalan tani", "step", "persiapan_1")
    assert answers == {"desa": ("value", "Sukamaju")}
    assert [r["question"] for r in s.question_log()] == ["apa itu bkad"]
    assert s.last_inbound("whatsapp:ID.1") == 5.0
    assert "wa_seen" not in s.db.table_names()
    assert s.db.execute("SELECT dedupe_key, channel, state FROM inbox").fetchall() == [(seen_key, "whatsapp", "done")]
    # Meta redelivering that message after the upgrade: still recognised, not handled again
    assert s.inbox.add("whatsapp", f"wamid:{wamid}", "whatsapp:ID.1", {}) is None
    assert s.inbox.add("whatsapp", "wamid:another", "whatsapp:ID.1", {}) is not None
    s.close()
