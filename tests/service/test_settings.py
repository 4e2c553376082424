"""Settings from the environment, and what a misconfiguration says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.settings import Settings
from service.triage.profiles import AHA_2020, RA_LEGACY


def test_per_agency_profile_and_nature_codes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "TCPR_AGENCIES",
        '{"RA": {"profile": "ra-legacy", "arrest_nature_patterns": ["^ARREST$"]}}',
    )
    settings = Settings()
    ra = settings.agency_config("RA")
    assert ra.profile == RA_LEGACY
    assert ra.is_arrest_nature("ARREST")
    assert not ra.is_arrest_nature("09-E-01")  # the agency replaced the MPDS default
    other = settings.agency_config("ELSEWHERE")
    assert other.profile == AHA_2020
    assert other.is_arrest_nature("09-E-01")


def test_unknown_profile_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCPR_AGENCIES", '{"X": {"profile": "aha-1999"}}')
    with pytest.raises(ValidationError, match="aha-1999"):
        Settings()


def test_database_defaults_to_sqlite_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv("TCPR_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    assert Settings().database_url == f"sqlite+aiosqlite:///{tmp_path}/tcpr.db"
    assert Settings().broker_url == "memory://"


def test_agency_zone_is_read_and_an_unknown_zone_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCPR_AGENCIES", '{"A": {"zone": "America/Chicago"}}')
    settings = Settings()
    assert settings.agency_config("A").zone == "America/Chicago"
    assert settings.agency_config("ELSEWHERE").zone == "UTC"
    monkeypatch.setenv("TCPR_AGENCIES", '{"A": {"zone": "America/Springfield"}}')
    with pytest.raises(ValidationError, match=r"agencies\.A\.zone: unknown time zone"):
        Settings()


def test_agency_reason_codes_extend_the_seeded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TCPR_AGENCIES", '{"A": {"reasons": {"delay": ["cad_down"], "nonrecognition": []}}}'
    )
    settings = Settings()
    assert settings.agency_config("A").extra_delay_reasons == ("cad_down",)
    assert settings.agency_config("A").extra_nonrecognition_reasons == ()
    assert settings.agency_config("ELSEWHERE").extra_delay_reasons == ()
    for bad in ('{"delays": ["x"]}', '{"delay": "cad_down"}', '{"delay": [" "]}', '["x"]'):
        monkeypatch.setenv("TCPR_AGENCIES", f'{{"A": {{"reasons": {bad}}}}}')
        with pytest.raises(ValidationError, match=r"agencies\.A\.reasons must be"):
            Settings()


def test_allowed_origins_as_a_list_or_json_and_a_bad_one_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TCPR_ALLOWED_ORIGINS", "https://Console.example, http://b.example:8080/")
    assert Settings().allowed_origins == ["https://console.example", "http://b.example:8080"]
    monkeypatch.setenv("TCPR_ALLOWED_ORIGINS", '["https://a.example"]')
    assert Settings().allowed_origins == ["https://a.example"]
    monkeypatch.setenv("TCPR_ALLOWED_ORIGINS", "https://a.example/path")
    with pytest.raises(ValidationError, match="allowed_origins"):
        Settings()


def test_identity_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SESSION_HOURS", "COOKIE_SECURE", "ALLOWED_ORIGINS", "OIDC_ISSUER"):
        monkeypatch.delenv(f"TCPR_{name}", raising=False)
    settings = Settings()
    assert settings.session_hours == 12 and settings.cookie_secure is True
    assert settings.allowed_origins == [] and settings.trust_proxy_headers is False
    assert settings.oidc_issuer is None and settings.ws_reauth_seconds == 5
    assert (settings.oidc_role_claim, settings.oidc_agencies_claim) == (
        "tcpr_role",
        "tcpr_agencies",
    )
    monkeypatch.setenv("TCPR_COOKIE_SECURE", "false")
    assert Settings().cookie_secure is False


@pytest.mark.parametrize(
    ("conf", "named"),
    [
        ('{"profile": []}', r"agencies\.A\.profile must be a profile name"),
        ('{"arrest_nature_patterns": ["("]}', r"arrest_nature_patterns\[0\]: not a regular"),
        ('{"arrest_nature_patterns": [5]}', r"arrest_nature_patterns\[0\]: not a regular"),
        ('{"alert_scope": "fire"}', r"agencies\.A\.alert_scope must be one of all, medical"),
        ('{"medical_nature_patterns": ["["]}', r"medical_nature_patterns\[0\]: not a regular"),
        ('{"dispatch_alerts": "yes"}', r"agencies\.A\.dispatch_alerts must be true or false"),
        ('{"feed_silence_seconds": -1}', r"agencies\.A\.feed_silence_seconds must be a whole"),
        ('{"feed_silence_seconds": 1.5}', r"agencies\.A\.feed_silence_seconds must be a whole"),
        ('{"training": "yes"}', r"agencies\.A\.training must be true or false"),
        ('{"training": 1}', r"agencies\.A\.training must be true or false"),
    ],
)
def test_a_malformed_agency_setting_is_refused_by_name(conf: str, named: str) -> None:
    # Found by fuzzing: a list as profile was a TypeError; a bad pattern failed at the first call.
    with pytest.raises(ValidationError, match=named):
        Settings(agencies=f'{{"A": {conf}}}')


def test_the_floor_settings_per_agency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TCPR_AGENCIES",
        '{"A": {"alert_scope": "medical", "medical_nature_patterns": ["^MED"],'
        ' "dispatch_alerts": true, "feed_silence_seconds": 120}}',
    )
    settings = Settings()
    a, other = settings.agency_config("A"), settings.agency_config("Z")
    assert (a.alert_scope, a.dispatch_alerts, a.feed_silence_s) == ("medical", True, 120)
    assert a.is_medical_nature("MED-12") and not a.is_medical_nature("10-D-1")
    assert (other.alert_scope, other.dispatch_alerts, other.feed_silence_s) == ("all", False, 300)
    assert other.is_medical_nature("10-D-1") and not other.is_medical_nature("131-D-1")


def test_a_training_agency_is_named_and_its_feed_is_not_watched_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A training agency's calls are played by the service between long quiet spells: no feed to
    # fall silent, so its silence alert is off unless its settings turn it on.
    monkeypatch.setenv(
        "TCPR_AGENCIES",
        '{"KCE": {"zone": "America/Chicago"}, "KCE-TRAIN": {"training": true},'
        ' "NB-TRAIN": {"training": true, "feed_silence_seconds": 600},'
        ' "NB": {"training": false}}',
    )
    settings = Settings()
    assert settings.training_agencies() == ["KCE-TRAIN", "NB-TRAIN"]
    assert [settings.is_training(a) for a in ("KCE", "KCE-TRAIN", "NB-TRAIN", "NB", "Z")] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert settings.agency_config("KCE-TRAIN").feed_silence_s == 0
    assert settings.agency_config("NB-TRAIN").feed_silence_s == 600
    assert settings.agency_config("KCE").feed_silence_s == 300
    assert settings.agency_config("Z").training is False
