"""`drctl config validate`: every finding of the topology file, exit 2 when invalid."""

from __future__ import annotations

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, console, print_json

config_app = typer.Typer(help="Check the topology file.", no_args_is_help=True)


@config_app.command("validate")
def validate_cmd(config: ConfigOpt = None, output: OutputOpt = Output.TEXT) -> None:
    """Check the topology file: structure, references, and facts of AWS. Exit 0 valid, 2 invalid."""
    from dr.config import check_file, config_path

    path = config_path(config)
    model, findings = check_file(path)
    errors = [f for f in findings if f.severity == "error"]
    if output is Output.JSON:
        print_json({"config": str(path), "valid": model is not None,
                    "errors": len(errors), "findings": [f.to_dict() for f in findings]})
    else:
        out = console(stderr=model is None)
        for f in findings:
            out.print(f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/]: "
                      f"[bold]{f.path or path}[/]: {f.message}")
            if f.hint:
                out.print(f"    fix: {f.hint}")
        if model is None:
            out.print(f"[red]{path}: invalid, {len(errors)} error(s)[/]")
        else:
            out.print(f"[green]{path}: valid[/] ({len(model.environments)} environments, "
                      f"{len(model.databases)} databases, {len(model.dns)} DNS records)")
    if model is None:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
