"""WeChat through a wechaty puppet service: the adapter and the SDK compatibility measures."""
