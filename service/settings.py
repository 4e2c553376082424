"""Service settings from the environment (prefix `TCPR_`), per DESIGN.md §8."""

from __future__ import annotations

import json
import re
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.log_format import LogFormat
from service.triage.profiles import (
    ALERT_SCOPES,
    DEFAULT_ARREST_NATURE_PATTERNS,
    DEFAULT_FEED_SILENCE_S,
    DEFAULT_MEDICAL_NATURE_PATTERNS,
    AgencyConfig,
    profile_named,
)


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'tcpr.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TCPR_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    broker_url: str = "memory://"
    # One channel per installation: replicas sharing a database share it; another installation
    # on the same Redis or NATS must use its own.
    broker_channel: str = "tcpr.events"
    # Off where several replicas share a database and migrations run once, apart.
    migrate_on_start: bool = True
    # Per-agency configuration, JSON: {"AGENCY": {"profile": "ra-legacy",
    #   "arrest_nature_patterns": ["^09-[ED]"], "zone": "America/Chicago",
    #   "reasons": {"delay": ["cad_down"]}, "alert_scope": "medical",
    #   "medical_nature_patterns": ["^MED"], "dispatch_alerts": true,
    #   "feed_silence_seconds": 300}, "KCE-TRAIN": {"training": true}}. Agencies not named get
    # aha-2020, MPDS 9-E/9-D, UTC, the seeded reason codes only, alerts on every call, no
    # dispatch alerts, 300 s of feed silence, no training (docs/operations-floor.md).
    agencies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # A deadline that passed longer ago than this is a replayed or abandoned call: no alert.
    alert_grace_seconds: float = 300.0
    # Calls with no `call.ended` whose T0 is older than this are no longer shown as live.
    live_call_max_age_seconds: float = 4 * 3600.0
    # Each agency's own T-CPR protocol packs, signed by its medical director:
    # <prompts_dir>/<AGENCY>/<pack>/{manifest.json,texts.json} (service/protocols.py). Agencies
    # without one get the shipped sample packs.
    prompts_dir: Path | None = None
    max_body_bytes: int = 1_048_576
    max_batch_events: int = 5000
    ws_auth_timeout_seconds: float = 5.0
    # How often an open websocket's token or session is checked again (revoked, expired).
    ws_reauth_seconds: float = 5.0
    # Browser sessions (`POST /api/v1/session`): their lifetime and the cookie's Secure flag
    # (off only for plain-http development on a non-loopback host).
    session_hours: float = 12.0
    cookie_secure: bool = True
    # Origins besides the service's own (scheme://Host) that may send cookie-authenticated
    # writes and open websockets: a JSON list or comma-separated.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Addresses and networks that may read GET /metrics without a token (Prometheus): a JSON
    # list or comma-separated. Any other caller needs an admin token. Loopback by default.
    metrics_allow: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    )
    # Behind a TLS-terminating proxy: take the scheme from X-Forwarded-Proto.
    trust_proxy_headers: bool = False
    # OpenID Connect bearer tokens: off unless an issuer and its keys are configured.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_jwks_url: str | None = None
    oidc_role_claim: str = "tcpr_role"
    oidc_agencies_claim: str = "tcpr_agencies"
    ws_queue_limit: int = 1000
    # Requests per principal, per replica (service/api/ratelimit.py); 0 turns a limit off.
    # People: a page load is a dozen requests. Adapters: a CAD feed catching up posts bursts,
    # and the ingest benchmark's single-event posts reach ~1,500/s on one token.
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 100
    rate_limit_adapter_per_second: float = 2000.0
    rate_limit_adapter_burst: int = 20_000
    # Failed authentications (bad token, ended session) per client address before 429.
    auth_failure_limit: int = 30
    auth_failure_window_seconds: float = Field(default=60.0, gt=0)
    # Strict-Transport-Security max-age in seconds, sent only when this is above 0: set it where
    # browsers reach the service over https (directly or through a TLS-terminating proxy).
    hsts_seconds: int = Field(default=0, ge=0)
    # How often the live view re-reads the log for anything the broker did not deliver.
    catch_up_interval_seconds: float = 2.0
    # SQLite: run each group commit on a dedicated writer thread and connection (one hand-off
    # per commit instead of one per statement). Faster single-event ingest (2,146 against 1,806
    # ev/s, ack p99 7 against 17 ms), but the thread's Python work takes the interpreter lock
    # from the event loop between every websocket send: with 500 panels pushes slowed by half
    # and stalled panels were no longer cut off. Off by default: the panels come first.
    sqlite_writer_thread: bool = False
    # Secret key of the event hash chain (tamper evidence): with it each link is an HMAC, so
    # someone with only database access cannot forge the chain. Keep it out of the database;
    # every replica, and `tcpr verify-audit`, needs the same key.
    audit_key: SecretStr | None = None
    # `json`: one JSON object per log line, with the request id (service/log_format.py).
    log_format: LogFormat = "text"

    @property
    def chain_key(self) -> bytes | None:
        return self.audit_key.get_secret_value().encode() if self.audit_key else None

    @field_validator("agencies", mode="before")
    @classmethod
    def _parse_agencies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.split(",")
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _parse_metrics_allow(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if not isinstance(value, list):
            return value
        networks = []
        for item in value:
            if isinstance(item, str) and not item.strip():
                continue
            try:
                networks.append(ip_network(item.strip() if isinstance(item, str) else item, False))
            except (TypeError, ValueError):
                raise ValueError(
                    f"metrics_allow: {item!r} is not an address or network (10.0.0.5, 10.0.0.0/24)"
                ) from None
        return networks

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        origins = [o.strip().rstrip("/").lower() for o in value if o.strip()]
        for origin in origins:
            if not origin.startswith(("http://", "https://")) or "/" in origin.split("://")[1]:
                raise ValueError(f"allowed_origins: {origin!r} is not scheme://host[:port]")
        return origins

    @field_validator("agencies")
    @classmethod
    def _check_agencies(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for agency, conf in value.items():
            profile = conf.get("profile", "aha-2020")
            if not isinstance(profile, str):
                raise ValueError(f"agencies.{agency}.profile must be a profile name")
            profile_named(profile)
            _check_patterns(agency, conf, "arrest_nature_patterns")
            reasons = conf.get("reasons", {})
            if not isinstance(reasons, dict) or not all(
                key in ("nonrecognition", "delay")
                and isinstance(codes, list)
                and all(isinstance(c, str) and c.strip() for c in codes)
                for key, codes in reasons.items()
            ):
                raise ValueError(
                    f"agencies.{agency}.reasons must be "
                    '{"nonrecognition": [codes], "delay": [codes]}'
                )
            try:
                ZoneInfo(str(conf.get("zone", "UTC")))
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ValueError(f"agencies.{agency}.zone: unknown time zone") from None
            _check_floor(agency, conf)
        return value

    @cached_property
    def _configs(self) -> dict[str, AgencyConfig]:
        return {
            agency: AgencyConfig(
                profile=profile_named(conf.get("profile", "aha-2020")),
                arrest_nature_patterns=tuple(
                    conf.get("arrest_nature_patterns", DEFAULT_ARREST_NATURE_PATTERNS)
                ),
                zone=str(conf.get("zone", "UTC")),
                extra_nonrecognition_reasons=tuple(
                    conf.get("reasons", {}).get("nonrecognition", ())
                ),
                extra_delay_reasons=tuple(conf.get("reasons", {}).get("delay", ())),
                alert_scope=str(conf.get("alert_scope", "all")),
                medical_nature_patterns=tuple(
                    conf.get("medical_nature_patterns", DEFAULT_MEDICAL_NATURE_PATTERNS)
                ),
                dispatch_alerts=bool(conf.get("dispatch_alerts", False)),
                # A training agency has no CAD feed to fall silent: its scenarios are played by
                # the service itself, between long quiet spells.
                feed_silence_s=int(
                    conf.get(
                        "feed_silence_seconds",
                        0 if conf.get("training", False) else DEFAULT_FEED_SILENCE_S,
                    )
                ),
                training=bool(conf.get("training", False)),
            )
            for agency, conf in self.agencies.items()
        }

    def agency_config(self, agency: str) -> AgencyConfig:
        return self._configs.get(agency) or _DEFAULT

    def is_training(self, agency: str) -> bool:
        """Whether `agency` is a training agency (`"training": true`)."""
        return self.agency_config(agency).training

    def training_agencies(self) -> list[str]:
        return sorted(a for a, conf in self._configs.items() if conf.training)

    def configured_agencies(self) -> list[AgencyConfig]:
        """The configuration of every agency named in `TCPR_AGENCIES`, and the default."""
        return [*self._configs.values(), _DEFAULT]


_DEFAULT = AgencyConfig()


def _check_patterns(agency: str, conf: dict[str, Any], key: str) -> None:
    """A list of regular expressions, each compiled now so a bad one stops the start."""
    patterns = conf.get(key, [])
    if not isinstance(patterns, list):
        raise ValueError(f"agencies.{agency}.{key} must be a list")
    for i, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except (TypeError, re.error) as exc:
            raise ValueError(
                f"agencies.{agency}.{key}[{i}]: not a regular expression: {exc}"
            ) from None


def _check_floor(agency: str, conf: dict[str, Any]) -> None:
    """The live floor's per-agency settings (alert scope, dispatch alerts, feed silence)."""
    scope = conf.get("alert_scope", "all")
    if scope not in ALERT_SCOPES:
        raise ValueError(f"agencies.{agency}.alert_scope must be one of {', '.join(ALERT_SCOPES)}")
    _check_patterns(agency, conf, "medical_nature_patterns")
    if not isinstance(conf.get("training", False), bool):
        raise ValueError(f"agencies.{agency}.training must be true or false")
    if not isinstance(conf.get("dispatch_alerts", False), bool):
        raise ValueError(f"agencies.{agency}.dispatch_alerts must be true or false")
    silence = conf.get("feed_silence_seconds", DEFAULT_FEED_SILENCE_S)
    if isinstance(silence, bool) or not isinstance(silence, int) or not 0 <= silence <= 86_400:
        raise ValueError(
            f"agencies.{agency}.feed_silence_seconds must be a whole number of seconds from 0 "
            "(never) to 86400"
        )
