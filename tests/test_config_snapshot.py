"""A run's recorded settings come back as the Config it ran with; --set changes them as
maestro.toml would, and refuses what maestro.toml refuses."""

from __future__ import annotations

import json

import pytest

from maestro_tui.config import Config, ConfigError, parse_config
from maestro_tui.config.snapshot import (
    config_from_dict,
    parse_assignment,
    settings_from_json,
    settings_json,
    with_assignments,
)

TOML = {
    "run": {"default_worker": "fake", "max_agents": 3, "exclude": ["*.log"]},
    "tests": {"command": "pytest -q"},
    "llm": {"model": "gpt-4o-mini", "prices": {"gpt-4o-mini": {"input_per_mtok": 0.15,
                                                               "output_per_mtok": 0.6}}},
    "workers": {"fake": {"argv": ["agent", "{prompt}"], "env": {"A": "1"}, "model": "m"}},
}  # fmt: skip


def test_recorded_settings_round_trip_through_json() -> None:
    config = parse_config(TOML)
    text = settings_json(config, {"PATH": "/opt/bin"})
    json.loads(text)  # plain JSON
    back, env = settings_from_json(text)
    assert back == config and env == {"PATH": "/opt/bin"}


def test_a_snapshot_from_another_version_keeps_what_it_knows() -> None:
    config = config_from_dict({"max_agents": 7, "a_setting_from_the_future": 1})
    assert config.max_agents == 7 and config.model == Config().model
    with pytest.raises(ConfigError, match="cannot be read"):
        settings_from_json('{"config": 3}')


def test_set_changes_settings_and_workers_checked_like_the_file() -> None:
    config = parse_config(TOML)
    changed = with_assignments(
        config, ["merge.policy=review", "llm.model=gpt-4o", "workers.fake.model=m2",
                 "run.max_agents=4"],
    )  # fmt: skip
    assert (changed.merge_policy, changed.model, changed.max_agents) == ("review", "gpt-4o", 4)
    assert changed.workers["fake"].model == "m2"
    assert changed.workers["fake"].argv == ("agent", "{prompt}")  # the rest of it kept
    assert changed.test_command == "pytest -q" and changed.prices == config.prices


def test_set_refuses_bad_values_and_unknown_keys_saying_why() -> None:
    config = parse_config(TOML)
    with pytest.raises(ConfigError, match="policy must be one of"):
        with_assignments(config, ["merge.policy=maybe"])
    with pytest.raises(ConfigError, match="did you mean merge.policy"):
        with_assignments(config, ["merge.polcy=review"])
    with pytest.raises(ConfigError, match="SECTION.KEY=VALUE"):
        parse_assignment("policy")


def test_values_are_toml_and_a_bare_word_is_a_string() -> None:
    assert parse_assignment("run.max_agents=3") == (("run", "max_agents"), 3)
    assert parse_assignment('llm.model="a/b"') == (("llm", "model"), "a/b")
    assert parse_assignment("llm.model=a/b") == (("llm", "model"), "a/b")
    assert parse_assignment("run.exclude=['*.tmp']") == (("run", "exclude"), ["*.tmp"])
