"""Secrets and exposure: connection settings only from the environment, no secret in the
repository, every server bound to 127.0.0.1."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from orchestration.settings import Settings

REPO = Path(__file__).resolve().parent.parent

# what a leaked credential looks like (pattern per kind)
SECRET_PATTERNS = {
    "private key": r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY",
    "AWS access key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
    "Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "URL with a password": r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s:@'\"{}$]+@[^\s'\"]+",
    "password / secret / token assigned a literal": (
        r"(?i)\b(?:password|passwd|pwd|secret|api_?key|token|access_?key)\b[\"']?\s*[:=]\s*[\"'][^\"'\s{}$]{6,}[\"']"
    ),
}


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [REPO / n for n in names.split("\0") if n and (REPO / n).is_file()]


def test_no_secret_looking_string_in_any_tracked_file():
    findings = []
    for path in tracked_files():
        if path.name == Path(__file__).name:
            continue  # the patterns themselves
        text = path.read_text(errors="ignore")
        for kind, pattern in SECRET_PATTERNS.items():
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                findings.append(f"{path.relative_to(REPO)}:{line}: {kind}: {match.group(0)[:40]}")
    assert findings == []


def test_the_secret_scan_can_fail():
    planted = 'DATABASE_URL = "postgres://loader:hunter2hunter2@db.internal:5432/wh"\npassword: "s3cretpass"\n'
    kinds = [kind for kind, pattern in SECRET_PATTERNS.items() if re.search(pattern, planted)]
    assert kinds == ["URL with a password", "password / secret / token assigned a literal"]


def test_profiles_read_every_connection_setting_from_the_environment():
    profiles = yaml.safe_load((REPO / "profiles.yml").read_text())
    project = next(iter(profiles.values()))
    assert "env_var(" in project["target"]
    # the adapter, parallelism, session options, how (not where) dbt-spark connects, retries
    literal_ok = {"type", "threads", "settings", "method", "connect_retries", "connect_timeout"}
    for name, output in project["outputs"].items():
        # dbt-spark requires a host even for a Spark session inside the dbt process, which
        # connects nowhere: the placeholder NA, and nothing else, is allowed there
        placeholder = {"host"} if output.get("method") == "session" and output.get("host") == "NA" else set()
        for key, value in output.items():
            if key in literal_ok | placeholder:
                continue
            assert isinstance(value, str) and "env_var(" in value, f"profiles.yml {name}.{key} = {value!r}"
        assert not ({"password", "pass", "user", "host", "token"} - placeholder) & {
            k for k in output if "env_var(" not in str(output[k])}


def test_settings_come_from_the_environment_and_are_documented(monkeypatch, tmp_path):
    """Every variable settings.py reads is in the README, and changes what Settings resolves."""
    source = (REPO / "orchestration" / "settings.py").read_text()
    variables = set(re.findall(r"""(?:os\.environ\.get|_path_from_env)\(\s*["']([A-Z_]+)["']""", source))
    assert {"WAREHOUSE_PATH", "WAREHOUSE_DIR", "LANDING_DIR", "PUBLISHED_PATH", "WAREHOUSE_TARGET"} <= variables
    readme = (REPO / "README.md").read_text()
    assert sorted(v for v in variables if v not in readme) == []
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "elsewhere.duckdb"))
    monkeypatch.setenv("PUBLISHED_PATH", str(tmp_path / "copy.duckdb"))
    settings = Settings.from_env()
    assert settings.warehouse_path == tmp_path / "elsewhere.duckdb"
    assert settings.published_path == tmp_path / "copy.duckdb"


def test_no_code_reads_credentials_or_the_home_directory():
    """Connection details reach the code only through Settings (and dlt's own environment
    variables for Postgres): no literal connection string, no ~/.dbt, no home directory."""
    problems = []
    for path in tracked_files():
        if path.suffix != ".py" or not path.is_relative_to(REPO / "orchestration"):
            continue
        text = path.read_text()
        for pattern in (r"expanduser\(", r"Path\.home\(", r"~/\.dbt", r"postgres(?:ql)?://", r"\bpassword\s*="):
            if re.search(pattern, text):
                problems.append(f"{path.relative_to(REPO)}: {pattern}")
    assert problems == []


# written in two parts, so this file does not match its own search once it is tracked
ANY_ADDRESS = "0.0.0" + ".0"


def test_every_server_binds_to_localhost():
    """`make ui` binds to 127.0.0.1; no host setting anywhere in the repository names
    another address (dagster-webserver and dbt docs serve default to 127.0.0.1 themselves)."""
    problems = []
    for path in tracked_files():
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), start=1):
            where = f"{path.relative_to(REPO)}:{number}"
            if ANY_ADDRESS in line:
                problems.append(f"{where}: {line.strip()}")
            for value in re.findall(r"""(?:--host[ =]|host\s*=\s*)["',\s]*([^\s"',)]+)""", line):
                # an address or host name, not a variable holding one (settings.postgres_host)
                address = re.fullmatch(r"[A-Za-z0-9.-]+(?::\d+)?", value)
                if address and value not in ("127.0.0.1", "localhost"):
                    problems.append(f"{where}: host {value}")
    assert problems == []
    ui = re.search(r"^ui:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert ui and "dagster dev --host 127.0.0.1" in ui.group(1)
