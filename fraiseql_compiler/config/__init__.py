"""``fraiseql.toml``: parsed into strict pydantic models; unknown keys are errors with their line."""

from __future__ import annotations

from fraiseql_compiler.config.model import CONFIG_FILE, Config, load_config

__all__ = ["CONFIG_FILE", "Config", "load_config"]
