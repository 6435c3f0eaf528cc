"""Property tests (hypothesis): random YAML structures, random bytes and random option values never end in a
traceback; an invalid input is exit 2 naming it, and no AWS client is made."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dr.config import check_file
from dr.config.regions import known_regions
from tests.fake_runbooks import EXAMPLE
from tests.hostile_support import assert_refused, drctl

pytestmark = pytest.mark.usefixtures("no_aws")

# Modest and without deadlines: the suite stays lean and a slow CI machine does not make them flaky. The fixtures
# (fake credentials, a state dir, the no-AWS guard) hold for every example, so sharing them is safe.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

C = str(EXAMPLE)
FAILOVER = ["failover", "--to", "qa", "--yes", "-c", C]
EXAMPLE_DOC: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
KEYS = ["version", "environments", "databases", "dns", "objectives", "readiness", "state", "aws", "prod", "qa",
        "account_id", "region", "role_arn", "dr_for", "name", "engine", "primary", "replica", "env", "id", "rto",
        "rpo", "zone_id", "record", "strategy", "targets", "promotion_budget", "replica_settings"]
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT | st.sampled_from(KEYS)
           | st.sampled_from(["eu-west-1", "mars-1", "5m", "-1", "111111111111", "rds-instance", "aurora-global"]))
keys = st.sampled_from(KEYS) | TEXT | st.integers(min_value=-5, max_value=5) | st.booleans()
structures = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                          | st.dictionaries(keys, inner, max_size=6), max_leaves=30)


def _write(data: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(prefix="hostile-", suffix=".yaml", delete=False)  # noqa: SIM115
    with handle:
        handle.write(data)
    return Path(handle.name)


def _check_validate(path: Path) -> None:
    """`drctl config validate`: 0 for a valid file (the model built), else 2 with the findings; no traceback."""
    try:
        model, findings = check_file(path)
        result = drctl("config", "validate", "-c", str(path))
    finally:
        path.unlink()
    if model is not None:
        assert result.exit_code == 0, result.output
        return
    assert findings, "an invalid file without a finding"
    assert_refused(result, "invalid")


@st.composite
def mutated_example(draw: st.DrawFn) -> Any:
    """The example topology with one value somewhere replaced by a random structure (reaches the deep checks)."""
    doc = copy.deepcopy(EXAMPLE_DOC)
    node: Any = doc
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        children = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
        if not children:
            break
        key = draw(st.sampled_from(children))
        if not isinstance(node[key], dict | list) or draw(st.booleans()):
            node[key] = draw(structures)
            return doc
        node = node[key]
    return doc


class TestConfigLoader:
    @FAST
    @given(structures)
    def test_random_yaml_structures(self, document: Any) -> None:
        """Any YAML structure: config validate exits 0 (valid) or 2 with findings, never a traceback."""
        _check_validate(_write(yaml.safe_dump(document, allow_unicode=True).encode()))

    @FAST
    @given(mutated_example())
    def test_the_example_with_a_random_value_anywhere(self, document: Any) -> None:
        """The example with one field replaced by random data: exit 0 or 2 with findings, never a traceback."""
        _check_validate(_write(yaml.safe_dump(document, allow_unicode=True).encode()))

    @FAST
    @given(st.binary(max_size=2000))
    def test_random_bytes(self, data: bytes) -> None:
        """Random bytes as the topology file: exit 2 naming the file, never a traceback."""
        _check_validate(_write(data))

    @FAST
    @given(st.binary(min_size=1, max_size=200), st.integers(min_value=0, max_value=10_000))
    def test_random_bytes_inside_the_example(self, junk: bytes, where: int) -> None:
        """The example with random bytes spliced in: exit 0 or 2, never a traceback."""
        text = EXAMPLE.read_bytes()
        at = where % len(text)
        _check_validate(_write(text[:at] + junk + text[at:]))

    @FAST
    @given(mutated_example())
    def test_failover_refuses_an_invalid_topology_before_aws(self, document: Any) -> None:
        """A failover given a mutated topology that does not validate: exit 2, no AWS client made."""
        path = _write(yaml.safe_dump(document, allow_unicode=True).encode())
        try:
            assume(check_file(path)[0] is None)
            assert_refused(drctl("failover", "--to", "qa", "--yes", "-c", str(path)), str(path))
        finally:
            path.unlink()


ISO_LIKE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


class TestRunOptions:
    @FAST
    @given(TEXT)
    def test_incident_start(self, value: str) -> None:
        """Random --incident-start text: exit 2 naming it."""
        assume(not ISO_LIKE.search(value))
        assert_refused(drctl(*FAILOVER, f"--incident-start={value}"), f"--incident-start {value!r}")

    @FAST
    @given(st.datetimes(timezones=st.timezones() | st.none()))
    def test_incident_start_any_datetime(self, moment: Any) -> None:
        """Random date-times (naive, or with any zone, from year 1 to 9999): exit 2 unless within the last week."""
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC)
        try:
            recent = moment.tzinfo is not None and timedelta(0) <= now - moment <= timedelta(days=6)
        except OverflowError:
            recent = False
        assume(not recent)
        value = moment.isoformat()
        assert_refused(drctl(*FAILOVER, f"--incident-start={value}"), f"--incident-start {value!r}")

    @FAST
    @given(TEXT)
    def test_simulate_outage(self, value: str) -> None:
        """Random --simulate-outage names: exit 2 naming them."""
        assume(value not in known_regions())
        assert_refused(drctl(*FAILOVER, f"--simulate-outage={value}"), f"--simulate-outage {value!r}")

    @FAST
    @given(TEXT)
    def test_simulate_outage_environment(self, value: str) -> None:
        """Random $DRCTL_SIMULATE_OUTAGE: exit 2 naming the variable (or nothing named: no outage, and here the
        no-AWS guard then refuses the run's clients, so only refusals are drawn)."""
        names = [r.strip() for r in value.split(",") if r.strip()]
        assume(names and any(n not in known_regions() for n in names) and "\0" not in value)
        assert_refused(drctl(*FAILOVER, env={"DRCTL_SIMULATE_OUTAGE": value}), "$DRCTL_SIMULATE_OUTAGE")

    @FAST
    @given(TEXT)
    def test_pushgateway(self, value: str) -> None:
        """Random --pushgateway text: exit 2 naming the option."""
        assume(not re.match(r"(?i)https?://", value))
        assert_refused(drctl(*FAILOVER, f"--pushgateway={value}"), "--pushgateway")

    @FAST
    @given(name=TEXT)
    def test_metrics_file(self, name: str, tmp_path: Path) -> None:
        """Random --metrics-file names in a missing directory: exit 2 naming the option."""
        value = f"{tmp_path}/missing/{name}"
        assert_refused(drctl(*FAILOVER, f"--metrics-file={value}"), "--metrics-file")

    @FAST
    @given(st.integers().filter(lambda n: not 1 <= n <= 65535))
    def test_exporter_port(self, port: int) -> None:
        """Any whole number outside 1..65535 as --port: exit 2 naming it."""
        assert_refused(drctl("exporter", "-c", C, f"--port={port}"), f"--port {port}")

    @FAST
    @given(st.sampled_from(["DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS", "DRCTL_MAX_CONCURRENCY"]), TEXT)
    def test_numeric_hooks(self, name: str, value: str) -> None:
        """Random text in a numeric hook that is not a whole number from 1: exit 2 naming the variable."""
        stripped = value.strip()
        assume("\0" not in value and stripped)
        assume(not (stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= 1_000_000))
        assert_refused(drctl(*FAILOVER, env={name: value}), name)
