"""Hostile option values and environment hooks: every one is exit 2 before anything runs, naming the option and
the value, with no traceback, no AWS client made and no journal written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dr.cli import option_checks
from dr.errors import UsageError
from tests.fake_runbooks import EXAMPLE
from tests.hostile_support import assert_refused, drctl

pytestmark = pytest.mark.usefixtures("no_aws")

C = str(EXAMPLE)
NOW = datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


RUN_COMMANDS = {
    "failover": ["failover", "--to", "qa", "--yes", "-c", C],
    "failback": ["failback", "--to", "prod", "--yes", "-c", C],
    "drill-clone": ["drill", "--to", "qa", "--yes", "-c", C],
    "drill-full": ["drill", "--to", "qa", "--mode", "full", "--yes", "-c", C],
    "fence": ["fence", "--env", "prod", "--yes", "-c", C],
}


@pytest.fixture(autouse=True)
def _nothing_written(tmp_path: Path) -> object:
    yield None
    runs = tmp_path / "drctl-state" / "runs"
    assert not runs.exists() or not any(runs.iterdir()), "a refused command wrote a journal"


BAD_INCIDENT = {
    "no-zone": ("2026-01-01T00:00:00", "has no time zone"),
    "bare-date": ("2026-01-01", "has no time zone"),
    "epoch-1970": ("1970-01-01T00:00:00Z", "more than 7 days ago"),
    "eight-days-ago": (_iso(NOW - timedelta(days=8)), "more than 7 days ago"),
    "a-year-ago": (_iso(NOW - timedelta(days=365)), "more than 7 days ago"),
    "an-hour-ahead": (_iso(NOW + timedelta(hours=1)), "in the future"),
    "next-year": (_iso(NOW + timedelta(days=365)), "in the future"),
    "word": ("yesterday", "not an ISO 8601 time"),
    "empty": ("", "not an ISO 8601 time"),
    "spaces": ("   ", "not an ISO 8601 time"),
    "month-13": ("2026-13-01T00:00:00Z", "not an ISO 8601 time"),
    "epoch-seconds": ("1764900000", "not an ISO 8601 time"),
    "offset-out-of-range": ("2026-12-05T03:12:00+25:00", "not an ISO 8601 time"),
    "double-zone": ("2026-12-05T03:12:00ZZ", "not an ISO 8601 time"),
    "year-one-east": ("0001-01-01T00:00:00+01:00", "--incident-start"),
    "year-9999-west": ("9999-12-31T23:59:59-01:00", "in the future"),
    "time-only": ("T03:12:00Z", "not an ISO 8601 time"),
    "sql-ish": ("'; DROP TABLE runs; --", "not an ISO 8601 time"),
    "long": ("9" * 5000, "not an ISO 8601 time"),
    "arabic-digits": ("\u0662\u0660\u0662\u0666-01-01T00:00:00Z", "2026-12-05T03:12:00Z"),
}


class TestIncidentStart:
    @pytest.mark.parametrize("case", sorted(BAD_INCIDENT))
    def test_failover_refuses(self, case: str) -> None:
        """--incident-start without a zone, in the future, over 7 days ago or not a time: exit 2 naming it."""
        value, why = BAD_INCIDENT[case]
        assert_refused(drctl(*RUN_COMMANDS["failover"], f"--incident-start={value}"),
                       f"--incident-start {value!r}", why)

    @pytest.mark.parametrize("command", ["failback"])
    def test_other_commands_refuse(self, command: str) -> None:
        """failback checks --incident-start the same way."""
        assert_refused(drctl(*RUN_COMMANDS[command], "--incident-start=2026-01-01T00:00:00"), "has no time zone")

    def test_boundaries(self) -> None:
        """Exactly 7 days ago and a few seconds ahead (clock skew) pass; a second more does not."""
        now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
        assert option_checks.incident_start("2026-11-28T12:00:00Z", now) == now - timedelta(days=7)
        assert option_checks.incident_start("2026-12-05T12:00:30Z", now) == now + timedelta(seconds=30)
        assert option_checks.incident_start("2026-12-05T13:00:00+01:00", now) == now
        with pytest.raises(UsageError, match="more than 7 days ago"):
            option_checks.incident_start("2026-11-28T11:59:59Z", now)
        with pytest.raises(UsageError, match="in the future"):
            option_checks.incident_start("2026-12-05T12:01:01Z", now)


BAD_REGIONS = ["mars-1", "", "EU-WEST-1", "eu-east-1", "us-east-1,eu-west-1", "*", "../../etc/passwd",
               "eu-west-1\n", "a" * 1000, "\u00e9u-west-1", "localhost", "eu-west-1a"]


class TestSimulateOutage:
    @pytest.mark.parametrize("region", BAD_REGIONS)
    def test_option_refused_by_run_commands(self, region: str) -> None:
        """--simulate-outage names something that is no AWS region: exit 2 naming it."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], f"--simulate-outage={region}"),
                       f"--simulate-outage {region!r}", "is not an AWS region")

    @pytest.mark.parametrize("command", [["status"], ["readiness", "--env", "qa"], ["drill", "cleanup"]])
    def test_option_refused_by_read_commands(self, command: list[str]) -> None:
        """status, readiness and drill cleanup check --simulate-outage too."""
        assert_refused(drctl(*command, "-c", C, "--simulate-outage=mars-1"), "'mars-1'", "not an AWS region")

    @pytest.mark.parametrize("value", ["mars-1", "eu-west-1,mars-1", "\U0001f680", "eu-central-1;rm -rf /"])
    def test_environment_variable_refused(self, value: str) -> None:
        """$DRCTL_SIMULATE_OUTAGE with a non-region: exit 2 naming the variable and the name."""
        bad = next(r for r in value.split(",") if r != "eu-west-1")
        assert_refused(drctl(*RUN_COMMANDS["failover"], env={"DRCTL_SIMULATE_OUTAGE": value}),
                       "$DRCTL_SIMULATE_OUTAGE", repr(bad))

    def test_suggests_the_close_region(self) -> None:
        """A near miss names the real region."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], "--simulate-outage=eu-centrl-1"), "eu-central-1")


BAD_PUSHGATEWAYS = ["not-a-url", "ftp://pg:21", "file:///etc/passwd", "http://", "http://:9091", "http://pg:99999",
                    "http://pg:-1", "gopher://pg", "javascript:alert(1)", "pg:9091", "//pg:9091", "",
                    "http://pg:9091/?x=1", "https://pg:9091#frag"]


class TestPushgateway:
    @pytest.mark.parametrize("url", BAD_PUSHGATEWAYS)
    def test_refused_before_the_run(self, url: str) -> None:
        """--pushgateway that is not an http(s) URL with a host: exit 2 before the run, naming it."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], f"--pushgateway={url}"), "--pushgateway", repr(url))

    @pytest.mark.parametrize("command", sorted(RUN_COMMANDS))
    def test_every_run_command_refuses(self, command: str) -> None:
        """failover, failback, drills and fence all check --pushgateway first."""
        assert_refused(drctl(*RUN_COMMANDS[command], "--pushgateway=ftp://pg"), "'ftp://pg'")

    def test_environment_default_is_checked(self) -> None:
        """$DRCTL_PUSHGATEWAY is checked like the option."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], env={"DRCTL_PUSHGATEWAY": "file:///x"}), "'file:///x'")

    def test_resume_refuses(self) -> None:
        """resume checks --pushgateway before reading the journal."""
        assert_refused(drctl("resume", "r1", "--yes", "-c", C, "--pushgateway=ftp://pg"), "'ftp://pg'")

    def test_password_is_never_shown(self) -> None:
        """A refused URL with credentials is named with the password redacted."""
        stderr = assert_refused(drctl(*RUN_COMMANDS["failover"], "--pushgateway=http://ops:TOPSECRET@pg:99999"),
                                "ops:***@pg:99999")
        assert "TOPSECRET" not in stderr

    def test_password_without_user_is_refused(self) -> None:
        """$DRCTL_PUSHGATEWAY_PASSWORD without a user name: exit 2 naming the missing variable."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], "--pushgateway=http://pg:9091",
                             env={"DRCTL_PUSHGATEWAY_PASSWORD": "x"}), "DRCTL_PUSHGATEWAY_USERNAME")


class TestMetricsFile:
    @pytest.mark.parametrize("case", ["missing-dir", "a-directory", "under-a-file", "empty", "nul", "too-long",
                                      "a-fifo", "dev-null-child", "trailing-slash"])
    def test_refused_before_the_run(self, case: str, tmp_path: Path) -> None:
        """--metrics-file somewhere it cannot be written: exit 2 before the run, naming it."""
        import os

        fifo = tmp_path / "fifo.prom"
        os.mkfifo(fifo)
        value = {"missing-dir": str(tmp_path / "nope" / "x.prom"), "a-directory": str(tmp_path),
                 "under-a-file": f"{EXAMPLE}/x.prom", "empty": "", "nul": "x\0.prom",
                 "too-long": str(tmp_path / ("x" * 5000)), "a-fifo": str(fifo),
                 "dev-null-child": "/dev/null/x.prom", "trailing-slash": f"{tmp_path}/new/"}[case]
        assert_refused(drctl(*RUN_COMMANDS["failover"], f"--metrics-file={value}"), "--metrics-file", repr(value))

    @pytest.mark.parametrize("command", ["drill-clone", "fence", "failback"])
    def test_every_run_command_refuses(self, command: str, tmp_path: Path) -> None:
        """Drills, fence and failback check --metrics-file first."""
        assert_refused(drctl(*RUN_COMMANDS[command], f"--metrics-file={tmp_path}/no/x.prom"), "does not exist")


class TestExporter:
    @pytest.mark.parametrize("port", ["0", "-1", "65536", "99999999999999999999999"])
    def test_port_out_of_range(self, port: str) -> None:
        """--port outside 1..65535 (the OverflowError of old): exit 2 naming the port and the range."""
        assert_refused(drctl("exporter", "-c", C, f"--port={port}"), f"--port {port}", "1 to 65535")

    @pytest.mark.parametrize("port", ["abc", "1e3", "", "80.5", "0x50"])
    def test_port_not_a_number(self, port: str) -> None:
        """--port that is no whole number: exit 2 naming the option."""
        assert_refused(drctl("exporter", "-c", C, f"--port={port}"), "--port")

    @pytest.mark.parametrize("interval", ["0s", "-5s", "99999h", "soon", "", "2h"])
    def test_interval(self, interval: str) -> None:
        """--interval that is no duration, not positive, or over an hour: exit 2 naming it."""
        assert_refused(drctl("exporter", "-c", C, f"--interval={interval}"), f"--interval {interval!r}")


HOOKS = {
    "DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS": ["abc", "-1", "0", "1.5", "99999999999999", "\u0663", "1_0", "+3"],
    "DRCTL_MAX_CONCURRENCY": ["0", "x", "-2", "1e3", "two"],
    "DRCTL_DNS_VERIFY": ["bogus", "127.0.0.1:99999", ":53", "127.0.0.1:", "127.0.0.1:port"],
}


class TestEnvironmentHooks:
    @pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in HOOKS.items() for v in values])
    def test_failover_refuses(self, name: str, value: str) -> None:
        """A hook that does not parse: exit 2 naming the variable, before the run (no traceback mid-run)."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], env={name: value}), name)

    def test_valid_hooks_parse(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Whole numbers from 1 parse; unset and blank mean no hook."""
        from dr.engine.env import kill_after_events, max_concurrency

        monkeypatch.setenv("DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS", " 7 ")
        monkeypatch.setenv("DRCTL_MAX_CONCURRENCY", "")
        assert (kill_after_events(), max_concurrency()) == (7, None)


class TestRunId:
    @pytest.mark.parametrize("run_id", ["../../etc/passwd", "a/b", "x" * 500, "r 1", "\u00e9t\u00e9", ".."])
    def test_refused(self, run_id: str) -> None:
        """--run-id that could not be a file name: exit 2 naming it."""
        assert_refused(drctl(*RUN_COMMANDS["failover"], f"--run-id={run_id}"), "invalid run id")
