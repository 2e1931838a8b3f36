"""Configuration: the shipped file is valid; bad files and values name the key."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent


def test_shipped_config_loads():
    cfg = load_config(REPO / "config.toml")
    assert 0 < cfg.retrieval.suggest_probability <= cfg.retrieval.answer_probability < 1
    assert cfg.knowledge_dir == REPO / "knowledge"


@pytest.mark.parametrize(
    "text, key",
    [
        ("[retrieval]\nanswer_probability = 1.5\n", "retrieval.answer_probability"),
        ("[retrieval]\nanswer_probability = 0.2\n", "retrieval.suggest_probability"),
        ("[retrieval]\nanswer_score = 55\n", "retrieval.answer_score"),
        ("[retrieval]\nsuggestions = 7\n", "retrieval.suggestions"),
        ("[storage]\npaht = 'x'\n", "storage.paht"),
        ("[rahasia]\ntoken = 'x'\n", "[rahasia]"),
        ("[question_log]\nenabled = 'ya'\n", "question_log.enabled"),
        ("[retrieval\n", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, key):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert key in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_code_defaults_match_the_shipped_file():
    """A section left out of config.toml behaves as the shipped file says (every section but [retrieval])."""
    import tomllib
    from dataclasses import fields

    from bot.config import SECTIONS

    shipped = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    for name, cls in SECTIONS.items():
        if name == "retrieval":
            continue
        defaults = cls()
        for f in fields(cls):
            if f.name in shipped.get(name, {}):
                value = shipped[name][f.name]
                assert getattr(defaults, f.name) == (tuple(value) if isinstance(value, list) else value), f"{name}.{f.name}"


def test_code_defaults_equal_the_shipped_config():
    """The [retrieval] defaults in code are the values config.toml ships (no silent drift between the two)."""
    import tomllib
    from dataclasses import asdict

    from knowledge.settings import RetrievalConfig

    shipped = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))["retrieval"]
    assert shipped == asdict(RetrievalConfig())
