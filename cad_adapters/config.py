"""An adapter's configuration file (TOML), as `tcpr adapter run CONFIG` reads it.

```toml
agency = "RVFD"                      # the agency (tenant) the events belong to

[service]
url = "http://127.0.0.1:8000"        # the tcpr-assist service
token_env = "TCPR_ADAPTER_TOKEN"     # where the adapter token is (or token_file = "...")

[source]
type = "directory"                   # file | directory | tcp | eido-websocket
path = "/srv/cad/exports"            # file, directory: what to read
pattern = "*.csv"                    # directory: which files
after = "move"                       # directory: move (to done/) | delete | keep a finished file
# follow = true                      # file: keep reading as the CAD appends (a log file)
# listen = "0.0.0.0:5100"            # tcp: accept the CAD's line feed here ...
# connect = "cad.example:5100"       # tcp: ... or connect to the CAD's feed
# url = "wss://cad.example/eido"     # eido-websocket: the CAD's NENA-STA-024 notifier
# token_env = "CAD_NOTIFIER_TOKEN"   # eido-websocket: the CAD's own token, if it wants one

[format]
type = "delimited"                   # delimited | eido | jsonl
preset = "rvfd"                      # delimited: a shipped mapping (rvfd, neris) ...
# mapping = "mycad.toml"             # ... or your own mapping file

[spool]                              # optional: defaults beside the config file
path = "rvfd.spool.sqlite"
dead_letter = "rvfd.dead.jsonl"
```

Relative paths are relative to the configuration file's folder.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceConfig(_Strict):
    url: str = "http://127.0.0.1:8000"
    token_env: str | None = "TCPR_ADAPTER_TOKEN"
    token_file: Path | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    # A live feed's heartbeat to the service between events (0: none), so a dead feed is told
    # from a quiet night (the service's `feed_silence_seconds`).
    heartbeat_seconds: Annotated[float, Field(ge=0)] = 30.0

    def token(self) -> str:
        if self.token_file is not None:
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"service.token_file: {exc}") from None
            if token:
                return token
            raise ConfigError(f"service.token_file: {self.token_file} is empty")
        token = os.environ.get(self.token_env or "", "").strip()
        if not token:
            raise ConfigError(
                f"service.token_env: set ${self.token_env} to an adapter token "
                "(tcpr token create --role adapter --agency ...) or give service.token_file"
            )
        return token


class SourceConfig(_Strict):
    type: Literal["file", "directory", "tcp", "eido-websocket"]
    path: Path | None = None
    pattern: str = "*"
    after: Literal["move", "delete", "keep"] = "move"
    done_dir: Path | None = None
    follow: bool = False
    poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    settle_seconds: Annotated[float, Field(ge=0)] = 2.0
    listen: str | None = None
    connect: str | None = None
    url: str | None = None
    # eido-websocket: the CAD notifier's own bearer token, if it asks for one (never the
    # service's token): the name of an environment variable holding it.
    token_env: str | None = None
    max_line_bytes: Annotated[int, Field(gt=0)] = 1_048_576
    # eido-websocket: the largest notification taken; keep it equal to the service's
    # TCPR_MAX_BODY_BYTES, or a larger EIDO is spooled only to be refused (413).
    max_message_bytes: Annotated[int, Field(gt=0)] = 1_048_576

    @model_validator(mode="after")
    def _needs(self) -> SourceConfig:
        if self.type in ("file", "directory") and self.path is None:
            raise ValueError(f"source.path: a {self.type} source needs a path")
        if self.type == "tcp" and (self.listen is None) == (self.connect is None):
            raise ValueError("source.listen: a tcp source needs exactly one of listen, connect")
        if self.type == "eido-websocket" and not self.url:
            raise ValueError("source.url: an eido-websocket source needs the notifier's url")
        return self

    def headers(self) -> dict[str, str]:
        """Headers for connecting to the CAD (its token, when `token_env` names one)."""
        if self.token_env is None:
            return {}
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise ConfigError(f"source.token_env: ${self.token_env} is empty or not set")
        return {"Authorization": f"Bearer {token}"}


class FormatConfig(_Strict):
    type: Literal["delimited", "eido", "jsonl"]
    preset: str | None = None
    mapping: Path | None = None

    @model_validator(mode="after")
    def _mapping(self) -> FormatConfig:
        if self.type == "delimited" and (self.preset is None) == (self.mapping is None):
            raise ValueError("format.preset: a delimited format needs a preset or a mapping file")
        return self


class SpoolConfig(_Strict):
    path: Path | None = None
    dead_letter: Path | None = None


class AdapterConfig(_Strict):
    agency: Annotated[str, Field(min_length=1, max_length=32)]
    name: str | None = None
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    source: SourceConfig
    format: FormatConfig
    spool: SpoolConfig = Field(default_factory=SpoolConfig)

    @model_validator(mode="after")
    def _pairs(self) -> AdapterConfig:
        if (self.source.type == "eido-websocket") != (self.format.type == "eido") and not (
            self.format.type == "eido" and self.source.type == "directory"
        ):
            raise ValueError(
                "format.type: an eido-websocket source carries EIDO documents (format eido); "
                "EIDO files can also come from a directory"
            )
        return self


def load(path: Path) -> AdapterConfig:
    """Read and check a configuration file; ConfigError names the offending key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = AdapterConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        where = f"{where}: " if where else ""
        raise ConfigError(f"{path}: {where}{message}") from None
    base = path.resolve().parent
    name = config.name or path.stem
    config.name = name
    source = config.source
    for holder, attr in (
        (source, "path"),
        (source, "done_dir"),
        (config.format, "mapping"),
        (config.service, "token_file"),
        (config.spool, "path"),
        (config.spool, "dead_letter"),
    ):
        value = getattr(holder, attr)
        if value is not None and not value.is_absolute():
            setattr(holder, attr, base / value)
    config.spool.path = config.spool.path or base / f"{name}.spool.sqlite"
    config.spool.dead_letter = config.spool.dead_letter or base / f"{name}.dead.jsonl"
    return config
