"""Settings: defaults < regua.toml < environment, and one line naming what is wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.settings import Settings, SettingsError, load_settings, unknown_variables


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """No REGUA_* or MLflow variable of the session, and a working folder without regua.toml."""
    for name in list(os.environ):
        if name.upper().startswith("REGUA_") or name.upper() == "MLFLOW_TRACKING_URI":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_toml(text: str) -> Path:
    """regua.toml in the working folder."""
    path = Path("regua.toml")
    path.write_text(text, encoding="utf-8")
    return path


def failure(monkeypatch, **environ: str) -> str:
    """The message of the SettingsError that loading raises under `environ`."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_every_local_folder_defaults_under_data_dir():
    assert load_settings().store_dir == Path("data/store")
    moved = Settings(data_dir=Path("/srv/regua"))
    assert moved.raw_dir == Path("/srv/regua/raw")
    assert moved.store_dir == Path("/srv/regua/store")
    assert moved.out_dir == Path("/srv/regua/out")
    assert moved.reports_dir == Path("/srv/regua/reports")
    assert moved.mlflow_artifact_dir == Path("/srv/regua/mlartifacts")
    assert moved.mlflow_tracking_uri == "sqlite:////srv/regua/mlflow.db"


def test_the_environment_wins_over_the_file_and_the_file_over_the_defaults(monkeypatch):
    write_toml('data_dir = "/from/toml"\nstore_dir = "/toml/store"\nmax_reject_share = 0.2\n')
    monkeypatch.setenv("REGUA_STORE_DIR", "/env/store")
    loaded = load_settings()
    assert loaded.store_dir == Path("/env/store")
    assert loaded.out_dir == Path("/from/toml/out")
    assert loaded.max_reject_share == 0.2


def test_mlflow_s_own_variable_is_read_and_regua_s_wins(monkeypatch):
    write_toml('mlflow_tracking_uri = "sqlite:///toml.db"\n')
    assert load_settings().mlflow_tracking_uri == "sqlite:///toml.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert load_settings().mlflow_tracking_uri == "http://mlflow:5000"
    monkeypatch.setenv("REGUA_MLFLOW_TRACKING_URI", "http://regua-mlflow:5000")
    assert load_settings().mlflow_tracking_uri == "http://regua-mlflow:5000"


def test_the_dask_address_is_a_setting(monkeypatch):
    monkeypatch.setenv("REGUA_DASK_ADDRESS", "tcp://scheduler:8786")
    assert load_settings().dask_address == "tcp://scheduler:8786"


def test_regua_config_names_another_file(monkeypatch, tmp_path):
    (tmp_path / "elsewhere.toml").write_text("validation_batch_rows = 1000\n")
    monkeypatch.setenv("REGUA_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert load_settings().validation_batch_rows == 1000


def test_an_unknown_key_in_the_file_is_named_with_the_known_ones(monkeypatch):
    write_toml("max_reject_shar = 0.1\n")
    message = failure(monkeypatch)
    assert message.startswith("regua.toml: unknown key 'max_reject_shar' (known keys: data_dir,")
    assert "max_reject_share" in message


def test_a_bad_value_in_the_environment_names_the_variable_and_the_rule(monkeypatch):
    message = failure(monkeypatch, REGUA_MAX_REJECT_SHARE="abc")
    assert message == (
        "environment variable REGUA_MAX_REJECT_SHARE='abc': Input should be a valid number, "
        "unable to parse string as a number"
    )


def test_a_bad_value_in_the_file_names_the_file_the_key_and_the_rule(monkeypatch):
    write_toml("max_reject_share = 1.5\nvalidation_batch_rows = 0\n")
    assert failure(monkeypatch) == (
        "regua.toml: key 'max_reject_share'=1.5: Input should be less than or equal to 1; "
        "regua.toml: key 'validation_batch_rows'=0: Input should be greater than 0"
    )


def test_a_bad_path_reports_only_its_own_error(monkeypatch):
    write_toml("store_dir = 3\n")
    message = failure(monkeypatch)
    assert message.startswith("regua.toml: key 'store_dir'=3: ")
    assert ";" not in message  # the folders derived from data_dir add nothing


def test_a_missing_config_folder_is_refused(monkeypatch, tmp_path):
    message = failure(monkeypatch, REGUA_CONFIG_DIR=str(tmp_path / "nowhere"))
    assert message == (
        f"environment variable REGUA_CONFIG_DIR='{tmp_path / 'nowhere'}': must be an existing "
        f"folder; {tmp_path / 'nowhere'} is not one"
    )


def test_a_file_that_is_not_toml_is_named(monkeypatch):
    write_toml("max_reject_share = \n")
    assert failure(monkeypatch).startswith("regua.toml: not valid TOML: ")


def test_a_missing_file_named_by_regua_config_is_an_error(monkeypatch, tmp_path):
    message = failure(monkeypatch, REGUA_CONFIG=str(tmp_path / "absent.toml"))
    assert message == f"REGUA_CONFIG: settings file {tmp_path / 'absent.toml'} does not exist"


def test_the_document_key_never_appears_in_a_message(monkeypatch):
    write_toml('document_key = ["s3cr3t-key"]\n')
    message = failure(monkeypatch)
    assert message.startswith("regua.toml: key 'document_key': ")
    assert "s3cr3t" not in message


def test_unknown_regua_variables_do_not_stop_anything_and_are_listed(monkeypatch):
    monkeypatch.setenv("REGUA_MAX_REJECT_SHAR", "0.5")
    assert load_settings().max_reject_share == 0.05
    environ = {
        "REGUA_MAX_REJECT_SHAR": "0.5",
        "REGUA_AS_OF": "2026-10-30",
        "REGUA_CONFIG": "regua.toml",
        "REGUA_BENCH_DIR": "/tmp/bench",
        "REGUA_DASK_ADDRESS": "tcp://x:8786",
        "regua_store_dir": "lower case is the same variable",
        "MLFLOW_TRACKING_URI": "http://m",
    }
    assert unknown_variables(environ) == ["REGUA_MAX_REJECT_SHAR"]


@settings(max_examples=25, deadline=None)
@given(share=st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=10))
def test_a_share_is_accepted_exactly_when_it_lies_in_0_1(share):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGUA_MAX_REJECT_SHARE", repr(share))
        if 0.0 <= share <= 1.0:
            assert load_settings().max_reject_share == share
        else:
            named = r"^environment variable REGUA_MAX_REJECT_SHARE="
            with pytest.raises(SettingsError, match=named):
                load_settings()


LONG_KEY = "a-document-key-of-at-least-32-bytes-0123"


@pytest.mark.parametrize("key", ["", "s3cr3t", "x" * 31, "é" * 15])
def test_a_document_key_shorter_than_32_bytes_is_refused_without_showing_it(monkeypatch, key):
    message = failure(monkeypatch, REGUA_DOCUMENT_KEY=key)
    assert message.startswith(
        "environment variable REGUA_DOCUMENT_KEY: a document key needs at least 32 bytes; "
    )
    assert key == "" or key not in message


def test_a_document_key_of_32_bytes_is_accepted(monkeypatch):
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", "é" * 16)  # 16 characters, 32 bytes
    assert load_settings().document_key_bytes() == ("é" * 16).encode()


def test_a_missing_key_file_is_made_private_with_a_long_random_key(tmp_path):
    path = tmp_path / "keys" / "document_key"
    settings = Settings(secret_file=path)
    key = settings.document_key_bytes()
    assert len(key) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings.document_key_bytes() == key  # made once, then read
    assert [p.name for p in path.parent.iterdir()] == ["document_key"]


@pytest.mark.parametrize("content", ["", "\n", "short-key\n", "x" * 31])
def test_a_key_file_shorter_than_32_bytes_is_refused(tmp_path, content):
    path = tmp_path / "document_key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SettingsError) as caught:
        Settings(secret_file=path).document_key_bytes()
    size = len(content.strip())
    assert str(caught.value).startswith(
        f"key file {path} holds {size} bytes; a document key needs at least 32: "
    )


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_key_file_open_to_group_or_others_is_refused(tmp_path, mode):
    path = tmp_path / "document_key"
    path.write_text(LONG_KEY)
    path.chmod(mode)
    with pytest.raises(SettingsError) as caught:
        Settings(secret_file=path).document_key_bytes()
    assert str(caught.value) == (
        f"key file {path} is open to group or others (mode {mode:o}); a document key file "
        f"must be private: run `chmod 600 {path}`"
    )
    assert LONG_KEY not in str(caught.value)


def test_a_private_key_file_of_32_bytes_or_more_is_read_without_its_newline(tmp_path):
    path = tmp_path / "document_key"
    path.write_text(LONG_KEY + "\n")
    path.chmod(0o400)
    assert Settings(secret_file=path).document_key_bytes() == LONG_KEY.encode()


def test_ignore_files_come_from_the_file_or_the_environment(monkeypatch):
    assert load_settings().ignore_files == []
    write_toml('ignore_files = ["*.txt", "backup"]\n')
    assert load_settings().ignore_files == ["*.txt", "backup"]
    monkeypatch.setenv("REGUA_IGNORE_FILES", '["*.log"]')
    assert load_settings().ignore_files == ["*.log"]
