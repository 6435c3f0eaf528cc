"""Asking the operator before a run changes anything, as terraform shows its plan before `yes`: a summary of what
will happen (from the plan `drctl plan` prints, the kind of move, the lag of each database), then the target's
name typed on the controlling terminal.

The terminal is stdin/stderr when both are one, else the controlling terminal (`/dev/tty`): so
`drctl failback --to prod 2>&1 | tee log` asks on the screen while the log gets the output. Without any terminal a
change needs `--yes` (exit 2). Ctrl-C or end of input at the prompt: nothing was changed (exit 130 and 3).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dr.engine.session import RunSession

CONTROLLING_TERMINAL = "/dev/tty"
"""The process's controlling terminal (POSIX); tests point it elsewhere."""
SHOWN_CHANGES = 12
"""At most this many changing steps are listed for a runbook that moves no database (then: "and N more")."""


class Terminal:
    """Where the operator reads the summary and types the answer."""

    def __init__(self, reader: IO[str], writer: IO[str], *, owned: bool = False) -> None:
        self.reader = reader
        self.writer = writer
        self._owned = owned

    def say(self, text: str) -> None:
        self.writer.write(text + "\n")
        self.writer.flush()

    def ask(self, question: str) -> str:
        """The typed line, stripped. Interrupted (exit 130) on Ctrl-C; "" at end of input."""
        from dr.errors import Interrupted

        try:  # Ctrl-C while the question is being written counts too
            self.writer.write(f"{question}: ")
            self.writer.flush()
            return self.reader.readline().strip()
        except KeyboardInterrupt:
            self.writer.write("\n")
            raise Interrupted("interrupted at the confirmation prompt: nothing was changed") from None

    def close(self) -> None:
        if self._owned:
            self.reader.close()
            self.writer.close()


def open_terminal(stdio: bool) -> Terminal | None:
    """stdin/stderr when `stdio` (both are the terminal), else the controlling terminal, else None."""
    if stdio:
        return Terminal(sys.stdin, sys.stderr)
    try:  # a terminal is not seekable: one stream each way (closed by Terminal.close)
        reader = open(CONTROLLING_TERMINAL, encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError:  # no controlling terminal (CI, cron, a pod): --yes is needed
        return None
    try:
        writer = open(CONTROLLING_TERMINAL, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError:
        reader.close()
        return None
    return Terminal(reader, writer, owned=True)


def confirm_on(terminal: Terminal, summary: list[str], target: str, *, break_lock: bool) -> None:
    """Show the summary; the operator types the target's name (and 'break' to take the lock): else GateRefused."""
    from dr.errors import GateRefused

    for line in summary:
        terminal.say(line)
    answer = terminal.ask(f"Type {target!r} to proceed (anything else cancels)")
    if answer != target:
        raise GateRefused(f"confirmation declined ({'nothing typed' if not answer else repr(answer)} is not "
                          f"{target!r}): nothing was changed")
    if break_lock and terminal.ask("Type 'break' to take the lock even from a run that may be alive") != "break":
        raise GateRefused("breaking the lock declined: nothing was changed")
    if terminal.writer is not sys.stderr:  # the log (stderr piped or redirected) records who said yes
        sys.stderr.write(f"drctl: confirmed on the terminal: {target!r} typed\n")


def summary(session: RunSession, planned: bool | None) -> list[str]:
    """What the run will do, for the operator to read before typing the target's name. Reading it must never
    stand between the operator and the run: if it fails, the header and how to see the plan instead."""
    try:
        return _summary(session, planned)
    except Exception as err:
        h = session.header
        return [f"{h.runbook}: {h.source} -> {h.target}, run {h.run_id}",
                f"  (no summary: {type(err).__name__}: {err}; `drctl plan {h.runbook} --to {h.target}` lists "
                "the steps)"]


def _summary(session: RunSession, planned: bool | None) -> list[str]:
    from dr.cli.failover import plan_document

    ctx = session.ctx
    h = session.header
    move = _kind(session, planned)
    look = replace(ctx, options=replace(ctx.options, dry_run=True, planned=move[0] if move else planned),
                   facts=dict(ctx.facts))
    plan = plan_document(session.runbook, look)
    steps = [s for p in plan["phases"] for s in p["steps"]]
    lines = [f"{h.runbook}: {h.source} -> {h.target}, run {h.run_id}"]
    if move is not None:
        lines.append(f"  {move[1]}")
    promotes = [s for s in steps if s["name"].startswith("promote:") and s["mutating"]]
    if promotes:
        lines += _databases(look, promotes)
    lines += _dns(steps)
    lines += _fences(steps, move[0] if move else None)
    if not promotes:
        lines += _changes(steps)
    lines.append(f"  RTO {plan['rto_seconds']:g} s, RPO {plan['rpo_seconds']:g} s; `drctl plan` lists every step "
                 "and AWS call")
    return lines


def _kind(session: RunSession, planned: bool | None) -> tuple[bool, str] | None:
    """(planned, the sentence saying so) for a runbook that moves databases; None for any other."""
    from runbooks.steps._common import moves
    from runbooks.steps.prechecks import probe_source

    ctx = session.ctx
    if session.runbook.name not in ("failover", "failback") or not moves(ctx):
        return None
    if session.runbook.name == "failback":
        planned = True
    answers, detail = probe_source(ctx) if planned is None else (planned, "as asked")
    if answers:
        return True, (f"PLANNED move ({detail}): each writer is fenced, its replica catches up, then it is promoted; "
                      "no acknowledged write is lost")
    return False, (f"UNPLANNED move ({detail}): promoted past the RPO gate without waiting; writes not yet "
                   "replicated (the lag below) are lost; old writers are fenced afterwards where they answer")


def _databases(ctx: Any, promotes: list[dict[str, Any]]) -> list[str]:
    """One line per database: how it moves (the promotion's AWS call) and its current lag."""
    lags = _lags(ctx)
    lines = [f"  {len(promotes)} database(s):"]
    for step in promotes:
        name = step["name"].split(":", 1)[1]
        how = next((c for c in step["calls"] if not c.startswith("rds:Describe")), step["resource"])
        lines.append(f"    {name}: {how}; {lags.get(name, 'lag not read')}")
    return lines


def _lags(ctx: Any) -> dict[str, str]:
    """Database -> its current replica lag, in words (never raising: the RPO gate judges it during the run)."""
    from dr.checks.lag import read_lag_targets
    from runbooks.steps._common import moves
    from runbooks.steps.rpo_gate import lag_target

    try:
        samples = read_lag_targets([lag_target(ctx, m) for m in moves(ctx)], ctx.clients, ctx.clock)
    except Exception as err:
        return {m.db.name: f"lag unreadable ({type(err).__name__})" for m in moves(ctx)}
    out: dict[str, str] = {}
    for name, sample in samples.items():
        if sample.error:
            out[name] = f"lag unreadable: {sample.error}"
        elif sample.seconds is None:
            out[name] = "no lag datapoint"
        elif sample.broken:
            out[name] = "replication broken (lag -1)"
        else:
            age = f" (measured {sample.age_seconds:.0f} s ago)" if sample.age_seconds is not None else ""
            out[name] = f"lag {sample.seconds:g} s{age}"
    return out


def _dns(steps: list[dict[str, Any]]) -> list[str]:
    zones = [s["resource"] for s in steps if s["name"].startswith("dns:") and s["mutating"]]
    return ["  DNS, per zone:", *(f"    {zone}" for zone in zones)] if zones else []


def _fences(steps: list[dict[str, Any]], planned: bool | None) -> list[str]:
    before = [s["resource"] for s in steps if s["name"].startswith("fence:")]
    after = [s["resource"] for s in steps if s["name"].startswith("fence-old-writer:")]
    lines = []
    if before and planned is not False:
        lines.append(f"  fenced (renamed away from their endpoints{', before promotion' if planned else ''}): "
                     + ", ".join(before))
    if after and planned is False:
        lines.append("  fenced afterwards, where the source answers: " + ", ".join(after))
    return lines


def _changes(steps: list[dict[str, Any]]) -> list[str]:
    changing = [s for s in steps if s["mutating"] and not s["name"].startswith(("fence:", "dns:"))]
    if not changing:
        return []
    shown = [f"{s['name']} [{s['resource']}]" if s["resource"] else s["name"] for s in changing[:SHOWN_CHANGES]]
    more = f" and {len(changing) - SHOWN_CHANGES} more" if len(changing) > SHOWN_CHANGES else ""
    return [f"  changes: {', '.join(shown)}{more}"]
