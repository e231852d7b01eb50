"""``crm import KIND FILE [--dry-run]``, as interfaces.md promises it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from crm.partners.models import Partner

HEADER = ["ref", "name_en", "name_ar", "type"]
GOOD = [["P-CLI-1", "Women Now", "", "syrian_cso"], ["P-CLI-2", "", "رابطة", "media"]]
BAD = [*GOOD, ["P-CLI-3", "Bad", "", "ngo"], ["P-CLI-4", "", "", "media"]]


def count(db):
    return db.session.execute(select(func.count()).select_from(Partner)).scalar_one()


def run(runner, *args, env=None):
    return runner.invoke(args=["import", *map(str, args)], env={"CRM_LANG": "en", **(env or {})})


def test_a_good_file_is_imported_and_summarised(db, runner, import_file):
    result = run(runner, "partners", import_file(HEADER, GOOD))
    assert result.exit_code == 0, result.output
    assert "Created: 2" in result.stdout
    assert count(db) == 2


def test_a_bad_file_writes_nothing_lists_every_problem_and_exits_1(db, runner, import_file):
    result = run(runner, "partners", import_file(HEADER, BAD))
    assert result.exit_code == 1
    assert "row 4, column type: “ngo” is not one of" in result.stderr
    assert "row 5, column name_en: Enter the name in Arabic or in English" in result.stderr
    assert "2 rows have problems; nothing was imported." in result.stderr
    assert result.stdout == ""
    assert count(db) == 0


def test_importing_the_same_file_twice_changes_nothing(db, runner, import_file):
    path = import_file(HEADER, GOOD)
    assert run(runner, "partners", path).exit_code == 0
    again = run(runner, "partners", path)
    assert again.exit_code == 0
    assert "Unchanged: 2" in again.stdout
    assert count(db) == 2


def test_a_dry_run_checks_and_writes_nothing(db, runner, import_file):
    result = run(runner, "partners", import_file(HEADER, GOOD), "--dry-run")
    assert result.exit_code == 0
    assert "Would be created: 2" in result.stdout
    assert "nothing was written" in result.stdout
    assert count(db) == 0


def test_messages_follow_lang_or_the_environment(db, runner, import_file):
    path = import_file(HEADER, BAD)
    by_option = run(runner, "partners", path, "--lang", "ar")
    by_environment = run(runner, "partners", path, env={"CRM_LANG": "ar"})
    for result in (by_option, by_environment):
        assert result.exit_code == 1
        assert "السطر 4، العمود type" in result.stderr


def test_a_file_that_is_not_a_table_is_refused_clearly(db, runner, tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4 ...")
    result = run(runner, "partners", path)
    assert result.exit_code == 1
    assert "neither a CSV nor an XLSX" in result.stderr
    assert "Nothing was imported." in result.stderr


def test_a_missing_file_is_bad_input_and_a_wrong_kind_is_wrong_usage(db, runner, tmp_path):
    missing = run(runner, "partners", tmp_path / "nope.csv")
    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr
    assert run(runner, "people", tmp_path / "nope.csv").exit_code == 2


def test_user_attributes_the_import_to_an_account(db, runner, import_file, importer):
    result = run(runner, "partners", import_file(HEADER, GOOD), "--user", importer.email.upper())
    assert result.exit_code == 0, result.output
    creators = db.session.execute(select(Partner.created_by_id)).scalars().all()
    assert creators == [importer.id, importer.id]
    unknown = run(runner, "partners", import_file(HEADER, GOOD), "--user", "nobody@example.org")
    assert unknown.exit_code == 1


def test_long_files_show_a_progress_line_on_standard_error(db, runner, import_file, monkeypatch):
    monkeypatch.setattr("crm.imports.cli.PROGRESS_EVERY", 1)  # every 5 rows
    rows = [[f"P-{i}", f"Partner {i}", "", "media"] for i in range(12)]
    result = run(runner, "partners", import_file(HEADER, rows))
    assert result.exit_code == 0
    assert "5 rows read…" in result.stderr
    assert "10 rows read…" in result.stderr
    assert "rows read" not in result.stdout


@pytest.mark.slow
def test_the_command_answers_under_flask_too(tmp_path):
    env = {
        **os.environ,
        "CRM_INSTANCE_PATH": str(tmp_path),
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
        "CRM_LANG": "en",
    }
    flask = [sys.executable, "-m", "flask", "--app", "crm", "import", "--help"]
    crm = [sys.executable, "-c", "from crm.cli import main; main()", "import", "--help"]
    for command in (flask, crm):
        done = subprocess.run(  # noqa: S603 (our own interpreter and fixed arguments)
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "Import partners, frameworks or engagements" in done.stdout
        assert "--dry-run" in done.stdout
