"""Which regions AWS has, from botocore's own endpoint data (no hand-written list to go stale)."""

from __future__ import annotations

import difflib
from functools import lru_cache


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region of every partition botocore knows."""
    import botocore.session

    data = botocore.session.get_session().get_data("endpoints")
    return frozenset(region for part in data["partitions"] for region in part.get("regions", {}))


def region_hint(region: str) -> str:
    """A fix hint for an unknown region: the closest real names."""
    close = difflib.get_close_matches(region, sorted(known_regions()), n=3, cutoff=0.6)
    suggestion = f"did you mean {' or '.join(close)}? " if close else ""
    return f"{suggestion}AWS regions are listed by `aws ec2 describe-regions --all-regions`"
