"""The environments discovery reads: `--env NAME=ACCOUNT:REGION`, `--dr-for DR=SOURCE`, or a Terragrunt tree."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from dr.aws.rds import partition_of
from dr.config.findings import Finding, name_list
from dr.config.model import Environment, Topology
from dr.config.regions import known_regions, region_hint
from dr.errors import UsageError

DEFAULT_ROLE_NAME = "drctl"
"""The role assumed in each account (`arn:aws:iam::ACCOUNT:role/drctl`), as in the example topology."""

_ENV = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)=(?P<account>[^:]+):(?P<region>.+)$")


@dataclass(frozen=True)
class EnvSpec:
    """One environment to read: where its account and home region are, and which one it is the DR side of."""

    name: str
    account_id: str
    region: str
    dr_for: str | None = None
    source: str = "--env"


def parse_env(text: str) -> EnvSpec:
    """`prod=111111111111:eu-central-1` -> EnvSpec; UsageError naming the problem otherwise."""
    found = _ENV.match(text.strip())
    if not found:
        raise UsageError(f"--env {text!r}: expected NAME=ACCOUNT:REGION, e.g. --env prod=111111111111:eu-central-1")
    name, account, region = found["name"], found["account"], found["region"]
    if not re.fullmatch(r"\d{12}", account):
        raise UsageError(f"--env {text!r}: account {account!r} is not a 12-digit AWS account id")
    if region not in known_regions():
        raise UsageError(f"--env {text!r}: region {region!r} does not exist in AWS; {region_hint(region)}")
    return EnvSpec(name, account, region)


def apply_dr_for(specs: Sequence[EnvSpec], pairs: Iterable[str]) -> list[EnvSpec]:
    """Set `dr_for` from `--dr-for DR=SOURCE` options; both must be environments given, and differ."""
    by_name = {s.name: s for s in specs}
    for text in pairs:
        dr, sep, source = text.partition("=")
        if not sep or not dr or not source:
            raise UsageError(f"--dr-for {text!r}: expected DR=SOURCE, e.g. --dr-for qa=prod")
        for name in (dr, source):
            if name not in by_name:
                raise UsageError(f"--dr-for {text!r}: environment {name!r} is not given; "
                                 f"environments: {name_list(by_name) or 'none'} (add --env {name}=ACCOUNT:REGION)")
        if dr == source:
            raise UsageError(f"--dr-for {text!r}: an environment cannot be the DR side of itself")
        by_name[dr] = replace(by_name[dr], dr_for=source)
    return [by_name[s.name] for s in specs]


def merge(given: Sequence[EnvSpec], read: Sequence[EnvSpec]) -> list[EnvSpec]:
    """`--env` options over environments read from Terragrunt (same name: the option wins)."""
    names = {s.name for s in given}
    out = [s for s in read if s.name not in names] + list(given)
    if not out:
        raise UsageError("no environments to discover: pass --env NAME=ACCOUNT:REGION (at least one) or "
                         "--from-terragrunt DIR")
    seen: dict[str, str] = {}
    for spec in given:
        if spec.name in seen:
            raise UsageError(f"--env {spec.name} is given twice; give each environment once")
        seen[spec.name] = spec.account_id
    return out


def usable(specs: Sequence[EnvSpec]) -> tuple[list[EnvSpec], list[Finding]]:
    """The environments in real regions, and a finding (validation's words) for each one that is not."""
    keep: list[EnvSpec] = []
    findings: list[Finding] = []
    for spec in specs:
        if spec.region in known_regions():
            keep.append(spec)
            continue
        findings.append(Finding(f"environments.{spec.name}.region",
                                f"region {spec.region!r} does not exist in AWS (read from {spec.source}); "
                                f"{spec.name} is left out of discovery", region_hint(spec.region)))
    return keep, findings


def role_arn(account_id: str, region: str, role_name: str) -> str | None:
    return f"arn:{partition_of(region)}:iam::{account_id}:role/{role_name}" if role_name else None


def skeleton(specs: Sequence[EnvSpec], role_name: str) -> Topology:
    """A topology of environments only: what the client factory needs to assume each env's role."""
    environments = {s.name: Environment(account_id=s.account_id, region=s.region,
                                        role_arn=role_arn(s.account_id, s.region, role_name),
                                        dr_for=s.dr_for if s.dr_for in {x.name for x in specs} else None)
                    for s in specs}
    return Topology(version=1, environments=environments)
