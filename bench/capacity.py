"""DynamoDB capacity of the calls the counting proxy forwards (bench/count_proxy.py): write units
from each written item's image before and after the call, read units from the items read.

The rules are DynamoDB's (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
CapacityUnitCalculations.html and .../read-write-operations.html):

- an item's size is the sum of its attribute names and values: a string its UTF-8 bytes, a
  number 1 byte per two significant digits plus 1, a binary its raw bytes, a boolean or null 1,
  a list or map 3 bytes plus each element's size plus 1 byte per element, a set its elements;
- a write costs ceil(max(size before, size after) / 1 KB) units, at least 1 (a write that
  failed its condition is billed on the item as it is); inside TransactWriteItems twice that,
  and a ConditionCheck is billed as a write of its item;
- each global secondary index entry the write creates, deletes or re-keys costs 1 more (the
  indexes are KEYS_ONLY: an update that does not touch the index key writes no entry);
- a read costs ceil(size / 4 KB) units per item (at least 1, also for an item not found), half
  that when eventually consistent, twice that in TransactGetItems; a Query or Scan is billed on
  the total size of the items it returns, rounded up once.

The images are read from moto by this module's own GetItem and DescribeTable calls, signed with
the environment's credentials; they are neither counted nor timed as the functions' calls.
Standard library only.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import math
import os
import threading

UPSTREAM = None  # urllib.parse.SplitResult of moto, set by count_proxy
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
READS = {"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"}
_SCHEMAS = {}
_LOCAL = threading.local()


# Sizes.

def number_size(text):
    mantissa = text.lower().lstrip("+-").split("e")[0].replace(".", "")
    digits = mantissa.lstrip("0").rstrip("0")
    return (len(digits) + 1) // 2 + 1


def value_size(value):
    ((kind, x),) = value.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        return number_size(x)
    if kind == "B":
        return len(base64.b64decode(x))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in x)
    if kind == "NS":
        return sum(number_size(n) for n in x)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in x)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in x)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in x.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item):
    """The size DynamoDB bills an item (wire JSON) by; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


# moto, signed like the SDK (SigV4).

def _sign(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def dynamodb(action, payload):
    """One DynamoDB call of this module's own, straight to moto: its JSON answer."""
    body = json.dumps(payload).encode()
    host = f"{UPSTREAM.hostname}:{UPSTREAM.port}"
    region = os.environ.get("AWS_REGION", "us-east-1")
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "host": host,
        "x-amz-date": stamp,
        "x-amz-target": f"DynamoDB_20120810.{action}",
    }
    token = os.environ.get("AWS_SESSION_TOKEN")
    if token:
        headers["x-amz-security-token"] = token
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", ""] + [f"{k}:{headers[k]}" for k in sorted(headers)]
                          + ["", signed, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/dynamodb/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")).encode()
    for part in (day, region, "dynamodb", "aws4_request"):
        key = _sign(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    access = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    conn = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = _LOCAL.conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port,
                                                        timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
    except (http.client.HTTPException, OSError):
        conn.close()
        _LOCAL.conn = None
        raise
    if response.status != 200:
        raise RuntimeError(f"{action}: {response.status} {answer[:300]!r}")
    return json.loads(answer)


def schema(table):
    """(key attribute names, [key attribute names of each global secondary index])."""
    if table not in _SCHEMAS:
        described = dynamodb("DescribeTable", {"TableName": table})["Table"]
        keys = [k["AttributeName"] for k in described["KeySchema"]]
        indexes = [[k["AttributeName"] for k in index["KeySchema"]]
                   for index in described.get("GlobalSecondaryIndexes", [])]
        _SCHEMAS[table] = (keys, indexes)
    return _SCHEMAS[table]


def key_of(table, item):
    keys, _ = schema(table)
    return {k: item[k] for k in keys}


def image(target):
    """The item a write target names, as moto holds it now (None if absent)."""
    table, key, _ = target
    return dynamodb("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item")


# Writes.

def write_targets(action, body):
    """[(table, key, transactional)] of the items a write call touches."""
    request = json.loads(body or b"{}")
    if action in ("PutItem",):
        return [(request["TableName"], key_of(request["TableName"], request["Item"]), False)]
    if action in ("UpdateItem", "DeleteItem"):
        return [(request["TableName"], request["Key"], False)]
    if action == "BatchWriteItem":
        targets = []
        for table, requests in request.get("RequestItems", {}).items():
            for r in requests:
                if "PutRequest" in r:
                    targets.append((table, key_of(table, r["PutRequest"]["Item"]), False))
                elif "DeleteRequest" in r:
                    targets.append((table, r["DeleteRequest"]["Key"], False))
        return targets
    if action == "TransactWriteItems":
        targets = []
        for entry in request.get("TransactItems", []):
            ((kind, r),) = entry.items()
            key = r["Item"] if kind == "Put" else r["Key"]
            targets.append((r["TableName"], key_of(r["TableName"], key), True))
        return targets
    return []


def _index_entries(table, item):
    _, indexes = schema(table)
    entries = []
    for keys in indexes:
        if item and all(k in item for k in keys):
            entries.append(json.dumps([item[k] for k in keys], sort_keys=True))
        else:
            entries.append(None)
    return entries


def write_units(action, targets, before, after):
    """The write units of one call, and each item's share (for the report's detail)."""
    items, total = [], 0
    for (table, key, transactional), old, new in zip(targets, before, after):
        size = max(item_size(old), item_size(new))
        units = max(1, math.ceil(size / 1024)) * (2 if transactional else 1)
        index = sum(1 for a, b in zip(_index_entries(table, old), _index_entries(table, new))
                    if a != b)
        total += units + index
        items.append({
            "table": table,
            "key": "/".join(next(iter(v.values())) for v in key.values()),
            "before": item_size(old),
            "after": item_size(new),
            "units": units,
            "index": index,
        })
    return {"action": action, "wcu": total, "items": items}


# Reads.

def _read_units(size, factor):
    return max(1, math.ceil(size / 4096)) * factor


def read_units(action, body, answer):
    """The read units of one read call, from the full items it read."""
    request = json.loads(body or b"{}")
    response = json.loads(answer or b"{}")
    if action == "GetItem":
        factor = 1 if request.get("ConsistentRead") else 0.5
        item = image((request["TableName"], request["Key"], False))
        return _read_units(item_size(item), factor)
    if action == "BatchGetItem":
        total = 0
        for table, wanted in request.get("RequestItems", {}).items():
            factor = 1 if wanted.get("ConsistentRead") else 0.5
            unprocessed = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            for key in wanted.get("Keys", []):
                if key in unprocessed:
                    continue
                total += _read_units(item_size(image((table, key, False))), factor)
        return total
    if action == "TransactGetItems":
        return sum(_read_units(item_size(image((g["Get"]["TableName"], g["Get"]["Key"], False))), 2)
                   for g in request.get("TransactItems", []))
    # Query and Scan: the items as returned (a projection makes this an underestimate).
    factor = 1 if request.get("ConsistentRead") else 0.5
    return _read_units(sum(item_size(i) for i in response.get("Items", [])), factor)


# Storage.

def table_sizes():
    """{table: {"items", "bytes"}} of every table, each item's size plus the 100 bytes of
    overhead DynamoDB stores (and bills) it with."""
    sizes = {}
    for table in dynamodb("ListTables", {}).get("TableNames", []):
        items, size, start = 0, 0, None
        while True:
            request = {"TableName": table}
            if start:
                request["ExclusiveStartKey"] = start
            page = dynamodb("Scan", request)
            items += len(page.get("Items", []))
            size += sum(item_size(i) + 100 for i in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        sizes[table] = {"items": items, "bytes": size}
    return sizes
