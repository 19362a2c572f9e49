"""Registries refuse a second entry under a taken name, and build what they hold by its hook."""

from __future__ import annotations

import pytest

from simbench.backends import BACKENDS
from simbench.errors import InputError
from simbench.learners import LEARNERS
from simbench.registry import Registry
from simbench.users import USERS
from simbench.users.base import UserContext
from simbench.users.noise import NoisyUser
from simbench.users.openai_compat import OpenAIUser
from simbench.users.rules import RulesUser


class First:
    pass


class Second:
    pass


def test_a_duplicate_name_is_an_error_naming_both_entries():
    registry = Registry("widget")
    registry.register("a")(First)
    with pytest.raises(ValueError, match=r"widget 'a' is registered twice: .*First and .*Second"):
        registry.register("a")(Second)
    registry.register_lazy("b", "some.module:Thing")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_lazy("b", "other.module:Thing")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("b")(First)


def test_registering_the_same_entry_again_is_harmless():
    registry = Registry("widget")
    registry.register_lazy("a", f"{First.__module__}:First")
    registry.register_lazy("a", f"{First.__module__}:First")  # a module imported twice
    registry.register("a")(First)  # the lazy entry's own class, registered on import
    assert registry.get("a") is First


def test_an_unknown_name_suggests_the_closest():
    with pytest.raises(InputError, match=r"--learner: unknown learner 'sdpo-tokn' \(did you mean 'sdpo-token'"):
        LEARNERS.get("sdpo-tokn")


@pytest.mark.parametrize("registry", [USERS, BACKENDS, LEARNERS])
def test_every_registered_implementation_has_the_build_hook_of_its_protocol(registry):
    for name in registry.names():
        assert callable(getattr(registry.get(name), "from_config", None)), name


def test_users_build_from_their_context_and_honour_the_persona_noise_rate():
    context = UserContext(options={"praise_rate": 0.25}, background="A student.", irrelevant_rate=0.3)
    rules = USERS.get("rules").from_config(context)
    assert isinstance(rules, RulesUser) and (rules.irrelevant_rate, rules.praise_rate) == (0.3, 0.25)
    options = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": None}
    noisy = USERS.get("openai").from_config(UserContext(options=options, background="A student.",
                                                         irrelevant_rate=0.3))
    assert isinstance(noisy, NoisyUser) and noisy.rate == 0.3 and noisy.inner.background == "A student."
    plain = USERS.get("openai").from_config(UserContext(options=options))
    assert isinstance(plain, OpenAIUser)
