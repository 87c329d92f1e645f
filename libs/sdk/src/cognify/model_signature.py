"""`cognify model-signature`: download a sealed run's OpenSSF Model Signing signature.

The seal signs the run's final model (docs/spec/package.md, "The model's OMS signature");
this fetches the bundle (`GET /v1/runs/{run_id}/model-signature`) and the workspace's OMS
public key (`GET /v1/workspaces/{ws}/oms-key`) from the exporter (COGNIFY_EXPORTER_URL,
COGNIFY_API_KEY) and writes `<run>.model.sig` and `<workspace>.oms.pub.pem` into a
directory, for

    model_signing verify key MODEL_DIR --signature <run>.model.sig --public_key <pem>

The key comes over the same channel as the signature: an auditor who wants more pins the
key's `key_hint` obtained independently (docs/spec/trust.md), and the bundle's SHA-256 is
the one the run's sealed JSON package names (`cognify verify-package` checks that).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


class DownloadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Downloaded:
    signature: Path
    public_key: Path
    sha256: str
    key_hint: str


def _get(base: str, path: str, api_key: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(f"{base}{path}")
    request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"the exporter answered {exc.code} for {path}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"cannot reach the exporter at {base}: {exc.reason}") from None


def download(run_id: str, workspace_id: str, out: Path) -> Downloaded:
    base = os.environ.get("COGNIFY_EXPORTER_URL", "http://127.0.0.1:8082").rstrip("/")
    api_key = os.environ.get("COGNIFY_API_KEY", "")
    bundle, _ = _get(base, f"/v1/runs/{run_id}/model-signature", api_key)
    body, _ = _get(base, f"/v1/workspaces/{workspace_id}/oms-key", api_key)
    key = json.loads(body)
    out.mkdir(parents=True, exist_ok=True)
    signature = out / f"{run_id}.model.sig"
    public_key = out / f"{workspace_id}.oms.pub.pem"
    signature.write_bytes(bundle)
    public_key.write_text(str(key["public_key_pem"]))
    digest = "sha256:" + hashlib.sha256(bundle).hexdigest()
    return Downloaded(signature, public_key, digest, str(key["key_hint"]))
