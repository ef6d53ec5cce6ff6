"""docker-compose.yml and .env.example stay consistent (no Docker engine needed)."""

import re
import tomllib
from pathlib import Path

import yaml

from bot.settings import RuntimeSettings

ROOT = Path(__file__).resolve().parents[2]


def _env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value
    return out


def test_compose_has_postgres_and_paper_bot_with_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"postgres", "bot"}
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["bot"]
    assert services["bot"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "HEDGEBOT_MODE: ${HEDGEBOT_MODE:-paper}" in (ROOT / "docker-compose.yml").read_text()
    assert services["bot"]["environment"]["HEDGEBOT_DATABASE_URL"].startswith("postgresql+asyncpg")


def test_every_compose_variable_is_documented_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    used |= set(yaml.safe_load(text)["services"]["bot"]["environment"])
    documented = _env_example()
    missing = sorted(used - set(documented))
    assert not missing, f"not in .env.example: {missing}"


def test_env_example_lists_every_setting():
    documented = {k for k in _env_example() if k.startswith("HEDGEBOT_")}
    fields = {f"HEDGEBOT_{name.upper()}" for name in RuntimeSettings.model_fields}
    assert fields == documented


def test_pyproject_pins_ccxt_minor_and_exposes_the_console_script():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ccxt = next(d for d in meta["dependencies"] if d.startswith("ccxt"))
    assert re.fullmatch(r"ccxt>=4\.5\.\d+,<4\.6", ccxt)
    assert meta["scripts"]["hedgebot"] == "bot.cli:main"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in readme


def test_compose_serves_the_api_on_the_host_loopback_only():
    text = (ROOT / "docker-compose.yml").read_text()
    services = yaml.safe_load(text)["services"]
    bot = services["bot"]
    assert bot["command"][:3] == ["hedgebot", "run", "--serve"]
    assert bot["ports"] == ["127.0.0.1:8080:8080"]
    # no service publishes anything beyond the host's loopback
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    # inside the container the API listens beyond loopback, which needs a token: compose refuses
    # to start without one rather than the bot
    assert "HEDGEBOT_API_TOKEN: ${HEDGEBOT_API_TOKEN:?" in text


def test_the_dashboard_assets_ship_with_the_package():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "static/*" in data["package-data"]["bot.web"]
    static = ROOT / "bot" / "web" / "static"
    assert {p.name for p in static.iterdir()} >= {"index.html", "app.js", "style.css"}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in ("fastapi", "uvicorn", "prometheus-client"):
        assert any(re.fullmatch(rf"{name}>=[\d.]+,<[\d.]+", d) for d in deps), name
