"""Step Functions' JSONPath in the sandbox: a definite path yields its one value, as on AWS.

AWS evaluates the paths of a state machine (InputPath, `.$` fields, Choice variables, intrinsic arguments) with
Jayway JsonPath (Step Functions Developer Guide, "Using JSONPath paths"): a definite path - only names and single
indexes, e.g. `$.sets[2].SetIdentifier` - yields one value; an indefinite one (filter, wildcard, slice, deep scan)
yields an array. moto's interpreter wraps a definite path that passes through an index in an array
(`["id"]` instead of `"id"`); here such a path yields its value, every other path is moto's.

Paths are parsed one at a time (and each once): jsonpath-ng's parser (PLY) is not thread-safe, and the
interpreter runs Map iterations and Parallel branches in threads (seen as sporadic `States.Runtime` failures of a
Map); moto's two callers of it (path extraction, ResultPath) get the guarded parser.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from dr.sandbox.extensions import _guard

MODULE = "moto.stepfunctions.parser.asl.utils.json_path"
PARSERS = (MODULE, "moto.stepfunctions.parser.asl.component.common.path.result_path")
IMPORTERS = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators",
    "moto.stepfunctions.parser.asl.eval.states",
)
_INDEFINITE = re.compile(r"\?\(|\*|\.\.|\[[^\]]*[:,][^\]]*\]")
_ORIGINAL: list[Any] = []
_LOCK = threading.Lock()


def install() -> None:
    """Applied before the first execution starts (the interpreter's modules take about a second to import)."""
    from dr.sandbox.extensions import sfn_tasks

    if patch not in sfn_tasks.ON_FIRST_EXECUTION:
        sfn_tasks.ON_FIRST_EXECUTION.append(patch)


def patch() -> None:
    import importlib

    modules = [importlib.import_module(name) for name in (MODULE, *IMPORTERS)]  # all loaded before any is patched
    source = modules[0]
    current = getattr(source, "extract_json", None)
    if current is None:
        raise _guard.shape_error(f"{MODULE}.extract_json no longer exists")
    if _guard.is_patched(current):
        return
    _guard.expect_params(current, ["path", "data"], f"{MODULE}.extract_json")
    _ORIGINAL.append(current)
    setattr(extract_json, "__drctl_sandbox__", True)  # noqa: B010  # the guard's mark
    for module in modules:
        if getattr(module, "extract_json", None) is not current:
            raise _guard.shape_error(f"{module.__name__} no longer imports extract_json from {MODULE}")
    parsers = [importlib.import_module(name) for name in PARSERS]
    import jsonpath_ng
    from jsonpath_ng import ext

    known = {jsonpath_ng.parse, ext.parse}  # type: ignore[attr-defined]
    for module in parsers:
        if getattr(module, "parse", None) not in known:
            raise _guard.shape_error(f"{module.__name__} no longer parses with jsonpath_ng")
    for module in modules:
        module.extract_json = extract_json  # type: ignore[attr-defined]
    for module in parsers:
        module.parse = guarded(module.parse)  # type: ignore[attr-defined]


def definite(path: str) -> bool:
    """Only names and single indexes (Jayway's definite path)."""
    return not _INDEFINITE.search(path)


def guarded(parser: Any) -> Any:
    """`parser` (a jsonpath-ng parse), one caller at a time; each path parsed once (the result is only read)."""
    cached = functools.lru_cache(maxsize=4096)(parser)

    def parse(path: str) -> Any:
        with _LOCK:
            return cached(path)

    return parse


_EXT_PARSE: list[Any] = []


def extract_json(path: str, data: Any) -> Any:
    if definite(path):
        if not _EXT_PARSE:
            from jsonpath_ng import ext

            _EXT_PARSE.append(guarded(ext.parse))  # type: ignore[attr-defined]
        matches = _EXT_PARSE[0](path).find(data)
        if len(matches) == 1:
            return matches[0].value
    return _ORIGINAL[0](path, data)
