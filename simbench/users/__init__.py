"""Simulated users: they read a response and send the follow-up a persona would."""

from simbench.users.base import USERS

# Lazy, so listing users never imports openai or torch.
USERS.register_lazy("rules", "simbench.users.rules:RulesUser")
USERS.register_lazy("openai", "simbench.users.openai_compat:OpenAIUser")
USERS.register_lazy("local", "simbench.users.local:LocalUser")
