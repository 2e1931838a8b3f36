"""Typed text while a step waits: a question is searched in the knowledge base once, not twice."""

from handlers import checklist_texts as t
from tests.test_checklist import antar_desa


async def test_a_question_while_a_step_waits_is_searched_once(chat, app, monkeypatch):
    await antar_desa(chat)
    retriever = app.knowledge.retriever
    searched = []
    search = retriever.search

    def counting(question):
        searched.append(question)
        return search(question)

    monkeypatch.setattr(retriever, "search", counting)
    await chat.send("apa itu BKAD?")
    assert "BKAD" in chat.text and t.QUESTION_THEN_STEP in chat.text
    assert "Nama Desa Bapak/Ibu" in chat.text  # the step asked again
    assert searched == ["apa itu BKAD?"]


async def test_text_step_buttons_answer_to_their_labels(chat, app):
    await antar_desa(chat)
    await chat.send("kenapa")
    assert t.WHY_HEADING in chat.text
    await chat.send("Lewati.")
    assert "Dilewati" in chat.text
    await chat.send("3")  # no third button: a typed value, refused as too short to be a name
    assert t.TOO_SHORT in chat.text


async def test_main_menu_payloads_run_only_the_menu_commands(chat, app):
    from handlers import router, texts
    from handlers.context import Context
    from handlers.messages import Inbound

    ctx = Context(app, Inbound("test", "u1"))
    for name in ("hapus", "muatulang", "", "tanya:x"):
        assert [r.text for r in await router.dispatch_payload(ctx, f"menu:{name}")] == [texts.EXPIRED], name
    assert [r.text for r in await router.dispatch_payload(ctx, "menu:tanya")] == [texts.ASK_PROMPT]
