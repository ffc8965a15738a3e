"""The reference Search Calls server: the API's contract over real HTTP, on SQLite.

Stage: the other end of `querylang.client`, for tests and for trying querylang without an account.
Input: HTTP requests as the API takes them. Output: pages of call records, or the API's errors.

- `store`: `CallStore`, call records in SQLite, searched with the `WHERE` of `querylang.sql`.
- `app`: `ReferenceServer` (HTTP), `ServerConfig`, `Faults`, and `running()`, which runs one in a
  background thread for a `with` block.

`querylang serve --sample 10000` runs one from the shell.
"""

from __future__ import annotations

from querylang.server.app import Faults, ReferenceServer, ServerConfig, running
from querylang.server.store import CallStore

__all__ = ["CallStore", "Faults", "ReferenceServer", "ServerConfig", "running"]
