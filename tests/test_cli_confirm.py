"""dr/cli/confirm.py and the live view, on a pseudo-terminal: the confirmation shows what the run will do, asks for
the target's name on the controlling terminal (also with stdout and stderr piped), Ctrl-C there exits 130; the live
view ends in exactly one final report on the screen."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import sys
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from drill_support import aws_state, drctl, shared_sandbox

from dr.cli import run_options
from dr.cli.confirm import summary
from dr.cli.run_options import RunFlags
from dr.engine.session import RunSession
from dr.testing import InProcessSandbox
from tests.fake_runbooks import EXAMPLE, LEDGER_ENV_VAR

__all__ = ["shared_sandbox"]


class Pty:
    """A pseudo-terminal: the test types into `master`; what drctl writes to the terminal collects in `screen`."""

    def __init__(self, rows: int = 60, columns: int = 120) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.path = os.ttyname(self.slave)
        self.output = bytearray()
        self.changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every slave side is closed
                return
            if not chunk:
                return
            with self.changed:
                self.output += chunk
                self.changed.notify_all()

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for(self, text: str, timeout: float = 30.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: text.encode() in self.output, timeout=timeout)

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def close(self) -> None:
        os.close(self.slave)
        self._reader.join(timeout=10)
        os.close(self.master)


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pty]:
    """A pseudo-terminal that is drctl's controlling terminal (stdin, stdout and stderr stay pytest's: piped)."""
    terminal = Pty()
    monkeypatch.setattr("dr.cli.confirm.CONTROLLING_TERMINAL", terminal.path)
    yield terminal
    terminal.close()


def failover_session(box: InProcessSandbox, planned: bool | None = None) -> RunSession:
    return run_options.prepare("failover", config=str(box.config_path), target="qa", source=None,
                               flags=RunFlags(planned=planned))


class TestSummary:
    def test_planned_summary_names_each_database_its_promotion_and_lag_the_zones_and_the_fences(
            self, shared_sandbox: InProcessSandbox) -> None:
        """Before `Type 'qa'`: planned, every database with its promotion call and lag, records per zone, fences."""
        text = "\n".join(summary(failover_session(shared_sandbox), None))
        assert text.startswith("failover: prod -> qa, run ")
        assert "PLANNED move (eu-central-1 answers)" in text
        assert "4 database(s):" in text
        assert "    orders: rds:PromoteReadReplica orders-db-euw1 in eu-west-1; lag " in text
        assert "    payments: rds:SwitchoverGlobalCluster (planned, no data loss) payments-global" in text
        zone = r"\n    \S+: 2 record\(s\) api\.example\.com\., www\.example\.com\.\n"
        assert re.search(r"DNS, per zone:(\n    .*)*" + zone, text)
        assert "fenced (renamed away from their endpoints, before promotion): orders-db (prod)" in text
        assert "RTO 900 s, RPO 300 s" in text

    def test_unplanned_summary_says_what_is_lost_and_fences_afterwards(self, shared_sandbox: InProcessSandbox) -> None:
        """--unplanned: the summary says writes not yet replicated are lost; Aurora global fails over."""
        text = "\n".join(summary(failover_session(shared_sandbox, planned=False), False))
        assert "UNPLANNED move (as asked)" in text
        assert "are lost" in text
        assert "rds:FailoverGlobalCluster" in text
        assert "fenced afterwards, where the source answers: " in text
        assert "before promotion" not in text


    def test_a_summary_that_cannot_be_read_still_lets_the_operator_confirm(
            self, shared_sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """An error while summarising never blocks the run: the header, the error, and where the plan is."""
        session = failover_session(shared_sandbox)

        def broken(ctx: object) -> list[object]:
            raise RuntimeError("throttled")

        monkeypatch.setattr(session.runbook, "phases", broken)
        lines = summary(session, None)
        assert lines[1] == "  (no summary: RuntimeError: throttled; `drctl plan failover --to qa` lists the steps)"


class TestPrompt:
    def test_with_stdout_and_stderr_piped_the_controlling_terminal_confirms(
            self, shared_sandbox: InProcessSandbox, tty: Pty, capsys: pytest.CaptureFixture[str]) -> None:
        """`drctl failover --to qa 2>&1 | tee log`: the summary and the question go to the terminal, the answer
        comes from it, and the log records the confirmation."""
        assert not sys.stdin.isatty()
        tty.type("qa\n")
        run_options.confirm(failover_session(shared_sandbox), RunFlags())
        assert tty.wait_for("Type 'qa' to proceed (anything else cancels): ")
        assert "PLANNED move" in tty.text()
        assert "drctl: confirmed on the terminal: 'qa' typed" in capsys.readouterr().err

    def test_an_unplanned_move_asks_for_the_target_name_too(self, shared_sandbox: InProcessSandbox, tty: Pty) -> None:
        """No bare `yes`: with --unplanned, typing `yes` declines (exit 3), nothing changed."""
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)
        tty.type("yes\n")
        result = drctl("failover", "--to", "qa", "--unplanned", "-c", str(box.config_path))
        assert result.exit_code == 3
        assert "confirmation declined ('yes' is not 'qa')" in result.stderr
        assert tty.wait_for("UNPLANNED move")
        assert aws_state(box.topology, box.clients) == before

    def test_ctrl_c_at_the_prompt_exits_130_and_changes_nothing(self, shared_sandbox: InProcessSandbox,
                                                                tty: Pty) -> None:
        """SIGINT (what the terminal sends on Ctrl-C) while the prompt waits: exit 130, nothing changed."""
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)

        def press_ctrl_c() -> None:
            if tty.wait_for("to proceed"):
                os.kill(os.getpid(), signal.SIGINT)

        presser = threading.Thread(target=press_ctrl_c)
        presser.start()
        result = drctl("failover", "--to", "qa", "-c", str(box.config_path))
        presser.join()
        assert result.exit_code == 130, result.output
        assert "interrupted at the confirmation prompt: nothing was changed" in result.stderr
        assert aws_state(box.topology, box.clients) == before


class TestLiveView:
    def test_on_a_terminal_the_live_view_ends_in_exactly_one_final_report(
            self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """stdin, stdout and stderr on one terminal: once the run ends, the screen holds the report once and no
        live table (the table erased itself instead of staying above a repeat of the same steps)."""
        import pyte
        import typer

        monkeypatch.setenv("DRCTL_RUNBOOK_MODULES", "tests.fake_runbooks")
        monkeypatch.setenv(LEDGER_ENV_VAR, str(tmp_path / "ledger"))
        for var in ("COLUMNS", "LINES"):
            monkeypatch.delenv(var, raising=False)
        terminal = Pty(rows=60, columns=120)
        try:
            with open(terminal.path, encoding="utf-8") as stdin, open(terminal.path, "w", encoding="utf-8") as out, \
                    monkeypatch.context() as std:
                std.setattr(sys, "stdin", stdin)
                std.setattr(sys, "stdout", out)
                std.setattr(sys, "stderr", out)
                with pytest.raises(typer.Exit) as done:
                    run_options.execute("test-ledger", config=str(EXAMPLE), output=run_options.Output.TEXT,
                                        target="qa", flags=RunFlags(yes=True))
                out.flush()
            assert terminal.wait_for("next: ")
        finally:
            terminal.close()
        assert done.value.exit_code == 0
        screen = pyte.Screen(120, 60)
        pyte.ByteStream(screen).feed(bytes(terminal.output))
        lines = [line.rstrip() for line in screen.display]
        assert sum(1 for line in lines if line.startswith("run ") and "test-ledger prod -> qa" in line) == 1
        assert not [line for line in lines if "RTO left" in line]
        steps = [line for line in lines if line.startswith("  ") and line.split()[0] in ("verified", "checked")]
        assert len(steps) == len({line.split()[1] for line in steps}) >= 2
