"""`sre incidents`: the record over fixture post-mortems, with numbers worked out by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reliability.cli import main

DATA = Path(__file__).parent / "data" / "postmortems"
D = str(DATA)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["incidents", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_record_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--dir", D, "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["incidents"] == 4
    # checkout-api: detected after 6m and 10m, restored after 40m and 30m.
    assert data["byService"] == {
        "checkout-api": {"incidents": 2, "meanTimeToDetectMinutes": 8.0, "mttrMinutes": 35.0,
                         "timed": {"detect": 2, "restore": 2}},
        "order-worker": {"incidents": 1, "meanTimeToDetectMinutes": None, "mttrMinutes": 60.0,
                         "timed": {"detect": 0, "restore": 1}},
        "search-api": {"incidents": 1, "meanTimeToDetectMinutes": 20.0, "mttrMinutes": 80.0,
                       "timed": {"detect": 1, "restore": 1}},
    }
    assert data["byTeam"] == {"fulfilment": 1, "payments": 2, "search": 1}
    assert data["bySeverity"] == {"SEV2": 1, "SEV3": 2, "SEV4": 1}
    assert data["byTag"] == {"capacity": 1, "database": 2, "deploy": 2, "failover": 1, "queue": 1}
    assert data["recurring"] == {"tags": {"database": 2, "deploy": 2},
                                 "alerts": {"CheckoutApiAvailabilityBudgetBurn": 2}}
    # Open items only (the replication-lag alert is done), by due date, undated last.
    assert [(a["due"], a["owner"], a["what"]) for a in data["openActions"]] == [
        ("2026-10-15", "bo@acme.example", "Drill the failover runbook"),
        ("2026-11-01", "cy@acme.example", "Canary the checkout deploys"),
        (None, "noor@acme.example", "Alert on queue depth"),
    ]
    assert data["openActions"][0]["postmortem"] == f"{D}/2026-09-03-checkout-api-db-failover.md"


def test_since_a_date_or_a_duration(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--dir", D, "--format", "json", "--since", "2026-10-01")
    data = json.loads(out)
    assert (code, data["incidents"], data["byService"]["checkout-api"]["mttrMinutes"]) == (0, 3, 30.0)
    assert data["recurring"] == {"tags": {"deploy": 2}, "alerts": {}}
    code, out, _ = run(capsys, "--dir", D, "--format", "json", "--since", "100000d")
    assert json.loads(out)["incidents"] == 4


def test_text_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--dir", D)
    assert code == 0
    assert "  checkout-api: 2, 8m, 35m\n" in out and "  order-worker: 1, -, 60m\n" in out
    assert "recurring tags: database (2), deploy (2)\n" in out
    assert "recurring alerts: CheckoutApiAvailabilityBudgetBurn (2)\n" in out
    assert f"  2026-10-15  bo@acme.example: Drill the failover runbook ({D}/2026-09-03-checkout-api-db-failover.md)" \
        in out
    code, out, _ = run(capsys, "--dir", D, "--format", "markdown")
    assert "| checkout-api | 2 | 8m | 35m |" in out and "| search-api | 1 | 20m | 80m |" in out
    assert "Recurring alerts: `CheckoutApiAvailabilityBudgetBurn` (2)" in out


BROKEN = [
    ("start: 2026-10-12T14:00:00Z\n", "", "{f}: start: missing: the time in UTC, e.g. start: 2026-12-01T10:00:00Z"),
    ("severity: SEV3\n", "severity: high\n", "{f}: severity: 'high' is not one of SEV1, SEV2, SEV3, SEV4, SEV5"),
    ("resolved: 2026-10-12T14:30:00Z\n", "resolved: half past two\n",
     "{f}: resolved: 'half past two' is not a time: use ISO 8601 such as 2026-12-01T10:00:00Z"),
    ("detected: 2026-10-12T14:10:00Z\n", "detected: 2026-10-12T13:10:00Z\n",
     "{f}: detected: before start: the incident starts when users are first affected"),
    ("tags: [deploy]\n", "tags: deploy\n", "{f}: tags: expected a list of words, e.g. tags: [deploy, database]"),
    ("owner: cy@acme.example, ", "", "{f}: actions[0].owner: every action item has one owner: give a person"),
    ("team: payments\n", "", "{f}: team: missing: the team this incident is about"),
    ("---\ntitle", "title", "{f}: no front matter: the file must start with a `---` line, the YAML fields "
     "(service, team, severity, start, end, ...), and a closing `---` line"),
    ("tags: [deploy]\n", "tags: [deploy\n", "{f}: front matter is not valid YAML (line 11): "),
]


@pytest.mark.parametrize("old,new,message", BROKEN, ids=[b[2][5:45] for b in BROKEN])
def test_malformed_front_matter_names_the_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         old: str, new: str, message: str) -> None:
    folder = tmp_path / "postmortems"
    shutil.copytree(DATA, folder)
    broken = folder / "2026-10-12-checkout-api-bad-deploy.md"
    assert old in broken.read_text()
    broken.write_text(broken.read_text().replace(old, new, 1))
    code, out, err = run(capsys, "--dir", str(folder))
    assert (code, out) == (2, "")
    assert err.startswith("sre incidents: " + message.format(f=broken)), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv,message", [
    (["--dir", "nowhere"], "sre incidents: nowhere: no such folder: write a post-mortem with `sre postmortem new` "
                           "first, or give --dir\n"),
    (["--dir", D, "--since", "last week"], "sre incidents: --since 'last week' is neither a date (2026-01-01) nor a "
                                           "duration (90d)\n"),
])
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert run(capsys, *argv) == (2, "", message)
