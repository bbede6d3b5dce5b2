"""A client of a running server's route admin API (loopback, token-guarded; see ``admin.py``).

Used by ``pipelinekit route`` and by the web UI's off switch; a change names the user running it.
"""

from __future__ import annotations

import getpass
import json
import urllib.error
import urllib.request
from typing import Any

from pipelinekit.errors import ServingError

__all__ = ["AdminClient"]


class AdminClient:
    """Calls the admin API of the server on 127.0.0.1:``port`` with the token in ``token_file``."""

    def __init__(self, port: int, token_file: str, timeout_s: float = 10.0, who: str | None = None) -> None:
        from pipelinekit.serving.admin_token import read_token

        self._who = who or getpass.getuser()  # recorded with each change
        self._url = f"http://127.0.0.1:{port}"
        self._token = read_token(token_file)
        self._timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps({**body, "who": self._who}).encode()
        request = urllib.request.Request(
            self._url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise ServingError(f"the route admin API answered {exc.code}: {message}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ServingError(
                f"cannot reach the route admin API at {self._url}: {exc}; is `pipelinekit serve --admin_port` running?"
            ) from exc
