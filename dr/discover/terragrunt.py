"""Environments, accounts and regions from a Terragrunt tree: `<env>/account.hcl` and `<env>/<region>/region.hcl`.

The layout is Terragrunt's usual one: `account.hcl` holds `locals { account_id, environment, dr_accounts }`,
`region.hcl` below it `locals { region, dr_region }`. Values are read as written (no function is evaluated); a
region that does not exist in AWS is kept here and reported by `inputs.usable` as validation reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dr.discover.inputs import EnvSpec
from dr.errors import UsageError

MAX_FILES = 1000
"""account.hcl / region.hcl files read at most: a seed tree has a handful; more means the wrong directory."""


@dataclass
class TerragruntTree:
    """What the tree says: environments (with dr_for from `dr_accounts`), DR regions, and what was ambiguous."""

    envs: list[EnvSpec] = field(default_factory=list)
    dr_regions: dict[str, str] = field(default_factory=dict)
    """env -> the `dr_region` its region.hcl names."""
    notes: list[str] = field(default_factory=list)


def read_tree(root: Path) -> TerragruntTree:
    """Read every account.hcl under `root` and the region.hcl files below each; UsageError when there are none."""
    if not root.is_dir():
        raise UsageError(f"--from-terragrunt {root}: not a directory; pass the root of the Terragrunt tree "
                         "(the directory holding <env>/account.hcl)")
    accounts = sorted(root.rglob("account.hcl"))[:MAX_FILES]
    if not accounts:
        raise UsageError(f"--from-terragrunt {root}: no account.hcl below it; pass the root of the Terragrunt tree")
    tree = TerragruntTree()
    dr_accounts: dict[str, dict[str, Any]] = {}
    for path in accounts:
        local = _locals(path)
        env = _text(local.get("environment")) or path.parent.name
        account = _text(local.get("account_id"))
        if not account:
            tree.notes.append(f"{path}: no locals.account_id; {env} left out")
            continue
        regions = sorted(p for p in path.parent.rglob("region.hcl"))[:MAX_FILES]
        if not regions:
            tree.notes.append(f"{path}: no region.hcl below {path.parent}; {env} left out (pass --env {env}=...)")
            continue
        region_locals = _locals(regions[0])
        region = _text(region_locals.get("region")) or regions[0].parent.name
        if len(regions) > 1:
            tree.notes.append(f"{env} has {len(regions)} region.hcl files; its home region is taken from "
                              f"{regions[0]} ({region}): pass --env {env}=ACCOUNT:REGION to choose another")
        where = f"{path.relative_to(root)} + {regions[0].relative_to(root)}"
        tree.envs.append(EnvSpec(env, account, region, source=where))
        if dr_region := _text(region_locals.get("dr_region")):
            tree.dr_regions[env] = dr_region
        if isinstance(local.get("dr_accounts"), dict):
            dr_accounts[env] = local["dr_accounts"]
    tree.envs = _with_dr_for(tree, dr_accounts)
    return tree


def _with_dr_for(tree: TerragruntTree, dr_accounts: dict[str, dict[str, Any]]) -> list[EnvSpec]:
    """`dr_accounts = { qa = "222..." }` in prod's account.hcl: qa is the DR side of prod."""
    out = []
    for spec in tree.envs:
        sources = [src for src, named in dr_accounts.items()
                   if spec.name in named and _text(named[spec.name]) in (spec.account_id, "")]
        if len(sources) > 1:
            tree.notes.append(f"{spec.name} is named in dr_accounts of {', '.join(sources)}; dr_for left unset")
        out.append(EnvSpec(spec.name, spec.account_id, spec.region,
                           dr_for=sources[0] if len(sources) == 1 else None, source=spec.source))
    return out


def _locals(path: Path) -> dict[str, Any]:
    """The `locals` block of an HCL file, merged (python-hcl2 gives a list of blocks)."""
    import hcl2

    try:
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle)
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {path}: {err}") from None
    except Exception as err:  # lark's parse errors have no common public base worth depending on
        raise UsageError(f"{path} is not valid HCL: {str(err).splitlines()[0] if str(err) else err!r}") from None
    merged: dict[str, Any] = {}
    blocks = parsed.get("locals") if isinstance(parsed, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict):
            merged.update({k: v for k, v in block.items() if not k.startswith("__")})
    return merged


def _text(value: Any) -> str:
    """A string value as written: python-hcl2 8 keeps the quotes of string literals, 7 does not."""
    if not isinstance(value, str | int):
        return ""
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text
