"""Generated trees over the API: the same files as `generate`, their lint, one file, the zip."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from scalesim_patterns.generate import generate
from scalesim_patterns.model import loads

from .conftest import create


def test_tree_file_and_zip_match_the_generator(client: TestClient) -> None:
    arch = create(client, "saga1", template="saga")
    files = generate(loads(arch["text"]))
    base = f"/api/architectures/{arch['id']}/versions/1"
    body = client.get(f"{base}/generate").json()
    assert [f["path"] for f in body["files"]] == sorted(files)
    assert all(f["bytes"] == len(files[f["path"]].encode()) for f in body["files"])
    assert set(body["lint"]) >= {"ok", "findings", "errors", "warnings"}
    assert body["lint"]["files"] >= 1
    path = sorted(files)[0]
    one = client.get(f"{base}/generate/file", params={"path": path}).json()
    assert one == {"path": path, "text": files[path]}
    r = client.get(f"{base}/generate/file", params={"path": "../../etc/passwd"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    z = client.get(f"{base}/generate.zip")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    assert 'filename="saga1-v1.zip"' in z.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        names = archive.namelist()
        assert names == [f"saga1-v1/{p}" for p in sorted(files)]
        assert archive.read(f"saga1-v1/{path}").decode() == files[path]
    assert client.get(f"{base}/generate.zip").content == z.content  # byte-identical


def test_generate_errors(client: TestClient) -> None:
    assert client.get("/api/architectures/9/versions/1/generate").status_code == 404
    assert client.get("/api/architectures/9/versions/1/generate.zip").status_code == 404
    broken = client.post("/api/architectures", json={"name": "b", "text": "kind: x\n"}).json()
    r = client.get(f"/api/architectures/{broken['id']}/versions/1/generate")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_architecture"
    r = client.get(f"/api/architectures/{broken['id']}/versions/1/generate/file")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
