"""The local emulator's IAM: the identities `make dev` and `make test` run with.

    local_iam.py admin
        Creates the IAM user `passwordless-admin` with a policy allowing everything, and an access
        key; then switches moto's IAM enforcement on (POST /moto-api/reset-auth "0"): from then on
        every call needs a valid signature from a known access key. Prints the key as shell
        `export` lines, for the admin CLI, the test harness and the black-box tests.

    local_iam.py roles --directory-table NAME --codes-table NAME --sender-identities A,B,...
                       [--configuration-set NAME] [--prefix P] [--without Function:action]...
        With the admin credentials of the environment: one IAM role per function of template.yaml
        (`P-StartFunction`…), whose only policy is that function's `Policies`, resolved for these
        tables, these SES identities and this configuration set (`!GetAtt DirectoryTable.Arn`,
        `!Sub` with the partition, region, account and `SesConfigurationSet`, default
        `passwordless-local`; `!Ref SenderIdentities` is the list, `!Join` and `!Split` as
        CloudFormation does them). Assumes each role (STS AssumeRole, as Lambda does for
        an execution role) and prints, as JSON, per binary (`start`, `send`, `login`, `suppress`), the
        `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` Lambda would set.
        `--without LoginFunction:dynamodb:BatchGetItem` leaves that action out of that function's
        statements (it must be there): how a test shows a missing permission fails.

    local_iam.py policies --directory-table NAME --codes-table NAME --sender-identities A,B,...
        Prints the resolved policy of each function, as the roles get them.

    local_iam.py routes
        Prints, as JSON, each function's binary and its HttpApi routes from template.yaml
        (`{"start": [["POST", "/api/passwordless/start"]], …}`), in the template's order: what
        scripts/serve_functions.sh serves and scripts/router.py routes.

    local_iam.py configuration-set [--name NAME]
        With the admin credentials: creates the SES configuration set the local stack sends with
        (default `passwordless-local`), suppressing bounces and complaints; idempotent.

    local_iam.py sender-identities KICKSTART...
        The SES identities the local stack sends as, comma-separated (template.yaml's
        `SenderIdentities`, the admin CLI's `SENDER_IDENTITIES`): every domain of the files'
        sender addresses (each tenant's defaultFromEmail, each template's fromEmail), lowercased,
        each once, as a production account with domain identities is set up (README, Email).

AWS_ENDPOINT_URL names moto; AWS_REGION (default us-east-1) the region.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pathlib
import re
import sys
import urllib.request

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ADMIN_USER = "passwordless-admin"
SESSION_SECONDS = 12 * 3600
# The SES configuration set the local stack sends with (`make dev`, the black-box tests): created
# by `local_iam.py configuration-set`, as template.yaml's SesConfigurationSet is in an account.
LOCAL_CONFIGURATION_SET = "passwordless-local"


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!GetAtt X.Arn` → `{"Fn::GetAtt": "X.Arn"}`)."""


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


def functions(template_path: pathlib.Path = TEMPLATE) -> dict[str, dict]:
    """The template's functions by logical id: binary name, policy documents and HttpApi routes
    (method, path)."""
    template = yaml.load(template_path.read_text(), Loader=CfnLoader)
    found = {}
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        events = resource["Properties"].get("Events", {}).values()
        http_routes = [
            [e["Properties"]["Method"].upper(), e["Properties"]["Path"]]
            for e in events
            if e.get("Type") == "HttpApi"
        ]
        found[name] = {
            "binary": binary,
            "policies": resource["Properties"]["Policies"],
            "routes": http_routes,
        }
    return found


def resolve(node, refs: dict[str, str]):
    """Resolves Ref, Fn::GetAtt and Fn::Sub with `refs`; anything else it cannot resolve is an
    error, never a guess."""
    if isinstance(node, list):
        return [resolve(n, refs) for n in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, value), = node.items()
        if key == "Ref":
            return lookup(refs, value)
        if key == "Fn::GetAtt":
            name = value if isinstance(value, str) else ".".join(value)
            return lookup(refs, name)
        if key == "Fn::Join":
            delimiter, items = value
            parts = resolve(items, refs)
            parts = [p for part in parts for p in (part if isinstance(part, list) else [part])]
            return delimiter.join(str(p) for p in parts)
        if key == "Fn::Split":
            delimiter, text = value
            return str(resolve(text, refs)).split(delimiter)
        if key == "Fn::Sub":
            text, local = (value, {}) if isinstance(value, str) else (value[0], value[1])
            return re.sub(
                r"\$\{([^}!]+)\}",
                lambda m: str(resolve(local[m.group(1)], refs))
                if m.group(1) in local
                else lookup(refs, m.group(1)),
                text,
            )
        if key.startswith("Fn::"):
            raise SystemExit(f"local_iam.py: {key} is not supported in a policy")
    return {k: resolve(v, refs) for k, v in node.items()}


def lookup(refs: dict[str, str], name: str) -> str:
    if name not in refs:
        raise SystemExit(f"local_iam.py: cannot resolve {name!r} (known: {', '.join(sorted(refs))})")
    return refs[name]


def references(
    directory: str,
    codes: str,
    senders: list[str],
    region: str,
    account: str,
    configuration_set: str,
) -> dict:
    partition = "aws"
    arn = lambda t: f"arn:{partition}:dynamodb:{region}:{account}:table/{t}"  # noqa: E731
    return {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::URLSuffix": "amazonaws.com",
        "SenderIdentities": senders,
        "DirectoryTable": directory,
        "DirectoryTable.Arn": arn(directory),
        "CodesTable": codes,
        "CodesTable.Arn": arn(codes),
        "SesConfigurationSet": configuration_set,
    }


def without(policies: list[dict], action: str) -> list[dict]:
    """`policies` with `action` removed from every statement (a statement left with no action
    goes); refuses when no statement named it."""
    result, removed = copy.deepcopy(policies), False
    for policy in result:
        kept = []
        for statement in policy["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            remaining = [a for a in actions if a.lower() != action.lower()]
            removed |= len(remaining) != len(actions)
            if remaining:
                kept.append({**statement, "Action": remaining})
        policy["Statement"] = kept
    if not removed:
        raise SystemExit(f"local_iam.py: no statement names {action}")
    return result


def resolved_policies(args, account: str) -> dict[str, dict]:
    refs = references(
        args.directory_table,
        args.codes_table,
        identities(args.sender_identities),
        region(),
        account,
        args.configuration_set,
    )
    result = {}
    for name, function in functions().items():
        result[name] = {"binary": function["binary"], "policies": resolve(function["policies"], refs)}
    for spec in args.without or []:
        name, _, action = spec.partition(":")
        if name not in result:
            raise SystemExit(f"local_iam.py: no function {name} in template.yaml")
        result[name]["policies"] = without(result[name]["policies"], action)
    return result


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def client(service: str):
    import boto3

    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region())


def admin(_args) -> None:
    iam = client("iam")
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(
        UserName=ADMIN_USER,
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    request = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"].rstrip("/") + "/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=10).read()
    print(f"export AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
    print(f"export AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
    print("unset AWS_SESSION_TOKEN")


def roles(args) -> None:
    caller = client("sts").get_caller_identity()
    iam, sts = client("iam"), client("sts")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com", "AWS": caller["Arn"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    credentials = {}
    for name, function in resolved_policies(args, caller["Account"]).items():
        role_name = f"{args.prefix}-{name}"
        try:
            role = iam.create_role(
                RoleName=role_name,
                AssumeRolePolicyDocument=json.dumps(trust),
                MaxSessionDuration=SESSION_SECONDS,
            )["Role"]
        except iam.exceptions.EntityAlreadyExistsException:
            # Served again on the same emulator: the role gets exactly today's policy.
            role = iam.get_role(RoleName=role_name)["Role"]
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))
            for old in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role_name, PolicyName=old)
        for index, policy in enumerate(function["policies"]):
            iam.put_role_policy(
                RoleName=role_name, PolicyName=f"{name}Policy{index}", PolicyDocument=json.dumps(policy)
            )
        assumed = sts.assume_role(
            RoleArn=role["Arn"], RoleSessionName=name, DurationSeconds=SESSION_SECONDS
        )["Credentials"]
        credentials[function["binary"]] = {
            "AWS_ACCESS_KEY_ID": assumed["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
            "AWS_SESSION_TOKEN": assumed["SessionToken"],
        }
    json.dump(credentials, sys.stdout)
    print()


def policies(args) -> None:
    json.dump(resolved_policies(args, "123456789012"), sys.stdout, indent=2)
    print()


def routes(_args) -> None:
    json.dump({f["binary"]: f["routes"] for f in functions().values()}, sys.stdout)
    print()


def identities(listed: str) -> list[str]:
    """The comma-separated list of SES identities, as CloudFormation splits a CommaDelimitedList;
    refuses an empty one (the send function could then send as nothing)."""
    found = [i.strip() for i in listed.split(",") if i.strip()]
    if not found:
        raise SystemExit("local_iam.py: --sender-identities names no identity")
    return found


def sender_identities(args) -> None:
    domains = set()
    for path in args.kickstarts:
        kickstart = json.loads(pathlib.Path(path).read_text())
        addresses = [
            t.get("emailConfiguration", {}).get("defaultFromEmail")
            for t in kickstart.get("tenants", [])
        ] + [t.get("fromEmail") for t in kickstart.get("emailTemplates", [])]
        domains |= {a.rpartition("@")[2].lower() for a in addresses if a}
    if not domains:
        raise SystemExit(f"local_iam.py: no sender address in {', '.join(args.kickstarts)}")
    print(",".join(sorted(domains)))


def configuration_set(args) -> None:
    """Creates the SES configuration set (suppressing bounces and complaints, as the template's);
    idempotent."""
    ses = client("sesv2")
    try:
        ses.create_configuration_set(
            ConfigurationSetName=args.name,
            SuppressionOptions={"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        )
    except ses.exceptions.AlreadyExistsException:
        pass
    print(args.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("admin").set_defaults(run=admin)
    for name, run in (("roles", roles), ("policies", policies)):
        command = commands.add_parser(name)
        command.add_argument("--directory-table", required=True)
        command.add_argument("--codes-table", required=True)
        command.add_argument("--sender-identities", required=True, metavar="A,B,...")
        command.add_argument("--configuration-set", default=LOCAL_CONFIGURATION_SET)
        command.add_argument("--prefix", default="passwordless")
        command.add_argument("--without", action="append", metavar="Function:action")
        command.set_defaults(run=run)
    commands.add_parser("routes").set_defaults(run=routes)
    command = commands.add_parser("configuration-set")
    command.add_argument("--name", default=LOCAL_CONFIGURATION_SET)
    command.set_defaults(run=configuration_set)
    command = commands.add_parser("sender-identities")
    command.add_argument("kickstarts", nargs="+", metavar="KICKSTART")
    command.set_defaults(run=sender_identities)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
