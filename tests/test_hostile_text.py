"""Text a hostile or unlucky client sends, seen by the core (issue 15, smaller items)."""

from handlers import texts
from tests.test_checklist import answers


async def test_a_right_to_left_override_in_a_proposal_name_is_never_stored_or_echoed(chat, app):
    await chat.send("/usulan \u202eJalan tani\u202c")
    name = app.storage.db.execute("SELECT name FROM proposals").fetchone()[0]
    assert name == "Jalan tani"
    assert all("\u202e" not in o.text and "\u202c" not in o.text for o in chat.last)
    for typed in ("1", "1", "2", "\u2067Sukamaju\u2069"):  # an isolate around a village name
        await chat.send(typed)
    assert answers(app) == {"desa": ("value", "Sukamaju")}


async def test_admin_commands_are_indistinguishable_from_unknown_ones(chat):
    replies = {}
    for cmd in ("/STATISTIK", "/FOOBAR", "/statistik", "/foobar", "/MuatUlang"):
        await chat.send(cmd)
        replies[cmd] = chat.text
    shape = {r.replace(c.lower(), "/x") for c, r in replies.items()}
    assert shape == {texts.UNKNOWN_COMMAND.format(cmd="/x")}
