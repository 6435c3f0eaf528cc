"""An encrypted cross-Region replica needs `KmsKeyId`, a key of the destination Region.

AWS (RDS API Reference, CreateDBInstanceReadReplica, `KmsKeyId`: "If you create an encrypted read replica in a
different AWS Region, then you must specify a KMS key identifier for the destination AWS Region. KMS keys are
specific to the AWS Region that they are created in"; CreateDBCluster, `KmsKeyId`: "If you create a read replica
of an encrypted DB cluster in another AWS Region, make sure to set KmsKeyId to a KMS key identifier that is
valid in the destination AWS Region"):
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html

moto copies the source's key (of another region) onto the replica and creates a replica cluster unencrypted.
Here: no key for an encrypted cross-Region source is `InvalidParameterCombination`; a key that is not in the
destination region (or does not exist) is `KMSKeyNotAccessibleFault`; the replica reports the key's ARN and is
encrypted, as in AWS.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _replica_hooks


def install() -> None:
    _replica_hooks.register(_replica_hooks.INSTANCE_REPLICA, _instance_replica)
    _replica_hooks.register(_replica_hooks.CLUSTER_REPLICA, _cluster_replica)


def _refuse(kind: str, identifier: str, source: str) -> Exception:
    from moto.rds.exceptions import RDSClientError

    return RDSClientError("InvalidParameterCombination",
                          f"Cannot create the cross-Region {kind} {identifier}: the source {source} is encrypted, "
                          "so KmsKeyId must name a KMS key of the destination Region.")


def destination_key(backend: Any, key_id: str) -> str:
    """The ARN of `key_id` (key or alias, id or ARN) in the backend's own region; else KMSKeyNotAccessibleFault."""
    from moto.rds.exceptions import KMSKeyNotAccessibleFault

    try:
        return str(backend._validate_kms_key(key_id))  # moto checks region and existence
    except (KeyError, AttributeError):  # moto's KMS answers an unknown alias with None
        raise KMSKeyNotAccessibleFault(key_id) from None


def _instance_replica(backend: Any, kwargs: dict[str, Any], source: Any) -> None:
    if not (source.storage_encrypted and _replica_hooks.is_cross_region(backend, source)):
        return
    if not kwargs.get("kms_key_id"):
        raise _refuse("read replica", kwargs["db_instance_identifier"], source.db_instance_arn)
    kwargs["kms_key_id"] = destination_key(backend, kwargs["kms_key_id"])


def _cluster_replica(backend: Any, kwargs: dict[str, Any], source: Any) -> None:
    if not (source.storage_encrypted and _replica_hooks.is_cross_region(backend, source)):
        return
    if not kwargs.get("kms_key_id"):
        raise _refuse("replica cluster", kwargs["db_cluster_identifier"], source.db_cluster_arn)
    kwargs["kms_key_id"] = destination_key(backend, kwargs["kms_key_id"])
    kwargs["storage_encrypted"] = True
