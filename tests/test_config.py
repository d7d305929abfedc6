"""One configuration for every entry point: flags > environment > TOML file > defaults."""
import json

import pytest

from conftest import run_cli
from planalign.config import Settings
from planalign.errors import InputError


def test_precedence_flag_over_environment_over_file_over_default(tmp_path, monkeypatch):
    config = tmp_path / "planalign.toml"
    config.write_text('[planalign]\nencoder = "static"\ncatalog = "from-file"\nmax_body_bytes = 1234\n', encoding="utf-8")
    monkeypatch.setenv("PLANALIGN_ENCODER", "use")
    monkeypatch.setenv("PLANALIGN_API_KEYS", "k1, k2")
    settings = Settings.load(config)
    assert (settings.encoder, settings.catalog, settings.max_body_bytes) == ("use", "from-file", 1234)
    assert settings.api_keys == ("k1", "k2") and settings.index_encoder == "auto"  # default
    assert Settings.load(config, encoder="tfidf").encoder == "tfidf"
    monkeypatch.setenv("PLANALIGN_CONFIG", str(config))
    assert Settings.load().catalog == "from-file"


def test_bad_configuration_is_an_input_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[planalign]\nencodr = "e5"\n', encoding="utf-8")
    with pytest.raises(InputError, match="encodr"):
        Settings.load(config)
    with pytest.raises(InputError, match="not found"):
        Settings.load(tmp_path / "missing.toml")


def test_encoder_from_environment_reaches_align(tmp_path, shop_catalog):
    result = run_cli("align", "ทรายแมวและอาหารแมว", "--catalog", str(shop_catalog), "--json", data_dir=tmp_path,
                     env={"PLANALIGN_ENCODER": "tfidf"})
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["encoder"] == "tfidf" and payload["catalog"] == "shop"


def test_config_file_and_catalog_from_environment_reach_classify(tmp_path, shop_catalog):
    config = tmp_path / "c.toml"
    config.write_text('[planalign]\nencoder = "tfidf"\n', encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_text("text\nลูกหมาและปลอกคอ\n", encoding="utf-8")
    result = run_cli("classify", str(source), "--text-col", "text", "--out", str(tmp_path / "out.csv"), "--config", str(config),
                     data_dir=tmp_path / "data", env={"PLANALIGN_CATALOG": str(shop_catalog)})
    assert result.returncode == 0, result.stderr
    assert "PET.DOG" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")


def test_a_blank_key_in_a_toml_list_opens_nothing(tmp_path):
    """A TOML list kept a blank entry (an unset template variable): it matched a request sending no key
    at all, opening every read and write. Blank entries are dropped from lists as from the environment."""
    config = tmp_path / "planalign.toml"
    config.write_text('[planalign]\napi_keys = ["writer:W1", ""]\nread_keys = ["  ", "dash:R1"]\n', encoding="utf-8")
    settings = Settings.load(config)
    assert settings.api_keys == ("writer:W1",) and settings.read_keys == ("dash:R1",)
    assert "" not in settings.key_names() and "" not in settings.read_key_names()
    assert Settings(api_keys=["", " "]).keyed is False


def test_serve_says_what_read_only_keys_do_when_they_lock_writes_or_guard_nothing():
    from planalign.service.cli import key_notes

    assert key_notes(Settings(api_keys=["W1"], read_keys=["R1"], read_requires_key=True)) == []
    notes = key_notes(Settings(read_keys=["R1"]))
    assert len(notes) == 2 and "every write" in notes[0] and "anyone can read" in notes[1]


def test_a_misspelt_or_missing_table_and_reads_needing_a_key_nobody_has_are_refused(tmp_path, monkeypatch):
    """An operator's walkthrough: [planalgin] (its API keys with it) and settings outside any table were ignored
    without a word, and reads "requiring a key" with no key configured were open to anyone. Other tools' tables, a
    file of comments, and keys in the file with the switch in the environment stay fine (a blind review)."""
    config = tmp_path / "c.toml"
    for text, said in (('[planalgin]\napi_keys = ["office:S3CRET"]\n', "planalgin"), ('api_keys = ["office:S3CRET"]\n', "api_keys"),
                       ('api_key = ["x:y"]\n[planalign]\nencoder = "tfidf"\n', "api_key"), ('API_KEYS = ["x:y"]\n', "API_KEYS")):
        config.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as refused:
            Settings.load(config)
        assert "[planalign] table" in str(refused.value) and f"ระบบไม่อ่าน {said}" in refused.value.thai
    for fine in ("# all defaults for now\n", '[planalign]\nencoder = "tfidf"\n[tool.other]\nx = 1\n', '[planalign]\nencoder = "tfidf"\n[planalign_ops]\nx = 1\n'):
        config.write_text(fine, encoding="utf-8")
        assert Settings.load(config).catalog == "bma-9d"
    with pytest.raises(InputError) as open_reads:
        Settings.load(read_requires_key=True)
    assert "read_requires_key needs api_keys or read_keys" in str(open_reads.value) and "ต้องตั้ง api_keys หรือ read_keys" in open_reads.value.thai
    assert Settings.load(read_requires_key=True, read_keys=["dash:R1"]).read_requires_key
    config.write_text('[planalign]\napi_keys = ["ops:secret123"]\n', encoding="utf-8")
    monkeypatch.setenv("PLANALIGN_READ_REQUIRES_KEY", "1")
    assert Settings.load(config).read_requires_key  # the file's key counts
    monkeypatch.delenv("PLANALIGN_READ_REQUIRES_KEY")
    with pytest.raises(Exception, match="read_requires_key needs"):  # settings built directly are checked too (a blind review)
        Settings(read_requires_key=True)


def test_serve_refuses_an_encoder_or_catalog_no_request_could_use(tmp_path, monkeypatch):
    """A server started with PLANALIGN_ENCODER=e6 or PLANALIGN_CATALOG=nope looked healthy and answered every
    draft with a 422 (an operator's walkthrough)."""
    import uvicorn
    from typer.testing import CliRunner

    from planalign.service.cli import app

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("serve started"))  # a regression fails, not hangs (a blind review)
    for setting, said in ((("--encoder", "e6"), "ไม่มีตัวเข้ารหัส (encoder) ชื่อ e6"), (("--catalog", "nope"), "ไม่มีแผน (แคตตาล็อก) nope")):
        refused = CliRunner().invoke(app, ["serve", "--port", "8799", *setting, "--data-dir", str(tmp_path)])  # in process: what main() prints
        assert isinstance(refused.exception, InputError) and said in refused.exception.thai, refused.output


def test_a_configuration_files_relative_data_directory_is_the_files_wherever_it_is_read_from(tmp_path, monkeypatch):
    """Run from another directory, the CLI made a second store beside the service's (an operator's walkthrough)."""
    (tmp_path / "etc").mkdir()
    config = tmp_path / "etc" / "planalign.toml"
    config.write_text('[planalign]\ndata_dir = "../data"\ncatalog = "plan.csv"\nencoder = "st:models/local"\n', encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = Settings.load(config)
    assert settings.data_dir.resolve() == (tmp_path / "data").resolve()
    # the catalog stays as written: it is the id its decisions are kept under (anchoring it orphaned them: a blind review)
    assert settings.catalog == "plan.csv" and settings.encoder == "st:" + str(tmp_path / "etc" / "models" / "local")
    monkeypatch.setenv("HOME", str(tmp_path))
    config.write_text('[planalign]\ndata_dir = "~/home-data"\n', encoding="utf-8")
    assert Settings.load(config).data_dir == tmp_path / "home-data"
    config.write_text('[planalign]\ncatalog = "bma-9d"\n', encoding="utf-8")
    assert Settings.load(config).catalog == "bma-9d"  # an id stays an id
