"""Upload of a backup-sized file (5.7 MB, like the benchmark configuration's) to each kind of backup location
(SPEC §14), against real servers on 127.0.0.1: a second folder, and ``rclone serve sftp|webdav|s3``.

Prints, per kind, the median wall time of ``put`` (on an open connection) and of a whole copy as the
scheduler makes it (connect, put, list back, read back, SHA-256), each as a ratio to the same on a folder
location measured in the same run (the machines are shared and noisy: compare ratios, not times).
Run: .venv/bin/python bench/location_bench.py [--runs 5]
"""

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SIZE = 5_700_000


def settings(kind, server, root):
    from support.rclone import ACCESS_KEY, PASSWORD, SECRET_KEY, USER

    if kind == "folder":
        return {"kind": kind, "path": str(root)}
    host, port = server.address.split(":")
    return {
        "sftp": {"host": host, "port": int(port), "username": USER, "password": PASSWORD, "path": "backups"},
        "webdav": {"url": f"http://{server.address}/backups", "username": USER, "password": PASSWORD},
        "s3": {
            "endpoint_url": f"http://{server.address}",
            "region": "",
            "bucket": "backups",
            "prefix": "",
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "tls_fingerprint": "",
        },
    }[kind] | {"kind": kind}


def measure(kind, server, root, data, runs):
    from vibenvr.backups.locations.kinds import transport_for

    digest = hashlib.sha256(data).hexdigest()
    puts, copies = [], []
    with transport_for(settings(kind, server, root)) as transport:
        transport.put("vibe_backup_manual_20261129_000000.json", data)  # connect and warm up
        for n in range(runs):
            name = f"vibe_backup_manual_20261129_0000{n + 1:02d}.json"
            start = time.perf_counter()
            transport.put(name, data)
            puts.append(time.perf_counter() - start)
    for n in range(runs):
        name = f"vibe_backup_auto_20261129_0000{n + 1:02d}.json"
        start = time.perf_counter()
        with transport_for(settings(kind, server, root)) as transport:
            transport.put(name, data)
            assert {f.name: f.size for f in transport.list()}[name] == len(data)
            assert hashlib.sha256(transport.get(name, len(data) + 1)).hexdigest() == digest
        copies.append(time.perf_counter() - start)
    return statistics.median(puts), statistics.median(copies)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from support.rclone import RcloneServer

    data = os.urandom(SIZE)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "folder"
        folder.mkdir()
        results["folder"] = measure("folder", None, folder, data, args.runs)
        for kind in ("sftp", "webdav", "s3"):
            root = Path(tmp) / kind
            (root / "backups").mkdir(parents=True)
            try:
                with RcloneServer(kind, root, extra=["--dir-cache-time", "0s"]) as server:
                    results[kind] = measure(kind, server, root, data, args.runs)
            except ModuleNotFoundError as exc:
                print(f"{kind}: not available in this build ({exc})")
    base_put, base_copy = results["folder"]
    print(f"{SIZE / 1e6:.1f} MB, median of {args.runs} runs; ratios to the folder location in this run")
    for kind, (put, copy) in results.items():
        print(
            f"{kind:<7} put {put * 1000:>6.0f} ms ({put / base_put:5.1f}x)   "
            f"whole copy (connect, put, list, read back, sha256) {copy * 1000:>6.0f} ms ({copy / base_copy:5.1f}x)"
        )


if __name__ == "__main__":
    main()
