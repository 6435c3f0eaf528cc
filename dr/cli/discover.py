"""`drctl config discover` (a topology from AWS) and `drctl config diff` (where dr.yaml and AWS disagree)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, console, print_json

if TYPE_CHECKING:
    from dr.discover.model import Discovery


class Format(StrEnum):
    YAML = "yaml"
    JSON = "json"


EnvOpt = Annotated[list[str] | None, typer.Option(
    "--env", metavar="NAME=ACCOUNT:REGION",
    help="An environment to read (repeatable), e.g. prod=111111111111:eu-central-1.")]
DrForOpt = Annotated[list[str] | None, typer.Option(
    "--dr-for", metavar="DR=SOURCE", help="DR is the DR side of SOURCE, e.g. qa=prod (default: inferred and said).")]
ZoneOpt = Annotated[list[str] | None, typer.Option(
    "--zone", metavar="ZONE_ID", help="A hosted zone whose records to propose as dns entries (repeatable).")]
TerragruntOpt = Annotated[Path | None, typer.Option(
    "--from-terragrunt", metavar="DIR", help="Name environments, accounts and regions from account.hcl / region.hcl "
                                              "files under DIR (--env wins for the same name).")]
RoleOpt = Annotated[str, typer.Option(
    "--role-name", help="Role assumed in each account (arn:aws:iam::ACCOUNT:role/NAME); '' for your own credentials.")]
FormatOpt = Annotated[Format, typer.Option("--output", "-o", help="yaml: the topology, commented; json: a report.")]
WriteOpt = Annotated[Path | None, typer.Option("--write", metavar="PATH", help="Write the YAML topology to PATH.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Let --write replace an existing file.")]


def discover_cmd(*, env: EnvOpt = None, dr_for: DrForOpt = None, zone: ZoneOpt = None,
                 from_terragrunt: TerragruntOpt = None, role_name: RoleOpt = "drctl",
                 output: FormatOpt = Format.YAML, write: WriteOpt = None, force: ForceOpt = False) -> None:
    """Read AWS (read-only) and print a topology: database pairs, dns entries, readiness, with a comment on every
    entry saying where it came from and what needs a human decision. Exit 0; 1 when AWS refused a read or the result
    does not validate; 2 on a usage error (nothing read, nothing written)."""
    from dr.cli.common import write_error
    from dr.errors import DrError

    try:
        if write is not None:
            _check_target(write, force)
        found = _discover(env or [], dr_for or [], zone or [], from_terragrunt, role_name)
    except DrError as err:
        write_error(err)
        raise typer.Exit(err.exit_code) from None
    _emit(found, output, write)


def _check_target(path: Path, force: bool) -> None:
    """A --write target is a file in an existing directory, replaced only with --force (checked before any read)."""
    from dr.errors import UsageError

    if path.is_dir():
        raise UsageError(f"--write {path}: is a directory; name the file to write, e.g. {path / 'dr.yaml'}")
    if not path.parent.is_dir():
        raise UsageError(f"--write {path}: directory {path.parent} does not exist; create it or choose another path")
    if path.exists() and not force:
        raise UsageError(f"--write {path}: the file exists; pass --force to replace it, or choose another path")


def _discover(envs: list[str], dr_for: list[str], zones: list[str], tree_dir: Path | None, role_name: str) -> Any:
    from dr.aws.factory import ClientFactory
    from dr.discover.inputs import apply_dr_for, merge, parse_env, skeleton, usable
    from dr.discover.run import discover

    given = [parse_env(text) for text in envs]
    read, dr_regions, notes = [], [], []
    if tree_dir is not None:
        from dr.discover.terragrunt import read_tree

        tree = read_tree(tree_dir)
        read, dr_regions, notes = tree.envs, list(tree.dr_regions.values()), tree.notes
    specs, findings = usable(apply_dr_for(merge(given, read), dr_for))
    if not specs:
        from dr.errors import UsageError

        raise UsageError("no environment in a real AWS region to discover: " + "; ".join(f.message for f in findings))
    clients = ClientFactory(skeleton(specs, role_name), run_id="discover")
    found = _aws_errors(lambda: discover(specs, clients, zones=zones, findings=findings,
                                         dr_regions=_real(dr_regions)))
    found.decisions = notes + found.decisions
    return found


def _real(regions: list[str]) -> list[str]:
    from dr.config.regions import known_regions

    return [r for r in regions if r in known_regions()]


def _aws_errors(read: Any) -> Any:
    """AWS's refusals and unreachable endpoints as a DrError saying which call, and what to check."""
    from botocore.exceptions import BotoCoreError, ClientError

    from dr.aws.errors import describe
    from dr.errors import DrError

    try:
        return read()
    except (ClientError, BotoCoreError) as err:
        raise DrError(f"discovery stopped: {describe(err)}; check the accounts and regions given and that the role "
                      "can read RDS, Route53, EKS, ECS, Auto Scaling and ELB (nothing was changed)") from None


def _emit(found: Discovery, output: Format, write: Path | None) -> None:
    from dr.discover.render import check, to_json, to_yaml

    text = to_yaml(found)
    if write is not None:
        tmp = write.with_name(f".{write.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(write)
        console(stderr=True).print(f"wrote {write}", markup=False)
    if output is Format.JSON:
        print_json(to_json(found))
    elif write is None:
        typer.echo(text, nl=False)
    errors = [f for f in check(found) if f.severity == "error"]
    for finding in errors:
        console(stderr=True).print(f"discovered topology is invalid: {finding}", markup=False)
    for finding in found.findings:
        console(stderr=True).print(str(finding), markup=False)
    if errors:
        raise typer.Exit(1)


def diff_cmd(config: ConfigOpt = None, output: OutputOpt = Output.TEXT) -> None:
    """Compare the topology with what AWS has now: a replica the topology lacks, a copy that no longer exists, a
    record that points elsewhere. Read-only; exit 0 in sync, 1 with the differences, 2 on a configuration error."""
    from dr.aws.factory import ClientFactory
    from dr.cli.common import load_topology, write_error
    from dr.discover.drift import detect_drift
    from dr.errors import DrError

    try:
        topology = load_topology(config)
        items, _ = _aws_errors(lambda: detect_drift(topology, ClientFactory(topology, run_id="diff")))
    except DrError as err:
        write_error(err)
        raise typer.Exit(err.exit_code) from None
    if output is Output.JSON:
        print_json({"in_sync": not items, "differences": [d.to_dict() for d in items]})
    else:
        out = console()
        for d in items:
            out.print(f"{d.kind}: {d.path}: {d.message}\n    fix: {d.hint}", markup=False)
        out.print("in sync with AWS" if not items else f"{len(items)} difference(s) with AWS", markup=False)
    if items:
        raise typer.Exit(1)


def register(group: typer.Typer) -> None:
    group.command("discover")(discover_cmd)
    group.command("diff")(diff_cmd)
