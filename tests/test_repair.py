"""Proposals saved before /muatulang changed the flows: a removed or renamed triage question, flow or step is
repaired when the proposal is loaded (Flows objects modified in memory; real SQLite file)."""

from dataclasses import replace

import pytest

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers import texts
from handlers.checklist import Answer, At, Proposal
from knowledge.flows import Flows
from tests.test_checklist import antar_desa, start


def renamed_question(flows: Flows, old: str, new: str) -> Flows:
    """The flows with triage question `old` renamed to `new` (options pointing at it follow)."""
    questions = {}
    for qid, q in flows.questions.items():
        options = tuple(replace(o, next=new if o.next == old else o.next) for o in q.options)
        q = replace(q, id=new if qid == old else qid, options=options)
        questions[q.id] = q
    return replace(flows, questions=questions, start=new if flows.start == old else flows.start)


def without_flow(flows: Flows, flow_id: str) -> Flows:
    return replace(flows, flows={k: f for k, f in flows.flows.items() if k != flow_id})


def without_step(flows: Flows, flow_id: str, step_id: str) -> Flows:
    f = flows.flows[flow_id]
    changed = replace(f, steps=tuple(s for s in f.steps if s.id != step_id))
    return replace(flows, flows={**flows.flows, flow_id: changed})


def test_repair_leaves_a_valid_proposal_alone(knowledge):
    flows = knowledge.flows
    for p in (Proposal(1), Proposal(1, "A", at=At.TRIAGE, current="wilayah", triage={"jenis": "antar-desa"}),
              Proposal(1, "A", flow="antar-desa", at=At.STEP, current="desa"),
              Proposal(1, "A", flow="antar-desa", at=At.DONE),
              Proposal(1, "A", at=At.STOPPED, outcome="antar-daerah")):  # fmt: skip
        assert engine.repair(flows, p) is p


def test_repair_restarts_the_triage_when_its_question_is_gone(knowledge):
    flows = renamed_question(knowledge.flows, "wilayah", "wilayah-desa")
    p = Proposal(1, "A", at=At.TRIAGE, current="wilayah", triage={"jenis": "antar-desa"}, revision=3)
    fixed = engine.repair(flows, p)
    assert (fixed.position, dict(fixed.triage), fixed.revision, fixed.name) == ("triage.jenis", {}, 4, "A")


def test_repair_restarts_the_triage_when_the_flow_is_gone(knowledge):
    flows = without_flow(knowledge.flows, "antar-desa")
    p = Proposal(1, "A", flow="antar-desa", outcome="antar-desa-bkad", at=At.STEP, current="kecamatan", revision=7,
                 triage={"jenis": "antar-desa"}, answers={"desa": Answer("value", "Sukamaju")})
    fixed = engine.repair(flows, p)
    assert (fixed.position, fixed.flow, fixed.outcome, dict(fixed.triage)) == ("triage.jenis", "", "", {})
    assert fixed.revision == 8 and fixed.answers == p.answers  # answers are kept for the flow chosen again


def test_repair_moves_on_when_the_step_is_gone(knowledge):
    flows = without_step(knowledge.flows, "antar-desa", "kecamatan")
    p = Proposal(1, "A", flow="antar-desa", at=At.STEP, current="kecamatan", revision=5,
                 answers={"desa": Answer("value", "Sukamaju")})
    fixed = engine.repair(flows, p)
    assert (fixed.position, fixed.revision) == ("step.kabupaten", 6)


@pytest.mark.parametrize("change", ["question", "flow"])
async def test_a_chat_in_a_removed_triage_question_or_flow_starts_the_triage_again(chat, app, change):
    if change == "question":
        await start(chat)
        await chat.tap("Dengan Desa lain")
        flows = renamed_question(app.knowledge.flows, "wilayah", "wilayah-desa")
    else:
        await antar_desa(chat)
        flows = without_flow(app.knowledge.flows, "antar-desa")
    app.knowledge = replace(app.knowledge, flows=flows)  # as /muatulang swaps it
    await chat.send("/usulan")
    assert texts.ERROR not in chat.text and "Dengan Desa lain" in chat.labels
    await chat.send("1")
    assert "Satu kecamatan" in chat.labels


async def test_a_chat_at_a_removed_step_gets_the_next_step_and_old_buttons_expire(chat, app):
    await antar_desa(chat)
    old_skip = next(tok for o in chat.last for c, tok in zip(o.choices, o.choice_tokens) if c.label == t.SKIP)
    app.knowledge = replace(app.knowledge, flows=without_step(app.knowledge.flows, "antar-desa", "desa"))
    await chat.send("/usulan")
    assert "Kecamatan Desa Bapak/Ibu?" in chat.text
    await chat.tap_token(old_skip)
    assert t.STALE in chat.text
    await chat.send("Cibeber")
    assert "Tersimpan: \"Cibeber\"" in chat.text
