"""Checks recorded alert-channel deliveries with the vendors' own libraries, for mimic's stories.
Run: python3 tests/channel_validators.py KIND REQUESTS.json [SECRET]
REQUESTS.json is a list of {"headers": {...}, "body": "<raw body>"}. Exits 1 naming the first
delivery a validator refuses.

- slack: slack_sdk's Block Kit models parse every block (none unknown) and validate_json()
  enforces Slack's limits; `text` is there for mobile notifications.
- webhook: standardwebhooks (the spec's reference library) verifies each signature, and the
  body is the Statuspage envelope.
- pagerduty: each event validates against tests/pagerduty-events-v2.schema.json.
- discord: discord.py's Embed.from_dict reads the embed; its length is within 6000.
- teams: the Adaptive Card envelope Workflows takes, version 1.4, under 28 KB."""

import json
import os
import sys


def slack(item, body, _secret):
    from slack_sdk.models.blocks import Block

    assert isinstance(body.get("text"), str) and body["text"], "no text fallback"
    assert len(body["text"]) <= 40000
    blocks = body.get("blocks", [])
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    for b in blocks:
        parsed = Block.parse(b)
        assert parsed is not None, f"unknown block {b.get('type')}"
        parsed.validate_json()


def webhook(item, body, secret):
    from standardwebhooks.webhooks import Webhook

    Webhook(secret).verify(item["body"], item["headers"])
    assert "." not in item["headers"]["webhook-id"]
    assert set(body) >= {"meta", "page"}, sorted(body)
    assert set(body["page"]) == {"id", "status_indicator", "status_description"}
    if "incident" in body:
        inc = body["incident"]
        for key in ("id", "name", "status", "impact", "shortlink", "incident_updates", "components"):
            assert key in inc, key
        incident = ("investigating", "identified", "monitoring", "resolved", "postmortem")
        maintenance = ("scheduled", "in_progress", "verifying", "completed")
        assert inc["status"] in incident + maintenance, inc["status"]
        if inc["status"] in maintenance:
            assert inc["impact"] == "maintenance" and inc["scheduled_for"] and inc["scheduled_until"]


def pagerduty(item, body, _secret):
    import jsonschema

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "pagerduty-events-v2.schema.json")) as f:
        schema = json.load(f)
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())


def discord(item, body, _secret):
    import discord as dc

    assert body.get("allowed_mentions") == {"parse": []}
    assert len(body.get("content", "")) <= 2000
    embeds = [dc.Embed.from_dict(e) for e in body.get("embeds", [])]
    assert 0 < len(embeds) <= 10
    assert sum(len(e) for e in embeds) <= 6000
    for e in embeds:
        assert len(e.title or "") <= 256 and len(e.description or "") <= 4096
        assert len(e.fields) <= 25
        for f in e.fields:
            assert len(f.name) <= 256 and len(f.value) <= 1024


def teams(item, body, _secret):
    assert len(item["body"].encode()) <= 28 * 1024
    assert body["type"] == "message"
    (att,) = body["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"], "an empty card"


def main():
    kind, path = sys.argv[1], sys.argv[2]
    secret = sys.argv[3] if len(sys.argv) > 3 else ""
    check = {"slack": slack, "webhook": webhook, "pagerduty": pagerduty, "discord": discord, "teams": teams}[kind]
    with open(path) as f:
        items = json.load(f)
    assert items, "no deliveries to check"
    for n, item in enumerate(items):
        try:
            check(item, json.loads(item["body"]), secret)
        except Exception as e:  # report which delivery and why
            print(f"delivery {n} refused: {type(e).__name__}: {e}\n{item['body'][:2000]}")
            sys.exit(1)
    print(f"{kind}: {len(items)} deliveries pass")


if __name__ == "__main__":
    main()
