"""The embedded AWS sandbox: moto with drctl's fidelity extensions, a control API and a server.

Importing this package is cheap (no moto); `install()` patches moto in this process,
`dr.sandbox.server.start_server()` runs the server, `dr.sandbox.control` controls either.
"""

from __future__ import annotations

from dr.sandbox.control import HttpControl, LocalControl, SandboxControl, SandboxControlError

__all__ = ["HttpControl", "LocalControl", "SandboxControl", "SandboxControlError", "install"]


def install() -> None:
    """Apply the fidelity extensions to moto in this process (idempotent; checks moto's version)."""
    from dr.sandbox.extensions import install as _install

    _install()
