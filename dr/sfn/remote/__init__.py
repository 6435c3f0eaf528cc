"""drctl's cross-region caller: a small Lambda function the state machine invokes for the calls its AWS SDK
integrations cannot make (another region, an ARC cluster endpoint, a presigned request). `handler.py` is the
function's code (stdlib + boto3 only); `package.py` builds its zip; `deploy.py` creates it and its role.

AWS (Step Functions Developer Guide, "Learning to use AWS service SDK integrations"): an SDK integration calls the
service in the state machine's own region; a call elsewhere needs a function of one's own (what AWS CDK's
`CallAwsServiceCrossRegion` deploys).
"""

from __future__ import annotations

CALLER_PLACEHOLDER = "drctl-cross-region-caller"
"""FunctionName the Task builder writes; the generator binds it to the machine's own caller (`function_name`)."""
HANDLER = "drctl_caller.handler"
"""The function's handler: module `drctl_caller` (handler.py, shipped under that name) and its `handler`."""
CALLER_TAG = "drctl:caller-sha256"
"""Tag on the function: the hash of its zip (a redeploy of the same code changes nothing)."""
ALLOWLIST_ENV = "DRCTL_ALLOWED_CALLS"
"""The function's environment variable: the comma-separated `service:Action` calls it may make."""
LAMBDA_TRANSIENT = ("Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
                    "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException")
"""Lambda's own transient errors, retried (Step Functions Developer Guide, "Handle Lambda service exceptions")."""


def function_name(runbook: str, source: str, target: str) -> str:
    """`drctl-call-failover-prod-to-qa`: one caller per state machine, allowed exactly that machine's calls."""
    return f"drctl-call-{runbook}-{source}-to-{target}"[:64]


def role_name(runbook: str, source: str, target: str) -> str:
    return f"drctl-call-{runbook}-{source}-to-{target}"[:64]
