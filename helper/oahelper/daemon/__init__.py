"""The aiohttp application on 127.0.0.1: request guard, handlers, paired clients."""
