"""`sre report` refuses bad input with exit 2, a message naming the flag, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cli import main

from ...alertmanager_proc import free_port
from ...unit.slo.helpers import spec_header

SPEC = spec_header("shop-api") + """\
  - name: availability
    objective: 99.9
    sli: {ratio: {errors: 'http_requests_total{code="500"}', total: 'http_requests_total'}}
"""


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "shop.yaml").write_text(SPEC)
    return tmp_path / "specs"


@pytest.mark.parametrize(("dates", "message"), [
    (("2026-11-01", "December"), "sre report: --to 'December': expected a date such as 2026-11-01"),
    (("2026-12-01", "2026-11-01"), "sre report: --to 2026-11-01 must be after --from 2026-12-01"),
])
def test_bad_interval(specs: Path, tmp_path: Path, capsys, dates, message) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    code = main(["report", "--prometheus", "http://127.0.0.1:1", "--from", dates[0], "--to", dates[1],
                 "--specs", str(specs), "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.startswith(message)
    assert not out.exists()


def test_unreachable_prometheus_writes_nothing(specs: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    url = f"http://127.0.0.1:{free_port()}"
    code = main(["report", "--prometheus", url, "--from", "2026-11-01", "--to", "2026-12-01",
                 "--specs", str(specs), "--out", str(out)])
    assert code == 2
    assert f"cannot reach Prometheus at {url}" in capsys.readouterr().err
    assert not out.exists()


def test_an_unknown_service_is_named(specs: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["report", "--prometheus", "http://127.0.0.1:1", "--from", "2026-11-01", "--to", "2026-12-01",
                 "--specs", str(specs), "--service", "cart-api", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "--service cart-api: no such service" in capsys.readouterr().err


def test_bad_failure_window(specs: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["report", "--prometheus", "http://127.0.0.1:1", "--from", "2026-11-01", "--to", "2026-12-01",
                 "--specs", str(specs), "--failure-window", "soon", "--out", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err == "sre report: --failure-window: 'soon' is not a duration like 5m, 1h or 30d\n"
