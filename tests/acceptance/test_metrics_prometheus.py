"""spo metrics pull from a real Prometheus (tests/prometheus.py) holding half a year of series
with known outages; the expected availability is counted by hand from the outages."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import run_spo
from tests.prometheus import serving

LOOP = REPO / "examples" / "improvement-loop"
STEP = 300  # seconds between samples
START, END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# value 0 at every sample in [from, to)
OUTAGES = {
    'up{job="application-support"}': [
        (_at("2026-03-02T08:30"), _at("2026-03-02T15:30")),  # 84 samples: 08:30 .. 15:25
        (_at("2026-05-11T11:00"), _at("2026-05-11T12:00")),  # 12 samples
    ],
    'probe_success{service="network-infrastructure"}': [
        (_at("2026-02-10T22:00"), _at("2026-02-11T00:50")),  # 34 samples: 22:00 .. 00:45
    ],
}


def _openmetrics() -> str:
    lines = []
    for series, outages in OUTAGES.items():
        name = series.split("{")[0]
        lines.append(f"# TYPE {name} gauge")
        t = START
        while t < END:
            down = any(a <= t < b for a, b in outages)
            lines.append(f"{series} {0 if down else 1} {int(t.timestamp())}")
            t += dt.timedelta(seconds=STEP)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> object:
    with serving(_openmetrics(), tmp_path_factory.mktemp("prometheus")) as url:
        yield url


def _catalog(root: Path, url: str) -> Path:
    repo = root / "repo"
    shutil.copytree(LOOP, repo)
    slas = repo / "catalog" / "slas.yaml"
    text = slas.read_text()
    first, second = text.split("\n---\n")
    first += "\n    - {metric: availability, target: 99.5, unit: percent}"
    second += (
        "    - metric: availability\n"
        "      target: 99.9\n"
        "      unit: percent\n"
        '      promql: 100 * avg_over_time(probe_success{service="$service"}[$window])\n'
    )
    slas.write_text(first + "\n---\n" + second)
    (repo / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\ncatalog: {paths: [catalog]}\n"
        "metrics:\n  prometheus:\n"
        f"    url: {url}\n"
        "    queries:\n"
        '      availability: 100 * avg_over_time(up{job="$service"}[$window])\n'
    )
    return repo


def test_availability_per_quarter_from_prometheus(prometheus: str, in_tmp: Path) -> None:
    repo = _catalog(in_tmp, prometheus)
    r = run_spo(
        "-C",
        str(repo),
        "metrics",
        "pull",
        "--period",
        "2026-Q1",
        "--period",
        "2026-Q2",
        "-o",
        "metrics.csv",
    )
    assert r.exit_code == 0, r.stderr
    rows = {
        tuple(line.split(",")[:4]): float(line.split(",")[4])
        for line in (repo / "metrics.csv").read_text().splitlines()
        if not line.startswith(("#", "service,"))
    }
    q1, q2 = 90 * 288, 91 * 288  # samples every 5 minutes: 25,920 in Q1, 26,208 in Q2
    expected = {
        ("application-support", "availability", "", "2026-Q1"): 100 * (q1 - 84) / q1,
        ("application-support", "availability", "", "2026-Q2"): 100 * (q2 - 12) / q2,
        ("network-infrastructure", "availability", "", "2026-Q1"): 100 * (q1 - 34) / q1,
        ("network-infrastructure", "availability", "", "2026-Q2"): 100.0,
    }
    assert rows.keys() == expected.keys()
    for key, value in expected.items():
        assert rows[key] == pytest.approx(value, abs=1e-4), key
    report = run_spo("-C", str(repo), "sla", "report", "--metrics", "metrics.csv")
    assert report.exit_code == 0, report.stderr
    # latest quarter: 100 * 26,196 / 26,208 = 99.954 % against 99.5 attained, improving on Q1
    assert "application-support-business     availability  99.5 percent  2026-Q2  99.954" in (
        report.stdout
    )


def test_a_failing_query_is_located_and_nothing_is_made_up(prometheus: str, in_tmp: Path) -> None:
    repo = _catalog(in_tmp, prometheus)
    slas = repo / "catalog" / "slas.yaml"
    slas.write_text(slas.read_text().replace("avg_over_time(probe_success", "avg_over_time((probe"))
    r = run_spo("-C", str(repo), "metrics", "pull", "--period", "2026-Q1")
    assert r.exit_code == 1
    assert "catalog/slas.yaml:28:15: error SPO835 network-infrastructure-business availability" in (
        r.stderr
    )
    assert "network-infrastructure,availability" not in r.stdout
    assert "application-support,availability,,2026-Q1," in r.stdout


def test_an_unreachable_server_is_an_error_not_a_traceback(in_tmp: Path) -> None:
    repo = _catalog(in_tmp, "http://127.0.0.1:9")
    r = run_spo("-C", str(repo), "metrics", "pull", "--period", "2026-Q1")
    assert r.exit_code == 1
    assert "SPO835" in r.stderr and "Traceback" not in r.stderr
