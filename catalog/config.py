"""One settings object. Every setting can be given as an environment variable with the CATALOG_ prefix.

Nested sections use a double underscore: `CATALOG_API__MAX_DEPTH=12`, `CATALOG_NEO4J__PASSWORD=...`.
Precedence, highest first: explicit arguments, environment variables, a `.env` file in the working directory,
then the defaults below. The README lists every setting.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from catalog.domain import DEFAULT_CLASSIFICATIONS, DEFAULT_PURPOSES
from catalog.errors import ConfigError


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "public-catalog"


def default_store_url() -> str:
    # Four slashes: SQLAlchemy-style absolute path (three slashes would make it relative).
    return f"sqlite:///{default_data_dir() / 'catalog.db'}"


class Neo4jSettings(BaseModel):
    user: str = Field("neo4j", description="Neo4j user name (ignored when the server has auth disabled).")
    password: str = Field("", description="Neo4j password. Empty means no authentication.")
    database: str | None = Field(None, description="Neo4j database name; the server default when unset.")
    connect_timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for a Bolt connection.")


# Published in this file, the README and docker-compose.yml: anyone can sign tokens with it.
DEFAULT_JWT_SECRET = "dev-only-secret-change-me-anywhere-but-a-laptop"


class AuthSettings(BaseModel):
    jwt_secret: str = Field(
        DEFAULT_JWT_SECRET,
        description="HS256 shared secret for dev/embedded mode. Change it anywhere that is not a laptop.",
    )
    jwt_algorithm: str = Field("HS256", description="HS256 (shared secret) or RS256 (OIDC issuer's JWKS).")
    issuer: str | None = Field(None, description="Expected `iss` claim. Required with RS256.")
    audience: str | None = Field(None, description="Expected `aud` claim, when set.")
    jwks_url: str | None = Field(None, description="The OIDC issuer's JWKS URL, for RS256.")
    token_ttl_s: int = Field(3600, gt=0, description="Default lifetime of tokens from `catalog token issue`.")
    person_claim: str = Field(
        "sub", description="The token claim that names the catalog person (their person id); `sub` by default."
    )
    person_cache_s: float = Field(
        2.0,
        ge=0,
        description="Seconds a person's roles, agency and active state, read from the store, are reused between "
        "requests; a change made on another replica takes effect within it (0: read on every request).",
    )

    @field_validator("jwt_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ("HS256", "RS256"):
            raise ValueError("expected HS256 or RS256")
        return value


class ApiSettings(BaseModel):
    max_depth: int = Field(12, gt=0, description="Maximum nesting depth of a GraphQL query.")
    max_aliases: int = Field(30, gt=0, description="Maximum number of aliased fields in one query.")
    max_cost: int = Field(5000, gt=0, description="Maximum estimated cost (fields x page sizes) of a query.")
    max_tokens: int = Field(
        2000,
        gt=0,
        description="Largest GraphQL document parsed, in lexical tokens (comments included); the parser stops there. "
        "About 10x the largest legitimate document we know, GraphiQL's introspection query (about 190 tokens).",
    )
    max_field_repeats: int = Field(
        5, gt=0, description="How often one field (one response name) may appear in a single selection set."
    )
    parse_cache_bytes: int = Field(
        32_000_000,
        ge=0,
        description="Memory the cache of parsed documents may hold, estimated from text and tokens; 0 turns it off.",
    )
    max_body_bytes: int = Field(1_000_000, gt=0, description="Largest request body accepted; 413 beyond it.")
    max_authorization_bytes: int = Field(
        8192, gt=0, description="Largest Authorization header accepted; 431 naming the header beyond it."
    )
    request_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Seconds a request may run: a query is cut off, a mutation answered when its outcome is known.",
    )
    idempotency_ttl_s: int = Field(
        86_400, gt=0, description="Seconds a mutation's Idempotency-Key and its result are kept for retries."
    )
    max_page_size: int = Field(100, gt=0, description="Largest `first` a list field accepts.")
    default_page_size: int = Field(20, gt=0, description="Page size when `first` is not given.")
    introspection: bool = Field(True, description="Allow GraphQL introspection queries.")
    graphiql: bool = Field(True, description="Serve a query console to browsers that GET /graphql.")
    graphiql_cdn: bool = Field(
        False,
        description="Serve the full GraphiQL, loaded from graphiql_assets_url with integrity hashes, instead of the "
        "built-in console (which needs no network beyond this server).",
    )
    graphiql_assets_url: str = Field(
        "https://unpkg.com",
        description="Where GraphiQL's JS/CSS load from when graphiql_cdn is on: the public CDN, or a mirror you host.",
    )


class AuditSettings(BaseModel):
    signing_key_file: Path = Field(
        default_factory=lambda: default_data_dir() / "audit-signing-key.pem",
        description="Ed25519 key that signs audit checkpoints; generated there (mode 0600) on first use.",
    )


class WebhookSettings(BaseModel):
    attempts: int = Field(
        4, ge=1, description="Tries per agency webhook for a correction notice before it is given up (FAILED)."
    )
    backoff_s: float = Field(
        0.5, gt=0, description="Seconds between the first and second try; each later wait doubles it."
    )
    timeout_s: float = Field(5.0, gt=0, description="Seconds to wait for a webhook to answer one try.")
    lease_s: float = Field(
        30.0,
        gt=0,
        description="Seconds a server holds a delivery it claimed; after that any replica may try it again. "
        "Must exceed the timeout, so a healthy receiver is never sent the same try twice.",
    )
    poll_interval_s: float = Field(
        1.0, gt=0, description="How often each server looks in the outbox for deliveries that are due."
    )

    @model_validator(mode="after")
    def _lease_outlasts_a_try(self) -> WebhookSettings:
        if self.lease_s <= self.timeout_s:
            raise ValueError(f"lease_s ({self.lease_s}) must exceed timeout_s ({self.timeout_s})")
        return self


class WebSettings(BaseModel):
    session_secret: str | None = Field(
        None, description="Key that signs the web session cookie; derived from CATALOG_AUTH__JWT_SECRET when unset."
    )
    session_max_age_s: int = Field(8 * 3600, gt=0, description="Seconds a web session lasts after sign-in.")
    https_only: bool = Field(
        False, description="Mark the session cookie Secure on every response, not only those served over https."
    )
    token_sign_in: bool = Field(True, description="Offer the paste-a-token sign-in form (dev mode).")
    oidc_client_id: str | None = Field(
        None, description="OIDC client id; with it the pages offer sign-in at CATALOG_AUTH__ISSUER."
    )
    oidc_client_secret: str | None = Field(None, description="OIDC client secret; unset for a public client.")
    oidc_redirect_url: str | None = Field(
        None, description="The callback URL registered with the issuer; default: this server's /signin/callback."
    )
    oidc_scopes: str = Field("openid profile email", description="Scopes asked for in the authorization request.")
    oidc_timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for the issuer's discovery and token calls.")


MAX_PORT = 65535  # CATALOG_PORT's bound and --port's


def server_url(host: str, port: int) -> str:
    """The http URL of a server listening on host:port, an IPv6 host in brackets (`http://[::1]:8000`)."""
    if ":" in host and not host.startswith("["):
        host = "[" + host.replace("%", "%25") + "]"  # a zone (fe80::1%eth0) is escaped in a URL (RFC 6874)
    return f"http://{host}:{port}"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", env_nested_delimiter="__", env_file=".env", extra="ignore")

    store: str = Field(
        default_factory=default_store_url,
        description="Where the catalog lives: sqlite:///relative/path.db, sqlite:////absolute/path.db, "
        "or neo4j://host:7687 (also bolt://, neo4j+s://, bolt+s://).",
    )
    neo4j: Neo4jSettings = Field(default_factory=Neo4jSettings)  # type: ignore[arg-type]
    auth: AuthSettings = Field(default_factory=AuthSettings)  # type: ignore[arg-type]
    api: ApiSettings = Field(default_factory=ApiSettings)  # type: ignore[arg-type]
    audit: AuditSettings = Field(default_factory=AuditSettings)
    web: WebSettings = Field(default_factory=WebSettings)  # type: ignore[arg-type]
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)  # type: ignore[arg-type]
    host: str = Field("127.0.0.1", description="Address `catalog serve` listens on.")
    port: int = Field(8000, ge=0, le=MAX_PORT, description="Port `catalog serve` listens on.")
    classifications: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CLASSIFICATIONS),
        description="The classification scheme, least to most restrictive (JSON list in the environment).",
    )
    purposes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PURPOSES), description="The vocabulary of purposes (JSON list)."
    )
    lineage_max_depth: int = Field(20, gt=0, description="Upper bound on any lineage traversal depth.")
    policy_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parent.parent / "policies",
        description="Folder holding model.conf, rules/*.yaml and vocabulary.yaml "
        "[default: the policies/ folder of this checkout].",
    )
    policy_reload_interval_s: float = Field(
        2.0, ge=0, description="How often the server checks the policy files for changes; 0 turns polling off."
    )
    fixtures_dir: Path = Field(
        Path("../shared/fixtures"), description="Test fixtures (CKAN, OpenLineage, DCAT-AP); tests only."
    )
    log_level: LogLevel = Field(
        "INFO", description="Python logging level for the server: DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
    dev_mode: bool = Field(
        False,
        description="A laptop or a test run: only then may `catalog serve` use the published default "
        "CATALOG_AUTH__JWT_SECRET.",
    )
    redaction_key: str | None = Field(
        None,
        description="Key of the stable stand-ins (`redacted-...`) shown for datasets a reader may not see; derived "
        "from CATALOG_AUTH__JWT_SECRET when unset. Replicas must share it.",
    )

    @field_validator("classifications", "purposes")
    @classmethod
    def _non_empty_unique(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must list at least one value")
        if len(set(value)) != len(value):
            raise ValueError("values must be unique")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value  # `debug` as Python's logging names it, DEBUG

    def own_url(self) -> str:
        """This catalog's address as `catalog serve` listens on it: the base of IRIs when no public one is given."""
        return server_url(self.host, self.port)

    def redaction_secret(self) -> str:
        """The key behind redacted ids: the configured one, or one derived from the JWT secret (never the secret)."""
        if self.redaction_key:
            return self.redaction_key
        return hmac.new(self.auth.jwt_secret.encode(), b"catalog redaction", hashlib.sha256).hexdigest()


def refuse_default_secret(settings: Settings) -> None:
    """Raise ConfigError when a server would rely on the published default secret outside dev mode.

    The secret signs API tokens (HS256) and, unless their own keys are set, the session cookies
    (CATALOG_WEB__SESSION_SECRET) and the stand-ins for hidden datasets (CATALOG_REDACTION_KEY).
    """
    auth = settings.auth
    in_use = auth.jwt_algorithm == "HS256" or not settings.web.session_secret or not settings.redaction_key
    if auth.jwt_secret == DEFAULT_JWT_SECRET and in_use and not settings.dev_mode:
        raise ConfigError(
            "CATALOG_AUTH__JWT_SECRET is the published default, so anyone could sign tokens for this server; "
            "set a secret of your own, or CATALOG_DEV_MODE=true on a laptop"
        )


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and overrides), naming the setting on any error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "__".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"CATALOG_{path}: {first['msg']}") from None
    except SettingsError as exc:
        raise unparsed_setting(exc) from None


def unparsed_setting(exc: SettingsError) -> ConfigError:
    """The error for a list or section given whole in the environment (or .env) whose value is not the JSON it needs.

    pydantic-settings names only the field, in its message, so the field is read from there.
    """
    named = re.search(r'field "(\w+)"', str(exc))
    if named is None or named.group(1) not in Settings.model_fields:
        return ConfigError(f"settings: {exc}")
    name = named.group(1)
    section = Settings.model_fields[name].annotation
    if isinstance(section, type) and issubclass(section, BaseModel):
        first = next(iter(section.model_fields)).upper()
        expected = f"a JSON object, or set its settings one by one, such as CATALOG_{name.upper()}__{first}"
    else:
        expected = 'a JSON list, such as ["A", "B"]'
    return ConfigError(f"CATALOG_{name.upper()}: must be {expected}")
