"""`crm serve` on a fresh instance: the schema is made, the setup address printed
once, and the app answers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_creates_the_schema_and_prints_a_setup_address(tmp_path):
    if os.environ.get("CRM_TEST_DATABASE_URL"):
        pytest.skip("crm serve's default database is SQLite")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_INSTANCE_PATH=str(tmp_path), CRM_LANG="en", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "from crm.cli import main; main()", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        output = ""
        deadline = time.monotonic() + 60
        while "Serving on" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        match = re.search(r"http://127\.0\.0\.1:\d+/setup/(\S+)", output)
        assert match, output
        assert (tmp_path / "crm.sqlite").exists()
        for _ in range(50):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/setup/{match.group(1)}"
                ) as page:
                    body = page.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "Create the first administrator" in body or "المسؤول" in body
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()
