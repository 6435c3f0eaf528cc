"""Step Functions' ListTagsForResource in the sandbox: a state machine that does not exist is an error, as on AWS.

AWS (Step Functions API Reference, "ListTagsForResource",
https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListTagsForResource.html): errors `InvalidArn`
and `ResourceNotFound` ("Could not find the referenced resource"). moto answers an empty tag list for any ARN, so
"no machine deployed" and "a machine without tags" could not be told apart (plan evaluation's `engine` check and
readiness's `state-machine` line read the tags of drctl's machines). Here a state machine ARN naming no machine
raises ResourceNotFound; other ARNs (activities) are moto's.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard


def install() -> None:
    from moto.stepfunctions.models import StepFunctionBackend

    _guard.replace(StepFunctionBackend, "list_tags_for_resource", _list_tags_for_resource, ["arn"])


def _list_tags_for_resource(self: Any, arn: str) -> Any:
    from moto.stepfunctions.exceptions import ResourceNotFound

    if ":stateMachine:" in arn and not any(m.arn == arn for m in self.state_machines):
        raise ResourceNotFound(arn)
    return _guard.original(type(self), "list_tags_for_resource")(self, arn)
