"""Every ``planalign`` command in README.md's bash blocks runs as written (issue 14).

The commands run in order, in-process (one import of the models' code, not one per command), in a
temporary working directory holding the files they name, written from the embedded sample
projects and catalog (``draft.txt``, ``submissions.xlsx`` with Thai headers, ``gold.csv``...), on a
temporary data directory. Two changes keep it fast and offline, and nothing else is changed:

* the encoder is ``tfidf``: ``PLANALIGN_ENCODER``/``PLANALIGN_INDEX_ENCODER`` for the default, and
  an explicit ``--encoder X`` (static, cascade, use) is run as ``--encoder tfidf``; what these
  commands test is their options and files, and the encoders have their own tests;
* skipped: commands on ``../shared/data`` (the real data may be absent) and ``serve`` (it would not
  return); :data:`SKIPPED` lists them and the test checks that nothing else is skipped.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planalign.corpora.catalog import catalog_to_table, load_catalog
from planalign.corpora.projects import sample_records
from planalign.corpora.tables import write_table
from planalign.service.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
SKIPPED = ("serve",)  # and every command naming ../shared/data
_BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)


def readme_commands() -> list[list[str]]:
    """The ``planalign`` commands of the README's bash blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in _BASH_BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "planalign":
                commands.append(words[1:])
    return commands


def is_skipped(args: list[str]) -> bool:
    return args[0] in SKIPPED or any("../shared/data" in a for a in args)


def fast(args: list[str]) -> list[str]:
    """The command with any explicit encoder replaced by tfidf (see the module docstring)."""
    return [("tfidf" if i and args[i - 1] in ("--encoder", "-e") else a) for i, a in enumerate(args)]


def write_inputs(folder: Path) -> None:
    """The files the README's commands name, from the embedded sample projects (Thai text, real ids)."""
    records = sample_records()
    by_year = {year: [r for r in records if r["fiscal_year"] == year] for year in (2566, 2567, 2568)}
    fresh = by_year[2568][:12]
    (folder / "draft.txt").write_text(f"{fresh[0]['name']}\n{fresh[0]['objective']}\n", encoding="utf-8")
    catalog = catalog_to_table(load_catalog())
    write_table(folder / "my_strategy.xlsx", catalog.columns, catalog.rows)
    write_table(folder / "projects_2566.csv", ["text", "issue_id"], [{"text": r["name"], "issue_id": r["issue_id"]} for r in by_year[2566][:40]])
    submissions = [{"รหัส": f"BKN-2568-{n:03d}", "ชื่อโครงการ": r["name"], "วัตถุประสงค์": r["objective"]} for n, r in enumerate(fresh, start=1)]
    write_table(folder / "submissions.xlsx", ["รหัส", "ชื่อโครงการ", "วัตถุประสงค์"], submissions)
    write_table(folder / "gold.csv", ["text", "issue_id"], [{"text": r["name"], "issue_id": r["issue_id"]} for r in by_year[2567][:20]])
    write_table(folder / "reviewed.xlsx", ["ชื่อโครงการ", "วัตถุประสงค์", "issue_id"],
                [{"ชื่อโครงการ": r["name"], "วัตถุประสงค์": r["objective"], "issue_id": r["issue_id"]} for r in by_year[2567][20:30]])
    form = ["รหัสโครงการ", "โครงการ/กิจกรรม", "วัตถุประสงค์", "เป้าหมาย", "งบประมาณ", "หน่วยงาน/สำนักงานเขต"]
    write_table(folder / "submissions_2568.xlsx", form, [dict(zip(form, (f"F2568-{n:03d}", r["name"], r["objective"], r["target"], r["budget"], r["org"])))
                                                         for n, r in enumerate(fresh, start=1)])
    write_table(folder / "export.csv", ["รหัส", "ชื่อ", "ประเภท"],
                [{"รหัส": f"E-{n}", "ชื่อ": r["name"], "ประเภท": "ยุทธศาสตร์" if n % 2 else "งานประจำ"} for n, r in enumerate(by_year[2567][:10])])
    write_table(folder / "items.csv", ["item", "org", "fiscal_year_be"],
                [{"item": r["name"], "org": r["org"], "fiscal_year_be": r["fiscal_year"]} for r in records[:60]])


def test_every_readme_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = readme_commands()
    skipped = [c for c in commands if is_skipped(c)]
    assert len(commands) >= 25 and {c[0] for c in skipped} <= {"serve", "ingest"}, skipped  # only what the docstring says
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name, value in (("PLANALIGN_DATA", str(tmp_path / "data")), ("PLANALIGN_ENCODER", "tfidf"), ("PLANALIGN_INDEX_ENCODER", "tfidf")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PLANALIGN_CONFIG", raising=False)
    runner = CliRunner()
    for args in commands:
        if is_skipped(args):
            continue
        result = runner.invoke(app, fast(args), catch_exceptions=True)
        assert result.exit_code == 0 and result.exception is None, f"planalign {shlex.join(args)}\n{result.output}\n{result.exception!r}"
    assert (tmp_path / "labelled.xlsx").is_file() and (tmp_path / "pairs.csv").is_file() and (tmp_path / "coverage.xlsx").is_file()
