"""The conversation focus of a chat: what it waits for, and which list a typed number or label refers to.

One small typed stack per chat, persisted after every change (storage table `chat_focus`):

- `guide`   — the proposal guide: the proposal's pending step (or name, or triage question) owns typed text;
- `edit`    — on top of `guide`: an earlier step is being answered again through /ubah; "tidak jadi" or /batal
              goes back to where the guide was (`resume`) and changes nothing;
- `confirm` — on top: "Simpan "…" sebagai Nama Desa?" (or "Lewati langkah ini?") waits for Ya / Bukan;
- `topics`  — on top of `guide`: "Maksud Bapak/Ibu:" topics offered for a question typed at a step; a number picks
              a topic, anything else goes back to the step;
- `delete`  — on top of anything: the /hapus confirmation.

Each frame keeps the lists shown while it was on top (label, payload per choice; those of the latest reply that
had any): a typed number means a choice of the last of them, a typed label a choice of any of them. A new frame
starts with no list; when a confirmation, topic list or /hapus is left, the lists of the frame below are in focus
again; leaving the guide (/batal) forgets its lists. Nothing else — no timestamp, no mode string, no channel —
decides what a chat is waiting for.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, get_args

log = logging.getLogger(__name__)

FrameKind = Literal["guide", "edit", "confirm", "topics", "delete"]
FRAME_KINDS: tuple[str, ...] = get_args(FrameKind)
MAX_FRAMES = 6  # the stack never grows beyond this (a corrupt or looping record is cut back)

Menu = tuple[tuple[str, str], ...]  # (label, payload) per choice


@dataclass(frozen=True)
class Frame:
    """One level of the focus. Fields beyond `kind` are used by the kinds that need them."""

    kind: FrameKind
    proposal: int = 0  # guide, edit, confirm, topics: the proposal
    position: str = ""  # edit: where the guide was before (to go back); confirm: the step the value is for
    target: str = ""  # edit: the step being answered again
    revision: int = 0  # confirm, edit: the proposal's revision when the frame was entered
    value: str = ""  # confirm: the value waiting for Ya / Bukan ("" for a skip)
    action: str = ""  # confirm: "value" | "skip" | "answer" (a confirmation step's status in `value`)
    nonce: str = ""  # delete: the confirmation's one-time nonce
    menus: tuple["Menu", ...] = ()  # the lists shown while this frame was on top


@dataclass(frozen=True)
class Focus:
    """A chat's focus: the frames (bottom first), and the lists shown while no frame was open."""

    frames: tuple[Frame, ...] = ()
    free_menus: tuple[Menu, ...] = field(default=())

    @property
    def top(self) -> Frame | None:
        """The frame that owns the next typed message, or None when the chat is free."""
        return self.frames[-1] if self.frames else None

    @property
    def menus(self) -> tuple[Menu, ...]:
        """The lists typed numbers and labels refer to: those shown while the top frame was on top."""
        return self.frames[-1].menus if self.frames else self.free_menus

    def find(self, kind: FrameKind) -> Frame | None:
        """The topmost frame of a kind."""
        return next((f for f in reversed(self.frames) if f.kind == kind), None)

    @property
    def guide(self) -> Frame | None:
        """The proposal guide frame, if the chat is in the guide."""
        return self.find("guide")

    def push(self, frame: Frame) -> "Focus":
        """A new frame on top, with no list yet."""
        return Focus((*self.frames, replace(frame, menus=()))[-MAX_FRAMES:], self.free_menus)

    def pop(self, kind: FrameKind | None = None) -> "Focus":
        """Without the top frame (or, given a kind, without the topmost frame of that kind and those above it).
        Leaving a transient frame brings back the lists of the frame below; leaving the guide forgets them."""
        i = len(self.frames) - 1 if kind is None else next(
            (j for j in range(len(self.frames) - 1, -1, -1) if self.frames[j].kind == kind), None)  # fmt: skip
        if i is None or i < 0:
            return self
        left = self.frames[i]
        return Focus(self.frames[:i], () if left.kind in ("guide", "edit") and i == 0 else self.free_menus)

    def with_menus(self, menus: tuple[Menu, ...]) -> "Focus":
        """The lists of the latest reply, kept with the top frame (or the free chat)."""
        if not self.frames:
            return replace(self, free_menus=menus)
        return Focus((*self.frames[:-1], replace(self.frames[-1], menus=menus)), self.free_menus)

    # -- persistence ---------------------------------------------------------------------------------
    def to_json(self) -> str:
        """The record as stored."""
        frames = []
        for f in self.frames:
            d = {k: v for k, v in asdict(f).items() if v not in ("", 0, ()) and k != "menus"} | {"kind": f.kind}
            if f.menus:
                d["menus"] = _menus_out(f.menus)
            frames.append(d)
        return json.dumps({"frames": frames, "menus": _menus_out(self.free_menus)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> "Focus":
        """The stored record; an unreadable one is logged and read as an empty focus (the chat starts free)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            frames = tuple(_frame(f) for f in data.get("frames", []))[-MAX_FRAMES:]
            return cls(frames, _menus_in(data.get("menus", [])))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            log.warning("unreadable chat focus record reset (%s)", type(exc).__name__)
            return cls()


_FRAME_FIELDS = {
    "proposal": int, "position": str, "target": str, "revision": int, "value": str, "action": str, "nonce": str,
}  # fmt: skip


def _menus_out(menus: tuple[Menu, ...]) -> list:
    return [[list(c) for c in m] for m in menus]


def _menus_in(raw) -> tuple[Menu, ...]:
    return tuple(tuple((str(lbl), str(pl)) for lbl, pl in m) for m in raw)


def _frame(raw: dict) -> Frame:
    kind = raw["kind"]
    if kind not in FRAME_KINDS:
        raise ValueError(f"unknown frame kind {kind!r}")
    values = {}
    for name, typ in _FRAME_FIELDS.items():
        if name in raw:
            if not isinstance(raw[name], typ) or isinstance(raw[name], bool):
                raise TypeError(f"frame field {name} has the wrong type")
            values[name] = raw[name]
    return Frame(kind, menus=_menus_in(raw.get("menus", [])), **values)
