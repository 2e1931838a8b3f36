"""What every handler receives: the message and the services of the running app."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.messages import Inbound
from handlers.services import Services


@dataclass
class Context:
    """One message being handled: the app's services plus the message and its chat key."""

    services: Services
    msg: Inbound

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
    def is_admin(self) -> bool:
        """Whether the chat is listed in [admin] chats."""
        return self.chat_key in self.services.config.admin.chats
