"""The /hapus confirmation: only an answer to it, while it is the newest menu, deletes; anything else calls it
off and is handled as if /hapus had not been typed. Real SQLite file, real knowledge and flow files."""

from handlers import checklist_texts as t
from handlers import texts
from tests.test_checklist import antar_desa, answers, proposal_rows, start


async def test_a_command_after_hapus_calls_it_off_so_a_later_1_deletes_nothing(chat, app):
    await start(chat)
    await chat.tap("Dengan Desa lain")
    await chat.send("/hapus")
    await chat.send("/mulai")
    await chat.send("1")  # "Tanya aturan" of the main menu, not "Ya, hapus semua"
    assert t.DELETED not in chat.text and texts.ASK_PROMPT in chat.text
    assert proposal_rows(app)
    await chat.send("/usulan")
    assert "Satu kecamatan" in chat.labels  # the triage waits where it was


async def test_a_tap_on_another_button_after_hapus_calls_it_off(chat, app):
    await chat.send("/mulai")
    help_ = next(tok for o in chat.last for c, tok in zip(o.choices, o.choice_tokens) if c.label == texts.MENU_HELP)
    await start(chat)
    await chat.send("/hapus")
    await chat.tap_token(help_)  # an older menu's button
    assert "Cara memakai Pandu" in chat.text
    await chat.send("1")  # the triage's first option, not the deletion
    assert t.DELETED not in chat.text and "Satu kecamatan" in chat.labels
    assert proposal_rows(app)


async def test_a_typed_yes_counts_only_while_the_confirmation_is_in_focus(chat, app):
    await start(chat)
    await chat.send("/hapus")
    await chat.send("/status")  # another list shown since: the confirmation is called off
    await chat.send("ya")
    assert t.DELETED not in chat.text
    assert proposal_rows(app)
    await chat.send("/hapus")
    await chat.send("Ya.")
    assert chat.text == t.DELETED


async def test_typed_no_at_the_confirmation_keeps_the_step_waiting(chat, app):
    await start(chat)
    await chat.send("/hapus")
    await chat.send("2")
    assert chat.text == t.DELETE_KEPT
    await chat.send("1")
    assert "Satu kecamatan" in chat.labels


async def test_other_text_at_the_confirmation_goes_to_the_waiting_step(chat, app):
    await chat.send("/usulan")
    await chat.send("/hapus")
    await chat.send("Jalan tani Sukamaju")
    assert t.STARTED.format(name="Jalan tani Sukamaju") in chat.text
    assert "Dengan Desa lain" in chat.labels
    await chat.send("/status")
    assert "Jalan tani Sukamaju" in chat.text


async def test_other_text_at_the_confirmation_answers_a_text_step(chat, app):
    await antar_desa(chat)
    await chat.send("/hapus")
    await chat.send("Sukamaju")
    assert "Tersimpan: \"Sukamaju\"" in chat.text
    assert answers(app)["desa"] == ("value", "Sukamaju")
