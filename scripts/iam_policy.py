"""IAM policy evaluation for the local emulator (scripts/moto_server.py): the subset of AWS's
identity-based policy logic that the functions' policies in template.yaml use, and no more.

`evaluate(policies, request)` answers "allow", "deny" (an explicit Deny matched) or "implicit"
(nothing allowed it), as AWS's evaluation does for one principal's identity-based policies:
an explicit Deny wins, else any Allow, else the implicit deny.

Supported:
- `Effect` Allow / Deny; `Statement` as a list or a single object;
- `Action` / `NotAction`, one string or a list, with `*` and `?` wildcards, case-insensitive;
- `Resource` / `NotResource`, one string or a list, with `*` and `?` wildcards, case-sensitive;
- `Condition`: `StringEquals`, `StringNotEquals`, `StringLike`, `StringNotLike` (case-sensitive;
  `StringEqualsIgnoreCase` too), each also as `ForAllValues:…` and `ForAnyValue:…`, and with the
  `…IfExists` suffix; several operators, and several keys under one operator, must all match
  (AND); several values for one key, any (OR).
  Condition keys are looked up case-insensitively. A multi-valued key (`dynamodb:LeadingKeys`)
  with `ForAllValues:` matches when every value of the request matches one of the policy's values,
  and also when the request has no value at all (as on AWS: ForAllValues over an empty set is
  true); with `ForAnyValue:` when at least one does. A single-valued operator on a key the request
  lacks does not match (unless `…IfExists`).

Not supported, and refused rather than guessed at (the request is then denied with the reason):
any other condition operator (numeric, date, Bool, IP, ARN, Null…), policy variables (`${…}`),
`Principal`/`NotPrincipal` (resource-based policies), permission boundaries, SCPs and session
policies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ALLOW, DENY, IMPLICIT = "allow", "deny", "implicit"


class UnsupportedPolicy(Exception):
    """The policy uses IAM features this evaluator does not implement."""


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: an action on a resource, with the request's condition keys
    (each a list of values)."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern:
    if "${" in pattern:
        raise UnsupportedPolicy(f"policy variables are not supported: {pattern!r}")
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.compile(f"^{regex}$", 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    return bool(_wildcard(pattern, case_sensitive).match(value))


def _string_test(operator: str):
    """The per-value test of a string operator, and whether it is a negation."""
    if operator == "StringEquals":
        return (lambda p, v: p == v), False
    if operator == "StringNotEquals":
        return (lambda p, v: p == v), True
    if operator == "StringEqualsIgnoreCase":
        return (lambda p, v: p.lower() == v.lower()), False
    if operator == "StringNotEqualsIgnoreCase":
        return (lambda p, v: p.lower() == v.lower()), True
    if operator == "StringLike":
        return (lambda p, v: matches(p, v)), False
    if operator == "StringNotLike":
        return (lambda p, v: matches(p, v)), True
    raise UnsupportedPolicy(f"condition operator {operator!r} is not supported")


def _condition_matches(operator: str, key: str, wanted, context: dict[str, list[str]]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    test, negated = _string_test(base)
    patterns = [str(p) for p in _as_list(wanted)]
    values = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    hit = lambda value: any(test(p, value) for p in patterns)  # noqa: E731
    if qualifier == "ForAllValues":
        # Every value of the request must match (negated: match none of the patterns).
        return all((not hit(v)) if negated else hit(v) for v in values or [])
    if qualifier == "ForAnyValue":
        return any((not hit(v)) if negated else hit(v) for v in values or [])
    if qualifier:
        raise UnsupportedPolicy(f"condition qualifier {qualifier!r} is not supported")
    if not values:
        return if_exists
    if len(values) > 1:
        raise UnsupportedPolicy(
            f"single-valued operator {operator!r} on the multi-valued key {key!r}"
        )
    return (not hit(values[0])) if negated else hit(values[0])


def statement_applies(statement: dict, request: Request) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy("Principal in an identity-based policy")
    if "Action" in statement:
        action_ok = any(matches(a, request.action, False) for a in _as_list(statement["Action"]))
    elif "NotAction" in statement:
        action_ok = not any(
            matches(a, request.action, False) for a in _as_list(statement["NotAction"])
        )
    else:
        raise UnsupportedPolicy("a statement without Action or NotAction")
    if not action_ok:
        return False
    if "Resource" in statement:
        resource_ok = any(matches(r, request.resource) for r in _as_list(statement["Resource"]))
    elif "NotResource" in statement:
        resource_ok = not any(
            matches(r, request.resource) for r in _as_list(statement["NotResource"])
        )
    else:
        raise UnsupportedPolicy("a statement without Resource or NotResource")
    if not resource_ok:
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_matches(operator, key, wanted, request.context):
                return False
    return True


def evaluate(policies: list[dict], request: Request) -> str:
    """ALLOW, DENY (an explicit Deny applies) or IMPLICIT (no Allow applies)."""
    allowed = False
    for policy in policies:
        for statement in _as_list(policy.get("Statement")):
            if not statement_applies(statement, request):
                continue
            effect = statement.get("Effect")
            if effect == "Deny":
                return DENY
            if effect == "Allow":
                allowed = True
            else:
                raise UnsupportedPolicy(f"Effect {effect!r}")
    return ALLOW if allowed else IMPLICIT
