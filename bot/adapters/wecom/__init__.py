"""WeCom (企业微信) intelligent bot over its long connection (developer doc 101463)."""
