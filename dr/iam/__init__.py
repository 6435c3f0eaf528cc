"""Least privilege: the IAM permissions drctl's steps declare, the policies generated from them, a policy
evaluator, and a permission check through IAM's policy simulator. See docs/iam.md."""

from __future__ import annotations

from dr.iam.grants import Grant, declared

__all__ = ["Grant", "declared"]
