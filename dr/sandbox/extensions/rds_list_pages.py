"""RDS cluster and global cluster listings come in pages, as AWS serves them.

AWS, Amazon RDS API Reference, "DescribeDBClusters"
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html) and
"DescribeGlobalClusters" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeGlobalClusters.html):
`MaxRecords` — "If more records exist than the specified MaxRecords value, a pagination token called a marker is
included in the response so you can retrieve the remaining results"; default 100, minimum 20, maximum 100; `Marker`
resumes after it.

moto 5.2 pages `DescribeDBInstances` but answers `DescribeDBClusters` and `DescribeGlobalClusters` with every
cluster at once, whatever MaxRecords says, so a reader that stopped after the first page would pass against moto and
lose clusters against AWS. These two serve pages of MaxRecords (default 100, at most 100; below 20 is
`InvalidParameterValue`, as AWS answers), in moto's order, with a `Marker` naming the first item of the next page.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard


def install() -> None:
    from moto.rds.responses import RDSResponse

    _guard.replace(RDSResponse, "describe_db_clusters", _describe_db_clusters, [])
    _guard.replace(RDSResponse, "describe_global_clusters", _describe_global_clusters, [])


DEFAULT_RECORDS, MIN_RECORDS, MAX_RECORDS = 100, 20, 100
_KEYS = {"DBClusters": "db_cluster_identifier", "GlobalClusters": "global_cluster_identifier"}
"""Result key -> the moto model attribute that identifies an item (the marker)."""


def _paged(self: Any, answer: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import InvalidParameterValue

    size = int(self.params.get("MaxRecords") or DEFAULT_RECORDS)
    if not MIN_RECORDS <= size <= MAX_RECORDS:
        raise InvalidParameterValue(f"Invalid value {size} for MaxRecords. Must be between {MIN_RECORDS} and "
                                    f"{MAX_RECORDS}")
    result = dict(answer.result)
    key = next(k for k in _KEYS if k in result)
    items = list(result[key])
    names = [str(getattr(item, _KEYS[key], "")) for item in items]
    marker = self.params.get("Marker")
    start = names.index(marker) if marker in names else 0
    result[key] = items[start:start + size]
    if start + size < len(items):
        result["Marker"] = names[start + size]
    return ActionResult(result)


def _describe_db_clusters(self: Any) -> Any:
    return _paged(self, _guard.original(type(self), "describe_db_clusters")(self))


def _describe_global_clusters(self: Any) -> Any:
    return _paged(self, _guard.original(type(self), "describe_global_clusters")(self))
