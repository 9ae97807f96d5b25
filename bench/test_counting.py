"""The counting proxy's arithmetic: waves, item sizes, write and read units, the cost model's
metric series. `python3 -m unittest discover -s bench -p 'test_*.py'` (scripts/bench.sh runs it
first: a wrong count would make every row of the report wrong)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.argv = sys.argv[:1] + ["0", "http://127.0.0.1:1"]  # count_proxy reads its upstream at import

import capacity  # noqa: E402
import cost  # noqa: E402
from count_proxy import waves  # noqa: E402

capacity._SCHEMAS["t"] = (["pk", "sk"], [["userId"]])


class Waves(unittest.TestCase):
    def test_calls_that_overlap_count_once_and_calls_in_a_row_count_each(self):
        calls = [(0.0, 1.0, "dynamodb:GetItem"), (0.1, 1.2, "dynamodb:UpdateItem"),
                 (1.3, 2.0, "dynamodb:PutItem"), (2.1, 3.0, "ses:POST /v2/email")]
        self.assertEqual(waves(calls, "dynamodb"), 2)
        self.assertEqual(waves(calls), 3)

    def test_a_call_starting_when_the_previous_ended_is_a_new_wave(self):
        self.assertEqual(waves([(0, 1, "dynamodb:A"), (1, 2, "dynamodb:B")], "dynamodb"), 2)

    def test_no_call_is_no_wave(self):
        self.assertEqual(waves([], "dynamodb"), 0)


class Sizes(unittest.TestCase):
    def test_strings_numbers_and_binaries_follow_dynamodbs_rules(self):
        self.assertEqual(capacity.item_size({"ab": {"S": "héllo"}}), 2 + 6)
        # 5 significant digits: 3 bytes, plus 1.
        self.assertEqual(capacity.item_size({"n": {"N": "-12345.000"}}), 1 + 4)
        self.assertEqual(capacity.item_size({"n": {"N": "0.00120"}}), 1 + 2)
        self.assertEqual(capacity.item_size({"b": {"B": "AAEC"}}), 1 + 3)
        self.assertEqual(capacity.item_size({"t": {"BOOL": True}, "z": {"NULL": True}}), 4)

    def test_lists_and_maps_cost_three_bytes_and_one_per_element(self):
        item = {"m": {"M": {"k": {"S": "vv"}, "l": {"L": [{"S": "a"}, {"N": "1"}]}}}}
        inner_list = 3 + (1 + 1) + (2 + 1)
        self.assertEqual(capacity.item_size(item), 1 + 3 + (1 + 2 + 1) + (1 + inner_list + 1))

    def test_sets_are_the_sum_of_their_elements(self):
        self.assertEqual(capacity.item_size({"s": {"SS": ["ab", "c"]}}), 1 + 3)


def item(size, **extra):
    """An item of exactly `size` bytes (with pk and sk)."""
    base = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    base.update({k: {"S": v} for k, v in extra.items()})
    pad = size - capacity.item_size(base) - 3
    base["pad"] = {"S": "x" * pad}
    assert capacity.item_size(base) == size
    return base


class WriteUnits(unittest.TestCase):
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}}

    def units(self, action, before, after, transactional=False):
        return capacity.write_units(action, [("t", self.key, transactional)], [before], [after])

    def test_a_write_costs_the_larger_image_in_kilobytes_rounded_up(self):
        self.assertEqual(self.units("UpdateItem", item(1000), item(1100))["wcu"], 2)
        self.assertEqual(self.units("DeleteItem", item(3000), None)["wcu"], 3)
        self.assertEqual(self.units("PutItem", None, item(1024))["wcu"], 1)

    def test_a_write_of_nothing_still_costs_one(self):
        self.assertEqual(self.units("UpdateItem", None, None)["wcu"], 1)

    def test_a_transaction_doubles_and_index_entries_add_one_each(self):
        created = self.units("PutItem", None, item(500, userId="u"), transactional=True)
        self.assertEqual(created["wcu"], 2 + 1)
        untouched = self.units("UpdateItem", item(500, userId="u"), item(600, userId="u"))
        self.assertEqual(untouched["wcu"], 1)
        rekeyed = self.units("UpdateItem", item(500, userId="u"), item(500, userId="v"))
        self.assertEqual(rekeyed["wcu"], 2)

    def test_a_transactions_targets_include_its_condition_checks(self):
        body = json.dumps({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {**self.key, "a": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": self.key}},
        ]}).encode()
        targets = capacity.write_targets("TransactWriteItems", body)
        self.assertEqual(targets, [("t", self.key, True), ("t", self.key, True)])


class ReadUnits(unittest.TestCase):
    def test_a_query_is_billed_on_the_total_it_returned_halved_when_eventual(self):
        answer = json.dumps({"Items": [item(3000), item(3000)]}).encode()
        self.assertEqual(capacity.read_units("Query", b'{"TableName": "t"}', answer), 1)
        consistent = b'{"TableName": "t", "ConsistentRead": true}'
        self.assertEqual(capacity.read_units("Query", consistent, answer), 2)


class MetricSeries(unittest.TestCase):
    def test_series_with_a_tenant_dimension_are_counted_apart(self):
        doc = {"Function": "send", "TenantId": "t1", "Latency": 1,
               "_aws": {"CloudWatchMetrics": [{"Namespace": "N", "Metrics": [{"Name": "Latency"}],
                                               "Dimensions": [["Function"],
                                                              ["Function", "TenantId"]]}]}}
        other = json.loads(json.dumps(doc))
        other["TenantId"] = "t2"
        self.assertEqual(cost.metric_series([doc, doc, other]), (1, 2))


if __name__ == "__main__":
    unittest.main()
