"""`drctl config validate`: every finding of the topology file, exit 2 when invalid."""

from __future__ import annotations

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, console, print_json

config_app = typer.Typer(help="Check the topology file.", no_args_is_help=True)


@config_app.command("validate")
def validate_cmd(config: ConfigOpt = None, output: OutputOpt = Output.TEXT) -> None:
    """Check the topology file: structure, references, and facts of AWS. Exit 0 valid, 2 invalid."""
    from dr.config import check_file, config_path
    from dr.config.findings import first, more_line

    path = config_path(config)
    model, findings = check_file(path)
    errors = [f for f in findings if f.severity == "error"]
    shown, hidden = first(findings)
    if output is Output.JSON:
        print_json({"config": str(path), "valid": model is not None, "errors": len(errors),
                    "findings": [f.to_dict() for f in shown], "findings_not_shown": hidden})
    else:
        from rich.markup import escape

        out = console(stderr=model is None)
        for f in shown:
            out.print(f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/]: "
                      f"[bold]{escape(f.path or str(path))}[/]: {escape(f.message)}")
            if f.hint:
                out.print(f"    fix: {f.hint}", markup=False)
        if hidden:
            out.print(more_line(hidden), markup=False)
        if model is None:
            out.print(f"[red]{escape(str(path))}: invalid, {len(errors)} error(s)[/]")
        else:
            out.print(f"[green]{escape(str(path))}: valid[/] ({len(model.environments)} environments, "
                      f"{len(model.databases)} databases, {len(model.dns)} DNS records)")
    if model is None:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    from dr.cli import discover

    discover.register(config_app)  # config discover, config diff
    app.add_typer(config_app, name="config")
