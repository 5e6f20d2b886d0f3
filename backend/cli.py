"""The `selfinstall` command: serve, migrate, seed, token, label, import-assets, photo, report-device, sweep-devices,
sweep-files."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

from backend.logs import granian_log_config
from backend.principal import Principal, Role
from backend.settings import InsecureStart, Settings, check_production_ready, get_settings


def _port_in_use(host: str, port: int) -> bool:
    """granian binds with SO_REUSEPORT, so a second server on a busy port would silently share it
    (and its requests) with the first: check with a plain bind first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # A listening server still refuses it, but the closed connections of one that just died (kill -9,
        # TIME_WAIT for a minute) do not: a restart right after a crash must not be mistaken for a second server.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _serve(args: argparse.Namespace) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    try:  # before anything is bound: --host may name a public address the settings do not know
        check_production_ready(settings, host)
    except InsecureStart as exc:
        raise SystemExit(f"error: {exc}") from None
    if _port_in_use(host, port):
        raise SystemExit(f"error: {host}:{port} is already in use (another selfinstall serve?); stop it or use --port")
    workers = args.workers or settings.workers
    _share_metrics(settings, workers)
    Granian(
        "backend.app:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=workers,
        log_dictconfig=granian_log_config(settings.log_format),
    ).serve()


def _share_metrics(settings: Settings, workers: int) -> None:
    """With several workers, prometheus-client keeps each one's figures in files of one folder and a
    scrape of any worker sums them (backend/metrics.py). The folder is emptied first: the last run's
    counts are not this run's, and Prometheus reads a restart as a counter reset anyway."""
    folder = settings.prometheus_multiproc_dir or (settings.data_dir / "prometheus" if workers > 1 else None)
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    # Read by prometheus-client itself in each worker; the workers are forked, so the cached settings go too.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    get_settings.cache_clear()


def _migrate(_: argparse.Namespace) -> None:
    from backend.migrate import migrate

    asyncio.run(migrate())
    print("migrations applied")


def _seed(_: argparse.Namespace) -> None:
    from fixtures.seed import seed

    summary = asyncio.run(seed(get_settings()))
    print(summary)


def _positive_seconds(value: str) -> int:
    """argparse's reading of a lifetime: a token that expired before it was made is a typo, said as one."""
    seconds = int(value)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {value}")
    return seconds


def _token(args: argparse.Namespace) -> None:
    from backend.auth import issue_token

    try:
        print(issue_token(get_settings(), args.sub, Role(args.role), timedelta(seconds=args.ttl), args.email))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _label(args: argparse.Namespace) -> None:
    from backend.installs import qr
    from backend.installs.assets import issue_label
    from backend.installs.context import build_context

    async def payload() -> str:  # printing issues the label: signed with the active key, recorded as such
        return await issue_label(build_context(get_settings()), Principal(subject="cli", role=Role.ADMIN), args.serial)

    text = asyncio.run(payload())
    if args.format == "text":
        print(text)
        return
    data = qr.render_svg(text) if args.format == "svg" else qr.render_png(text, args.serial)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"{args.output}: {text}")
    else:
        sys.stdout.buffer.write(data)


def _import_assets(args: argparse.Namespace) -> None:
    import msgspec
    from tqdm import tqdm

    from backend.installs.assets import AssetRow, import_assets, parse_csv
    from backend.installs.context import build_context

    text = Path(args.file).read_text(encoding="utf-8-sig")
    if args.file.endswith(".json"):
        items = msgspec.json.decode(text, type=list[dict[str, str]])
        rows = [
            AssetRow(line=n, serial=i.get("serial", ""), asset_type=i.get("asset_type", ""))
            for n, i in enumerate(items, start=1)
        ]
    else:
        rows = parse_csv(text)
    admin = Principal(subject="cli", role=Role.ADMIN)

    async def run() -> None:
        with tqdm(total=len(rows), unit="asset", desc="importing") as bar:
            imported = await import_assets(build_context(get_settings()), admin, rows, bar.update)
        for asset in imported:
            print(f"{asset.serial}\t{asset.asset_type}\t{'created' if asset.created else 'unchanged'}\t{asset.payload}")

    asyncio.run(run())


def _photo(args: argparse.Namespace) -> None:
    from fixtures.demo_photos import demo_photo

    Path(args.output).write_bytes(asyncio.run(demo_photo(get_settings(), args.serial, args.slot, args.ean)))
    print(args.output)


def _report_device(args: argparse.Namespace) -> None:
    import uuid
    from datetime import UTC, datetime

    import httpx

    from backend.auth import issue_token

    body: dict[str, object] = {
        "report_id": args.report_id or f"demo-{uuid.uuid4()}",
        "device_serial": args.serial,
        "ean": args.ean,
        "reported_at": datetime.now(UTC).isoformat(),
        "source": args.source,
    }
    if args.reading is not None:
        body["readings"] = {"import_kwh": args.reading, "export_kwh": 0.0}
    token = issue_token(get_settings(), args.sub, Role.SYSTEM, timedelta(minutes=5))
    try:
        r = httpx.post(
            f"{args.url.rstrip('/')}/integrations/v1/device-reports",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise SystemExit(f"error: {args.url} did not answer ({exc}); is `selfinstall serve` running?") from None
    print(f"HTTP {r.status_code}")
    print(r.text)
    if r.status_code >= 300:
        raise SystemExit(2)


def _sweep_devices(_: argparse.Namespace) -> None:
    from backend.installs.context import build_context
    from backend.integrations.sweep import sweep_silent_devices

    ctx = build_context(get_settings())
    print(f"{asyncio.run(sweep_silent_devices(ctx, ctx.clock()))} device_silent cases opened")


def _sweep_files(args: argparse.Namespace) -> None:
    from backend.installs.context import build_context
    from backend.installs.orphans import sweep_files
    from backend.storage import SweepReport
    from backend.uploads.sweep import UploadSweep, sweep_uploads

    settings = get_settings()
    grace = settings.orphan_grace_s if args.grace_s is None else args.grace_s
    ctx = build_context(settings)

    async def sweep() -> tuple[SweepReport, UploadSweep]:
        try:
            return await sweep_files(ctx, grace), await sweep_uploads(ctx, grace)
        finally:
            await ctx.store.aclose()  # an S3 client's connections, before the loop ends

    report, uploads = asyncio.run(sweep())
    print(f"{report.partials} partial uploads and {report.orphans} photos without a row removed")
    print(f"{uploads.expired} expired resumable uploads and {uploads.parts} parts without a row removed")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="selfinstall", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service (granian)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(fn=_serve)
    sub.add_parser("migrate", help="apply the committed database migrations").set_defaults(fn=_migrate)
    sub.add_parser("seed", help="load the demo data and write data/demo.json").set_defaults(fn=_seed)
    token = sub.add_parser("token", help="print a signed development JWT")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", required=True)
    token.add_argument("--ttl", type=_positive_seconds, default=8 * 3600, help="seconds (default 8 hours)")
    token.add_argument("--email", help="an `email` claim, as a provider's token carries (customers' e-mail)")
    token.set_defaults(fn=_token)
    label = sub.add_parser("label", help="render an asset's QR label")
    label.add_argument("serial")
    label.add_argument("--format", choices=["png", "svg", "text"], default="png", help="text: the payload only")
    label.add_argument("-o", "--output")
    label.set_defaults(fn=_label)
    imp = sub.add_parser("import-assets", help="load a warehouse batch (CSV serial,asset_type or JSON list)")
    imp.add_argument("file")
    imp.set_defaults(fn=_import_assets)
    photo = sub.add_parser("photo", help="render a demo photo of an asset for a slot (real image bytes)")
    photo.add_argument("serial")
    photo.add_argument("slot")
    photo.add_argument("--ean", help="connection whose location goes into the EXIF GPS")
    photo.add_argument("-o", "--output", required=True)
    photo.set_defaults(fn=_photo)
    report = sub.add_parser("report-device", help="post a device report to the running service, as a head-end would")
    report.add_argument("serial")
    report.add_argument("--ean", required=True, help="the connection the device reports at")
    report.add_argument("--reading", type=float, help="import reading in kWh")
    report.add_argument("--source", choices=["head-end", "charger-back-office"], default="head-end")
    report.add_argument("--url", default="http://127.0.0.1:8000")
    report.add_argument("--sub", default="head-end-demo", help="subject of the system token")
    report.add_argument("--report-id", help="default: a new one (send the same id again to see a replay)")
    report.set_defaults(fn=_report_device)
    sweep = sub.add_parser(
        "sweep-devices", help="open device_silent cases for approved installs whose device never reported"
    )
    sweep.set_defaults(fn=_sweep_devices)
    files = sub.add_parser("sweep-files", help="remove partial uploads and photo files no row refers to")
    files.add_argument(
        "--grace-s", type=float, help="only files older than this (default ORPHAN_GRACE_S; 0 only when no server runs)"
    )
    files.set_defaults(fn=_sweep_files)
    return p


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    import msgspec

    from backend.errors import DomainError

    args = parser().parse_args(argv)
    try:
        args.fn(args)
    except DomainError as exc:
        print(f"error: {exc.code}: {exc.message('en')}", file=sys.stderr)
        for row in exc.rows:
            print(f"  {row.text('en')}", file=sys.stderr)
        raise SystemExit(2) from None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
