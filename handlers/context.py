"""What every handler receives: the message and the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from handlers.messages import Inbound

if TYPE_CHECKING:  # pragma: no cover
    from bot.app import App


@dataclass
class Context:
    """One message being handled: the app's services plus the message and its chat key."""

    app: "App"
    msg: Inbound

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
    def is_admin(self) -> bool:
        return self.chat_key in self.app.config.admin.chats
