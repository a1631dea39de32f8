"""The settings in production: Django's deployment checks pass, and missing secrets stop the
process instead of falling back to development values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from leaven.core.crypto import generate_key

ROOT = Path(__file__).resolve().parents[3]


def _production_env(tmp_path, **overrides):
    """An environment like a production machine's: no pytest, no DEBUG, real secrets."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LEAVEN_ENV_FILE": str(tmp_path / "no.env"),
        "DJANGO_SETTINGS_MODULE": "leaven.settings",
        "SECRET_KEY": "x" * 20 + generate_key(),
        "LEAVEN_ENCRYPTION_KEYS": f"k1:{generate_key()}",
        "LEAVEN_BLIND_INDEX_KEY": generate_key(),
        "ALLOWED_HOSTS": "leaven.example.org",
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "LEAVEN_STATIC_ROOT": str(tmp_path / "static"),
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def _run(args, env):
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_in_production(tmp_path):
    """`manage.py check --deploy --fail-level WARNING` finds nothing with production settings."""
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_not_test_settings(tmp_path):
    """Outside pytest the settings are strict: no test mode, HTTPS on, HSTS on, no dev keys."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.TESTING, s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS > 0, s.LEAVEN_DERIVE_DEV_KEYS, "
        "'pytest' in __import__('sys').modules)"
    )
    result = _run(["-c", code], _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "True", "True", "False", "False"]


def test_settings_refuse_to_load_without_secret_key(tmp_path):
    """With DEBUG off and no SECRET_KEY, the settings refuse to load."""
    env = _production_env(tmp_path, SECRET_KEY=None)
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_no_development_keys_in_production(tmp_path):
    """With DEBUG off and no encryption keys, nothing can be encrypted: no silent dev key."""
    env = _production_env(tmp_path, LEAVEN_ENCRYPTION_KEYS=None, LEAVEN_BLIND_INDEX_KEY=None)
    code = "import django; django.setup(); from leaven.core import crypto; crypto.encrypt('x')"
    result = _run(["-c", code], env)
    assert result.returncode != 0
    assert "LEAVEN_ENCRYPTION_KEYS" in result.stderr


def test_secret_from_file(tmp_path):
    """SECRET_KEY_FILE is read when SECRET_KEY is not given."""
    secret = tmp_path / "secret"
    secret.write_text("from-a-file-" + generate_key() + "\n", encoding="utf-8")
    env = _production_env(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(secret))
    code = (
        "import django; django.setup(); "
        "from django.conf import settings; print(settings.SECRET_KEY)"
    )
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == secret.read_text(encoding="utf-8").strip()
