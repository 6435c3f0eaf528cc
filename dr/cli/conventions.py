"""Command-line conventions every drctl command follows: its exit codes in its `--help` (as kubectl and terraform
document theirs), and help that names what an option takes (`PATH`, `RUN_ID`), never a type (`<bool>`, `<str>`)."""

from __future__ import annotations

from typing import Any

RUN_CODES = (
    ("0", "done, or already in the desired state (a re-run changes nothing)"),
    ("1", "a step failed: the report says which, what was done, and the next action (usually `drctl resume`)"),
    ("2", "usage or configuration error, nothing touched"),
    ("3", "refused by a safety gate (RPO, DR side not ready, lock held, confirmation declined), nothing touched"),
    ("130", "interrupted: the journal is consistent, `drctl resume RUN_ID` continues"),
)
USAGE = ("2", "usage or configuration error")

EXIT_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "failover": RUN_CODES,
    "failback": RUN_CODES,
    "fence": RUN_CODES,
    "resume": RUN_CODES,
    "drill": (
        ("0", "the drill ran and met the RTO and RPO"),
        ("1", "a step failed, or the drill missed the RTO or RPO (the report says which)"),
        USAGE,
        ("3", "refused: the target is already the active side, lock held, confirmation declined; nothing cloned"),
        ("130", "interrupted (what the drill created is cleaned up)"),
    ),
    "drill cleanup": (("0", "nothing left over, or all of it deleted"), ("1", "some leftovers could not be read or "
                      "deleted (listed on stderr)"), USAGE),
    "drill history": (("0", "the history was printed"), USAGE),
    "readiness": (("0", "ready: every check passed"), ("1", "NOT ready: a check failed (the table says which)"),
                  USAGE),
    "status": (("0", "every database has one writer"), ("1", "SPLIT BRAIN RISK: a database has more than one "
               "writable copy, or a stopped unfenced stale copy AWS will restart"), USAGE),
    "plan": (("0", "the plan was printed (nothing was called); `plan evaluate`: every check passed"),
             ("1", "`plan evaluate`: a check failed (each with its reason)"), USAGE),
    "config discover": (("0", "a valid topology was written or printed"), ("1", "the result is not valid, or AWS "
                        "refused a read"), USAGE),
    "config diff": (("0", "the topology matches AWS"), ("1", "differences (listed)"), USAGE),
    "deploy": (("0", "every requested state machine is deployed (or, with --dry-run, printed with its diff)"),
               ("2", "a requested runbook cannot be generated, or a usage or configuration error")),
    "export arc-plan": (("0", "the CreatePlan document was printed (what it cannot express on stderr)"),
                        ("2", "the document fails botocore's model, or a usage or configuration error")),
    "iam policy": (("0", "the policies were printed"), ("1", "a step declares no permissions"), USAGE),
    "config validate": (("0", "the topology file is valid"), ("2", "invalid: every problem, with its path and a fix")),
    "runs list": (("0", "the runs were listed"), USAGE),
    "runs show": (("0", "the run's report was printed"), ("2", "unknown run id, or a usage or configuration error")),
    "exporter": (("0", "stopped by SIGTERM or SIGINT; `--check`: every source read and every plan check passed"),
                 ("1", "`--check`: a source could not be read or a plan check failed"),
                 ("2", "usage or configuration error (port taken, bad interval)")),
    "sandbox up": (("0", "stopped by Ctrl-C"), USAGE),
    "sandbox demo": (("0", "every demo command did what it shows"), ("1", "a demo command failed (its output says "
                     "which)"), USAGE),
    "sandbox outage": (("0", "the outage started or ended"), USAGE),
}
"""Per command (`group sub` for subcommands), its exit codes and what each means: the `--help` epilogs and the
README's table come from here."""


def epilog(command: str) -> str:
    """The exit-code paragraph of `command`'s --help (one line per code; typer's rich help keeps the breaks)."""
    return "Exit codes:\n\n" + "\n\n".join(f"{code}  {meaning}" for code, meaning in EXIT_CODES[command])


def add_epilogs(app: Any, prefix: str = "") -> None:
    """Give every registered command of `app` (and of its sub-apps) its exit-code epilog."""
    for info in app.registered_commands:
        name = f"{prefix}{info.name or info.callback.__name__}"
        if name in EXIT_CODES and info.epilog is None:
            info.epilog = epilog(name)
    for group in app.registered_groups:
        sub = group.typer_instance
        name = f"{prefix}{group.name}"
        callback = sub.registered_callback
        # a group's unset fields are typer's Default(None) placeholders, not None
        if name in EXIT_CODES and callback is not None and getattr(callback.epilog, "value", callback.epilog) is None:
            callback.epilog = epilog(name)
        add_epilogs(sub, prefix=f"{name} ")


def clean_metavars() -> None:
    """typer's rich help prints each option's type (`--yes <bool>`, `--config <str>`): a flag takes no value, so
    it shows none, and a free-text value shows its name (`RUN_ID`), as click and most CLIs do."""
    from typer.core import TyperArgument, TyperOption

    if getattr(TyperOption.display_type_rich, "_drctl", False):
        return

    def option_type(self: Any, ctx: Any) -> str | None:
        if self.metavar is not None:
            return str(self.metavar)
        if self.is_flag and not self.count:
            return None
        shown = self.display_type(ctx)
        if shown in ("<str>", "<int>", "<float>", "<path>"):
            shown = (self.name or "value").upper()
        return f"{shown}..." if self.nargs != 1 else str(shown)

    def argument_type(self: Any, ctx: Any) -> str | None:
        return None if self.display_type(ctx) in ("<str>", "<int>") else str(self.display_type(ctx))

    option_type._drctl = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = option_type  # type: ignore[method-assign]
    TyperArgument.display_type_rich = argument_type  # type: ignore[method-assign]
