# Sourced by test.sh: the SAM template checks, offline. Needs ensure_sam_venv (lib.sh).
check_template() {
  ensure_sam_venv
  echo "== sam validate --lint"
  "$SAM" validate --lint --template-file "$ROOT/template.yaml"
  echo "== cfn-lint template.yaml"
  "$CFN_LINT" "$ROOT/template.yaml"
  echo "== template.yaml: least-privilege function policies"
  "$SAM_VENV/bin/python" - "$ROOT/template.yaml" <<'PY'
import sys
from cfnlint.decode import decode
template, errors = decode(sys.argv[1])
if errors:
    sys.exit(f"template.yaml does not parse: {errors}")
problems = []
functions = {name: r for name, r in template["Resources"].items()
             if r["Type"] == "AWS::Serverless::Function"}
if not functions:
    problems.append("no functions")
for name, resource in functions.items():
    policies = resource["Properties"].get("Policies")
    if not isinstance(policies, list) or not policies:
        problems.append(f"{name}: no inline policy")
        continue
    for policy in policies:
        if not isinstance(policy, dict) or "Statement" not in policy:
            problems.append(f"{name}: {policy!r} is not an inline policy document (no SAM policy templates)")
            continue
        for statement in policy["Statement"]:
            sid = statement.get("Sid")
            if not sid:
                problems.append(f"{name}: a statement without a Sid")
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if "NotAction" in statement or any("*" in a for a in actions):
                problems.append(f"{name}/{sid}: wildcard or NotAction in {actions}")
            if statement.get("Effect") != "Allow":
                problems.append(f"{name}/{sid}: not an Allow statement")
            if statement.get("Resource") == "*":
                problems.append(f"{name}/{sid}: Resource *")
            # Every DynamoDB statement names the key prefixes it may touch.
            if any(a.startswith("dynamodb:") for a in actions):
                leading = (statement.get("Condition", {}).get("ForAllValues:StringLike", {})
                           .get("dynamodb:LeadingKeys"))
                if not leading:
                    problems.append(f"{name}/{sid}: DynamoDB actions without a dynamodb:LeadingKeys condition")
# A function invoked asynchronously (SNS) keeps the events it fails on: an on-failure destination
# (or a dead-letter queue), never Lambda's default of dropping them after two retries.
for name, resource in functions.items():
    properties = resource["Properties"]
    asynchronous = [e for e in properties.get("Events", {}).values() if e.get("Type") == "SNS"]
    on_failure = (properties.get("EventInvokeConfig", {}).get("DestinationConfig", {})
                  .get("OnFailure", {}))
    if asynchronous and not (on_failure.get("Destination") or properties.get("DeadLetterQueue")):
        problems.append(f"{name}: invoked by SNS without an on-failure destination or dead-letter queue")
# A topic a service publishes to admits that service for this stack's resource only.
topic_policies = 0
for name, resource in template["Resources"].items():
    if resource["Type"] != "AWS::SNS::TopicPolicy":
        continue
    topic_policies += 1
    for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
        if "Service" not in statement.get("Principal", {}):
            continue
        keys = {key.lower() for test in statement.get("Condition", {}).values() for key in test}
        for wanted in ("aws:sourcearn", "aws:sourceaccount"):
            if wanted not in keys:
                problems.append(f"{name}/{statement.get('Sid')}: a service may publish without {wanted}")
if problems:
    sys.exit("template.yaml:\n  " + "\n  ".join(problems))
print(f"{len(functions)} functions, every statement named, no wildcard action or resource, "
      "every DynamoDB statement limited by dynamodb:LeadingKeys, every SNS-invoked function with "
      f"an on-failure destination; {topic_policies} topic policies, each service publisher "
      "limited by aws:SourceArn and aws:SourceAccount")
PY
}
