"""Feishu (Lark) through the official lark-oapi SDK: adapter, sender, cards, webhook and the SDK workarounds."""
