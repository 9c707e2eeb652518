"""``fraiseql.toml``: parsed into strict pydantic models; unknown keys are errors with their line.

Layout: ``model`` (the root ``Config``), one module per section (``database``, ``auth``, ``providers``,
``security``, ``server``), ``envref`` (``${VAR}`` references), ``secrets`` (FQL133 scan), ``jwks``,
``lines`` (TOML key → line) and ``load`` (reading, error collection, warnings).
"""

from __future__ import annotations

from fraiseql_compiler.config.auth import AuthSection, JwtSection, LoginSection
from fraiseql_compiler.config.database import DatabaseSection, RolesSection
from fraiseql_compiler.config.envref import EnvRef, EnvStr, static_value
from fraiseql_compiler.config.load import ConfigError, load_config, parse_config
from fraiseql_compiler.config.model import CONFIG_FILE, Config
from fraiseql_compiler.config.providers import Provider, RoleRule
from fraiseql_compiler.config.security import (
    ApiKeysSection,
    PkceSection,
    RateLimitingSection,
    SecuritySection,
    StaticKey,
    TokenRevocationSection,
)
from fraiseql_compiler.config.server import CorsSection, ServerSection

__all__ = [
    "CONFIG_FILE",
    "ApiKeysSection",
    "AuthSection",
    "Config",
    "ConfigError",
    "CorsSection",
    "DatabaseSection",
    "EnvRef",
    "EnvStr",
    "JwtSection",
    "LoginSection",
    "PkceSection",
    "Provider",
    "RateLimitingSection",
    "RoleRule",
    "RolesSection",
    "SecuritySection",
    "ServerSection",
    "StaticKey",
    "TokenRevocationSection",
    "load_config",
    "parse_config",
    "static_value",
]
