"""SDPOConfig validation names the bad field and value; dict round trip."""

from __future__ import annotations

import pytest

from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError


def test_defaults_round_trip_through_a_plain_dict():
    config = SDPOConfig(loss="logit", target_modules=["q_proj"], is_clip=2.0)
    assert config.target_modules == ("q_proj",)
    assert SDPOConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"loss": "tokn"}, "loss: bad value 'tokn' (did you mean 'token'?"),
        ({"divergence": "kl"}, "divergence: bad value 'kl'"),
        ({"teacher": "frozen"}, "teacher: bad value 'frozen'"),
        ({"lr": 0}, "lr: bad value 0"),
        ({"lr": float("nan")}, "lr: bad value nan"),
        ({"alpha": 1.0}, "alpha: bad value 1.0"),
        ({"top_k": 0}, "top_k: bad value 0"),
        ({"grad_accum": True}, "grad_accum: bad value True"),
        ({"lora_dropout": 1.0}, "lora_dropout: bad value 1.0"),
        ({"ema_decay": 1.0}, "ema_decay: bad value 1.0"),
        ({"max_grad_norm": -1.0}, "max_grad_norm: bad value -1.0"),
        ({"is_clip": 0.0}, "is_clip: bad value 0.0"),
        ({"centre_advantages": "yes"}, "centre_advantages: bad value 'yes'"),
        ({"target_modules": "q_proj"}, "target_modules: bad value 'q_proj'"),
        ({"hindsight_template": "{prompt} only"}, "hindsight_template: fields ['prompt']"),
        ({"lora_rank": 8}, "lora_rank: unknown SDPO config field (did you mean 'lora_r'?)"),
    ],
)
def test_bad_values_raise_one_line_errors_naming_field_and_value(values, message):
    with pytest.raises(ConfigError) as err:
        SDPOConfig.from_dict(values)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_optional_limits_may_be_switched_off():
    config = SDPOConfig(max_grad_norm=None, is_clip=None)
    assert config.max_grad_norm is None and config.is_clip is None
