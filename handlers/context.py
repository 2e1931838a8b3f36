"""What every handler receives: the message and the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handlers.focus import Focus
from handlers.messages import Inbound

if TYPE_CHECKING:  # pragma: no cover
    from bot.app import App


@dataclass
class Context:
    """One message being handled: the app's services plus the message and its chat key."""

    app: "App"
    msg: Inbound
    _focus: Focus | None = field(default=None, repr=False)

    @property
    def chat_key(self) -> str:
        return self.msg.chat_key

    @property
    def storage(self):
        return self.app.storage

    @property
    def knowledge(self):
        return self.app.knowledge

    @property
    def config(self):
        return self.app.config

    @property
    def focus(self) -> Focus:
        """The chat's focus (handlers/focus.py), read once per message."""
        if self._focus is None:
            self._focus = Focus.from_json(self.storage.get_focus(self.chat_key))
        return self._focus

    def set_focus(self, focus: Focus) -> None:
        """Change the chat's focus; it is stored at once (a restart resumes from it)."""
        if focus != self._focus:
            self._focus = focus
            self.storage.set_focus(self.chat_key, focus.to_json())

    def forget_focus(self) -> None:
        """After the chat's data was deleted: an empty focus, not written back."""
        self._focus = Focus()

    @property
    def is_admin(self) -> bool:
        return self.chat_key in self.app.config.admin.chats
