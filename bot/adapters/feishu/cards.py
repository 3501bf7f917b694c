"""What a Feishu message says: the queue board as an interactive card, and @mention tags in text.

Pure formatting (no SDK, no sending): `message_content` gives the msg_type and content of one
`Outgoing` for one receiver; the sender (bot/adapters/feishu/sender.py) sends it.
"""

from __future__ import annotations

from handlers.messages import Outgoing


def message_content(o: Outgoing, ats: list[tuple[str, str]]) -> tuple[str, dict]:
    """(msg_type, content) of `o`: its card, else its text, with an at tag for each (name, open_id)."""
    if o.card is not None:
        return "interactive", build_card(o, ats)
    return "text", {"text": with_mentions(o.text, ats)}


def build_card(o: Outgoing, ats: list[tuple[str, str]] = ()) -> dict:
    """The queue board as an interactive card; buttons carry the command text in value.cmd.

    `o.card` may hold `title`, `lines` (or `markdown`) and `buttons` (labels, or {label, cmd});
    a dict with `elements` is taken as a ready Feishu card.
    """
    c = o.card or {}
    if "elements" in c:
        return c
    body = c.get("markdown") or ("\n".join(c["lines"]) if c.get("lines") else o.text)
    body = with_mentions(body, ats, "<at id={}></at>")  # lark_md's at syntax
    actions = []
    for b in c.get("buttons") or ["接待", "送客"]:
        label, cmd = (b, b) if isinstance(b, str) else (b.get("label") or b["cmd"], b["cmd"])
        actions.append(
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": label},
                "type": "default" if actions else "primary",
                "value": {"cmd": cmd},
            }
        )
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": "blue", "title": {"tag": "plain_text", "content": c.get("title", "轮排")}},
        "elements": [
            {"tag": "div", "text": {"tag": "lark_md", "content": body}},
            {"tag": "action", "actions": actions},
        ],
    }


def with_mentions(text: str, ats: list[tuple[str, str]], fmt: str = '<at user_id="{}"></at>') -> str:
    """Text with an at tag for each (name, open_id) in place of the trailing name
    ("…下一位:NAME"), else of the first "@NAME", else appended."""
    for name, oid in ats:
        tag = fmt.format(oid)
        if text.endswith(name):
            text = text[: -len(name)] + tag
        elif f"@{name}" in text:
            text = text.replace(f"@{name}", tag, 1)
        else:
            text += " " + tag
    return text
