"""The journeys' targets and the cost model of BENCHMARKS.md (issue 26), from what `make bench`
measured (`coldstart journeys`: each request's waves, write and read units, log bytes, EMF
documents and duration; the tables' sizes after the kickstart) and from bench/prices.json and
template.yaml (memory size, alarms, dashboards).

Used by bench/report.py: `report(journeys, tables, row, bench_dir)` adds the target rows through
`row` and returns the lines of the cost section.
"""

import json
import math
import os
import re

JOURNEYS = {
    # name: (waves target, WCU target, log bytes target): None is a reference figure.
    "email-code": (7, 14, 4096),
    "magic link": (8, None, None),
}
DESCRIBED = {
    "email-code": "start (one-time code), send, login with the one-time code",
    "magic link": "start, send, landing page opened, its button pressed, token",
}
KB = 1024


def template_facts(root):
    """Memory size (the FunctionMemorySize default), alarms and dashboards of template.yaml."""
    with open(os.path.join(root, "template.yaml")) as f:
        text = f.read()
    memory = re.search(r"FunctionMemorySize:\s*\n(?:\s+\w+:.*\n)*?\s+Default:\s*(\d+)", text)
    return {
        "memory_mb": int(memory.group(1)) if memory else 128,
        "alarms": len(re.findall(r"Type:\s*AWS::CloudWatch::(?:Composite)?Alarm\b", text)),
        "dashboards": len(re.findall(r"Type:\s*AWS::CloudWatch::Dashboard\b", text)),
    }


def load_prices(bench_dir):
    with open(os.path.join(bench_dir, "prices.json")) as f:
        return json.load(f)


def delivered(calls, service):
    return sum(v for k, v in calls.items() if k.startswith(service + ":"))


def journey_cost(steps, prices, memory_mb):
    """The cost of one journey, in USD, by service, from its measured steps."""
    p = {k: v["usd"] for k, v in prices["prices"].items()}
    platform = prices["assumptions"]["lambda_platform_log_bytes_per_invocation"]["value"]
    invocations = len(steps)
    # Lambda bills each invocation's duration rounded up to the millisecond.
    gb_seconds = sum(math.ceil(s["invoke_ms"]) / 1000 * memory_mb / 1024 for s in steps)
    wru = sum(s["wcu"] for s in steps)
    rru = sum(s["rcu"] for s in steps)
    log_bytes = sum(s["log_bytes"] for s in steps) + platform * invocations
    emails = sum(delivered(s["calls"], "ses") for s in steps)
    sms = sum(delivered(s["calls"], "sns") for s in steps)
    parts = {
        "Lambda": invocations * p["lambda_request"] + gb_seconds * p["lambda_arm64_gb_second"],
        "API Gateway": invocations * p["api_gateway_http_request"],
        "DynamoDB": wru * p["dynamodb_write_request_unit"] + rru * p["dynamodb_read_request_unit"],
        "CloudWatch Logs": log_bytes / 1e9 * p["cloudwatch_logs_ingestion_gb"],
    }
    delivery = emails * p["ses_email"] + sms * p["sns_sms_us"]
    return {
        "parts": parts,
        "infrastructure": sum(parts.values()),
        "delivery": delivery,
        "invocations": invocations,
        "gb_seconds": gb_seconds,
        "wru": wru,
        "rru": rru,
        "log_bytes": log_bytes,
        "emails": emails,
        "sms": sms,
    }


def metric_series(docs):
    """The distinct CloudWatch metric series the EMF documents publish: (deployment-wide,
    per tenant: those with a TenantId dimension)."""
    series = set()
    for doc in docs:
        for directive in doc.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", []):
                for metric in directive.get("Metrics", []):
                    key = tuple((d, str(doc.get(d))) for d in dimensions)
                    series.add((directive.get("Namespace"), metric.get("Name"), key))
    tenant = {s for s in series if any(d == "TenantId" for d, _ in s[2])}
    return len(series) - len(tenant), len(tenant)


def usd(x):
    return f"${x:,.2f}" if x >= 1 else f"${x:,.4f}"


def report(journeys, tables, row, bench_dir):
    root = os.path.dirname(bench_dir)
    prices = load_prices(bench_dir)
    p = {k: v["usd"] for k, v in prices["prices"].items()}
    facts = template_facts(root)
    users = journeys["users"]
    measured = journeys["journeys"]
    costs = {}

    for user, info in users.items():
        size = f"user item {info.get('item_bytes') or 0:,} bytes"
        for name, (wave_limit, wcu_limit, log_limit) in JOURNEYS.items():
            steps = measured.get(f"{name} ({user})", {}).get("steps")
            if not steps:
                continue
            waves = sum(s["waves"] for s in steps)
            emails = sum(delivered(s["calls"], "ses") + delivered(s["calls"], "sns") for s in steps)
            detail = ", ".join(f"{s['label']} {s['waves']}" for s in steps)
            row("7 journeys", f"{name} journey ({DESCRIBED[name]}), {user}: ≤ {wave_limit} "
                "sequential DynamoDB waves",
                f"{waves} waves ({detail}; {emails} SES/SNS call)", waves <= wave_limit)
            wcu = sum(s["wcu"] for s in steps)
            detail = ", ".join(f"{s['label']} {s['wcu']}" for s in steps)
            rcu = sum(s["rcu"] for s in steps)
            target = f"{name} journey, {user} ({size}): " + (
                f"≤ {wcu_limit} WCU" if wcu_limit else "WCU (reference)")
            row("7 journeys", target, f"{wcu} WCU ({detail}); {rcu:g} RCU",
                wcu <= wcu_limit if wcu_limit else None)
            logged = sum(s["log_bytes"] for s in steps)
            detail = ", ".join(f"{s['label']} {s['log_bytes']:,}" for s in steps)
            target = f"{name} journey, {user}: log bytes (stdout and stderr of its functions) " + (
                f"≤ {log_limit / KB:g} KB" if log_limit else "(reference)")
            row("7 journeys", target, f"{logged:,} bytes ({detail})",
                logged <= log_limit if log_limit else None)
            costs[(name, user)] = journey_cost(steps, prices, facts["memory_mb"])

    per_function = {}
    for journey in measured.values():
        for s in journey["steps"]:
            per_function.setdefault(s["function"], []).append(s["emf_docs"])
    for function, docs in per_function.items():
        row("7 journeys", f"{function}: EMF documents per invocation = 1",
            f"{', '.join(str(d) for d in docs)} ({len(docs)} invocations in the journeys)",
            all(d == 1 for d in docs))

    for (name, user), c in costs.items():
        parts = "; ".join(f"{k} {usd(v * 1e6)}" for k, v in c["parts"].items())
        row("8 cost", f"{name} journey, {user}: per million logins, infrastructure before SES/SNS",
            f"{usd(c['infrastructure'] * 1e6)} ({parts}; per login {c['invocations']} invocations, "
            f"{c['gb_seconds']:.4f} GB-s, {c['wru']} WRU, {c['rru']:g} RRU, "
            f"{c['log_bytes']:,} log bytes)", None)
        row("8 cost", f"{name} journey, {user}: per million logins, with SES/SNS",
            f"{usd((c['infrastructure'] + c['delivery']) * 1e6)} ({c['emails']} email, "
            f"{c['sms']} SMS a login)", None)

    # Idle: what a deployment costs in a month without logins. Alarms bill whether or not they
    # see data; dashboards beyond the account's 3 free; storage of each tenant's items; a metric
    # series bills only in hours it receives data, so a silent deployment's are free, but a
    # TenantId dimension makes every tenant that logs in within an hour add its own series: the
    # idle figure counts those for each quiet tenant (the "quiet", not "silent").
    deployment_series, tenant_series = metric_series(journeys.get("emf", []))
    tenant_bytes = sum(t["bytes"] for t in (tables or {}).values())
    alarms = facts["alarms"] * p["cloudwatch_alarm_month"]
    dashboards = max(0, facts["dashboards"] - 3) * p["cloudwatch_dashboard_month"]
    idle = {}
    for tenants in (1, 1000):
        storage = tenants * tenant_bytes / 1e9 * p["dynamodb_storage_gb_month"]
        metrics = tenants * tenant_series * p["cloudwatch_custom_metric_month"]
        idle[tenants] = alarms + dashboards + storage + metrics
        row("8 cost", f"idle monthly cost, {tenants:,} quiet tenant{'s' if tenants > 1 else ''} ≤ $5",
            f"{usd(idle[tenants])} ({facts['alarms']} alarms {usd(alarms)}; dashboards "
            f"{usd(dashboards)}; storage {usd(storage)} ({tenant_bytes:,} bytes a tenant); "
            f"metric series a quiet tenant adds {tenant_series} × {tenants:,} = {usd(metrics)})",
            idle[tenants] <= 5)

    lines = ["", "Cost model (`bench/cost.py`, prices `bench/prices.json`: us-east-1 list prices taken "
             f"{prices['taken']}; each price's source is in the file). Memory {facts['memory_mb']} MB "
             "(template.yaml); durations as measured here against moto (a region's DynamoDB answers "
             "in a few ms, so Lambda's share is an upper bound); log bytes include "
             f"{prices['assumptions']['lambda_platform_log_bytes_per_invocation']['value']} bytes of "
             "Lambda platform records per invocation. Metric series the journeys published: "
             f"{deployment_series} deployment-wide, {tenant_series} per tenant (TenantId dimension); "
             "deployment-wide series cost "
             f"{usd(deployment_series * p['cloudwatch_custom_metric_month'])} a month while traffic "
             "reaches them every hour.", ""]
    base = costs.get(("email-code", next(iter(users), "")))
    if base:
        cognito = prices["prices"]["cognito_essentials_mau"]
        lines += ["Email-code logins (1 KB user) beside Cognito Essentials, 4 logins a monthly active "
                  "user:", "",
                  "| MAU | logins | this service, infrastructure | with SES (1 email a login) | "
                  "Cognito Essentials (MAU charge) | Cognito + the same SES emails |",
                  "|---|---|---|---|---|---|"]
        fixed = idle[1] + deployment_series * p["cloudwatch_custom_metric_month"]
        for mau in (100_000, 1_000_000):
            logins = 4 * mau
            ours = logins * base["infrastructure"] + fixed
            ses = logins * base["delivery"]
            theirs = max(0, mau - cognito["free_mau"]) * cognito["usd"]
            lines.append(f"| {mau:,} | {logins:,} | {usd(ours)} | {usd(ours + ses)} | "
                         f"{usd(theirs)} | {usd(theirs + ses)} |")
        lines += ["", "This service's column includes its fixed monthly cost (alarms, storage, the "
                  "deployment's metric series); neither column counts the users' own storage or data "
                  "transfer."]
    return lines
