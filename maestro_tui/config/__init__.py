"""maestro.toml: the settings of a run, the preset workers, and the checks every value passes."""

from maestro_tui.config.presets import INSTALL_HINTS, PRESETS, WorkerSpec, install_hint
from maestro_tui.config.settings import (
    CONFIG_FILE,
    DEFAULT_TEST_COMMAND,
    Config,
    ConfigError,
    init_template,
    load_config,
    parse_config,
    with_overrides,
)

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_TEST_COMMAND",
    "INSTALL_HINTS",
    "PRESETS",
    "Config",
    "ConfigError",
    "WorkerSpec",
    "init_template",
    "install_hint",
    "load_config",
    "parse_config",
    "with_overrides",
]
