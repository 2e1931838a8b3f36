"""What every handler receives: the message and the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.focus import Focus
from handlers.messages import Inbound
from handlers.services import Services


@dataclass
class Context:
    """One message being handled: the app's services plus the message and its chat key."""

    services: Services
    msg: Inbound
    _focus: Focus | None = field(default=None, repr=False)

    @property
    def app(self) -> Services:
        """The services (the name handlers used before they were narrowed)."""
        return self.services

    @property
    def chat_key(self) -> str:
        """The storage key of the message's chat."""
        return self.msg.chat_key

    @property
    def storage(self):
        """The chat storage (handlers.services.ChatStore)."""
        return self.services.storage

    @property
    def knowledge(self):
        """The loaded knowledge base, retriever and flows."""
        return self.services.knowledge

    @property
    def config(self):
        """The configuration."""
        return self.services.config

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
        """Whether the chat is listed in [admin] chats (the app reads each entry: a number, a linked chat …)."""
        return self.services.is_admin(self.chat_key)
