"""Discovery as a topology: the document, its YAML with a comment on every entry (where it came from, what needs a
human decision), and a JSON report for scripts."""

from __future__ import annotations

from typing import Any

import yaml

from dr.config.findings import Finding
from dr.config.validate import validate
from dr.discover import readiness
from dr.discover.model import Discovery, FoundDatabase, FoundRecord

HEADER = "# Written by drctl config discover: read from AWS, every entry says where it came from.\n"


def document(found: Discovery) -> dict[str, Any]:
    """The topology document (what `drctl config validate` reads)."""
    envs = {name: env.entry() for name, env in found.environments.items()}
    doc: dict[str, Any] = {"version": 1, "environments": envs,
                           "databases": [_database(db, found) for db in found.databases],
                           "dns": [_record(r) for r in found.records]}
    doc["readiness"] = readiness.sections(found.readiness)
    return doc


def _database(db: FoundDatabase, found: Discovery) -> dict[str, Any]:
    def loc(env: str, region: str, ident: str) -> dict[str, str]:
        home = found.environments[env].region
        return {"env": env, **({"region": region} if region != home else {}), "id": ident}

    out: dict[str, Any] = {"name": db.name, "engine": db.engine.value}
    if db.global_cluster_id:
        out["global_cluster_id"] = db.global_cluster_id
    out["primary"] = loc(db.primary.env, db.primary.region, db.primary.id)
    out["replica"] = loc(db.replica.env, db.replica.region, db.replica.id)
    return out


def _record(r: FoundRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"zone_id": r.zone_id, "env": r.env, "name": r.name, "type": r.type, "ttl": r.ttl,
                           "strategy": r.strategy, "targets": dict(r.targets)}
    if r.health_checks:
        out["health_checks"] = dict(r.health_checks)
    if r.arc:
        out["arc"] = dict(r.arc)
    return out


def check(found: Discovery) -> list[Finding]:
    """Validation's findings on the document (errors would mean discovery wrote something drctl refuses)."""
    return validate(document(found))[1]


def to_yaml(found: Discovery) -> str:
    doc = document(found)
    lines = [HEADER.rstrip("\n")]
    lines += _comment_block("Needs a human decision", found.decisions or ["nothing"])
    lines += _comment_block("Naming patterns used to pair record values with their other side",
                            found.patterns or ["none (no simple record was paired)"])
    lines += _comment_block("Input problems (as `drctl config validate` reports them)",
                            [f"{f.path}: {f.message} ({f.hint})" for f in found.findings]) if found.findings else []
    lines += ["# objectives: drctl's defaults (rto 15m, rpo 5m); set yours here.", "version: 1", "", "environments:"]
    for name, spec in doc["environments"].items():
        lines.append(f"  # {name}: from {found.environments[name].source}")
        lines.append(f"  {name}: {_flow(spec)}")
    lines += ["", "databases:" + ("" if doc["databases"] else " []")]
    for entry, db in zip(doc["databases"], found.databases, strict=True):
        lines += [f"  # {db.source}", *[f"  # DECIDE: {n}" for n in db.notes], *_item(entry)]
    lines += ["", "dns:" + ("" if doc["dns"] else " []")]
    for entry, rec in zip(doc["dns"], found.records, strict=True):
        lines += [f"  # {rec.source}", *[f"  # DECIDE: {n}" for n in rec.notes], *_item(entry)]
    lines += _skipped(found)
    lines += ["", *_readiness(doc["readiness"], found)]
    return "\n".join(lines) + "\n"


def _comment_block(title: str, items: list[str]) -> list[str]:
    return [f"# {title}:", *[f"#   - {item}" for item in items]]


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=100_000).strip()


def _item(entry: dict[str, Any]) -> list[str]:
    text = yaml.safe_dump([entry], sort_keys=False, default_flow_style=None, width=120)
    return ["  " + line for line in text.rstrip("\n").splitlines()]


def _skipped(found: Discovery) -> list[str]:
    if not found.skipped_records:
        return []
    return ["  # Records of the zones read that are not proposed (add them by hand if they take part in DR):",
            *[f"  #   {s.name} {s.type} in {s.zone_id}: {s.reason}" for s in found.skipped_records]]


def _readiness(section: dict[str, Any], found: Discovery) -> list[str]:
    lines = ["# readiness: linked = a DR-side record target (a load balancer) leads to it. min_running and",
             "# min_in_service are the service's desired count and the group's MinSize: DECIDE what the DR side needs."]
    if section:
        lines += ["readiness:"] + ["  " + line for line in yaml.safe_dump(
            section, sort_keys=False, default_flow_style=None, width=120).rstrip("\n").splitlines()]
    else:
        lines.append("readiness: {}")
    suggestions = [e for e in found.readiness if not e.linked]
    if suggestions:
        lines.append("# Suggestions (in the DR environment, no record target seen leading to them): move the ones "
                     "the DR side needs into readiness.")
        lines += [f"#   {e.env}: {e.kind} {e.name}" + (f" (capacity {e.capacity})" if e.kind != "eks" else "")
                  for e in suggestions]
    return lines


def to_json(found: Discovery) -> dict[str, Any]:
    findings = check(found)
    return {
        "topology": document(found),
        "valid": not any(f.severity == "error" for f in findings),
        "validation": [f.to_dict() for f in findings],
        "sources": {"environments": {n: e.source for n, e in found.environments.items()},
                    "databases": {db.name: db.source for db in found.databases},
                    "dns": {f"{r.zone_id} {r.name} {r.type}": r.source for r in found.records}},
        "decisions": found.decisions,
        "patterns": found.patterns,
        "skipped_records": [s.__dict__ for s in found.skipped_records],
        "readiness_suggestions": [e.__dict__ for e in found.readiness if not e.linked],
        "input_findings": [f.to_dict() for f in found.findings],
        "calls": found.calls,
    }
