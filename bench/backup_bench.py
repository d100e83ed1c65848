"""Backup engine benchmark: create, verify and restore a large configuration against raw-SQLite floors.

    .venv/bin/python bench/backup_bench.py [--runs 5]

Builds 2,000 cameras (2 masks, 2 zones, a 7-day schedule each), 100 groups, 10,000 associations,
20 storage profiles, 500 users, 5,000 API tokens, 5,000 recovery codes and 2,000 trusted devices in a
temporary SQLite data folder, then prints the median of N runs of each operation, the floors measured
in the same run, their ratios, and the peak RSS growth of a restore against the file's size.

Floors: "create" = raw sqlite3 SELECT of the same tables, rows as dicts, json.dumps, write and fsync;
"verify" = json.loads of the file (the least a validation does); "diff" (of the file's document against a
copy with 1 % of its items changed) = validate_document of the same file, the target being at most its
cost; "restore" = raw DELETE of the tables
plus executemany INSERTs of the same rows, in one transaction. The process remembers nothing between
backups, so every create is a cold one.
"""

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTS = {
    "cameras": 2000,
    "groups": 100,
    "associations": 10000,
    "storage_profiles": 20,
    "users": 500,
    "api_tokens": 5000,
    "recovery_codes": 5000,
    "trusted_devices": 2000,
    "backup_recipients": 3,
}
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$" + "h" * 43
TABLES = (
    "setting",
    "storage_profile",
    "camera",
    "group",
    "camera_group",
    "user",
    "api_token",
    "recovery_code",
    "trusted_device",
    "backup_recipient",
)


def large_document():
    """A valid current-version document of the benchmark's size (checksum added by the caller)."""
    from pyrage import x25519

    from vibenvr.backups.document.canonical import FORMAT, SCHEMA_VERSION, SECTIONS
    from vibenvr.settings.registry import SETTINGS

    stamp = "2026-11-29T22:40:00Z"
    week = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    mask = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.5], [0.1, 0.5]]
    cameras = [
        {
            "id": i,
            "name": f"Camera {i:04d}",
            "location": f"Building {i % 40}",
            "created_at": stamp,
            "rtsp_url": f"rtsp://nvr:p%40ss@10.0.{i // 250}.{i % 250 + 1}:554/stream1",
            "sub_rtsp_url": f"rtsp://nvr:p%40ss@10.0.{i // 250}.{i % 250 + 1}:554/stream2",
            "storage_profile_id": i % 20 + 1,
            "privacy_masks": [mask, mask],
            "motion_zones": [mask, mask],
            "schedule": {day: [["00:00", "07:30"], ["20:00", "24:00"]] for day in week},
            "overlay_text": f"Cam {i}",
            "onvif_host": f"10.0.{i // 250}.{i % 250 + 1}",
            "extra": {"vendor": "acme"},
        }
        for i in range(1, COUNTS["cameras"] + 1)
    ]
    users = [
        {
            "id": i,
            "username": f"user{i:03d}",
            "email": f"user{i}@example.com",
            "hashed_password": FAKE_HASH,
            "role": "admin" if i <= 5 else "viewer",
            "is_2fa_enabled": i % 3 == 0,
            "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" if i % 3 == 0 else None,
            "restrict_camera_access": i % 2 == 0,
            "allowed_camera_ids": [i, i + 1] if i % 2 == 0 else [],
            "allowed_group_ids": [i % 100 + 1] if i % 2 == 0 else [],
            "created_at": stamp,
        }
        for i in range(1, COUNTS["users"] + 1)
    ]

    def owner(i):
        return f"user{i % COUNTS['users'] + 1:03d}"

    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "version": "2.0",
        "timestamp": stamp,
        "kind": "manual",
        "app_version": "bench",
        "settings": {key: d.default for key, d in SETTINGS.items()},
        "storage_profiles": [
            {"id": i, "name": f"Disk {i}", "path": f"/recordings/disk{i}", "max_size_gb": 500} for i in range(1, 21)
        ],
        "cameras": cameras,
        "groups": [{"id": i, "name": f"Group {i}", "description": "zone"} for i in range(1, 101)],
        "associations": [
            {"camera_id": c, "group_id": (c * 7 + k * 13) % 100 + 1} for c in range(1, 2001) for k in range(5)
        ],
        "users": users,
        "api_tokens": [
            {
                "id": i,
                "name": f"token {i}",
                "username": owner(i),
                "token_hash": hashlib.sha256(f"t{i}".encode()).hexdigest(),
                "created_at": stamp,
                "last_used_at": stamp,
                "expires_at": None,
                "is_active": True,
            }
            for i in range(1, 5001)
        ],
        "recovery_codes": [
            {"id": i, "username": owner(i), "code_hash": FAKE_HASH, "created_at": stamp} for i in range(1, 5001)
        ],
        "trusted_devices": [
            {
                "id": i,
                "username": owner(i),
                "token_hash": hashlib.sha256(f"d{i}".encode()).hexdigest(),
                "name": f"Phone {i}",
                "last_used": stamp,
                "expires_at": "2026-12-29T22:40:00Z",
                "created_at": stamp,
            }
            for i in range(1, 2001)
        ],
        "backup_recipients": [  # encrypted backups go to the server key and these three (SPEC §13)
            {
                "id": i,
                "name": f"Admin key {i}",
                "recipient": str(x25519.Identity.generate().to_public()),
                "created_at": stamp,
            }
            for i in range(1, COUNTS["backup_recipients"] + 1)
        ],
        "backup_locations": [],  # copies off this machine (SPEC §14): none in the benchmark
    }
    doc["counts"] = {key: len(doc[key]) for key in SECTIONS}
    return doc


def one_percent_changed(doc):
    """A copy of a validated document with every hundredth item of each section changed (a field each: a
    camera's name and schedule, a user's role, a token's name, …), and every hundredth setting."""
    import copy

    changed = copy.deepcopy(doc)
    edits = {
        "cameras": lambda c: c.update(name=c["name"] + " (moved)", schedule={"monday": [["08:00", "13:00"]]}),
        "users": lambda u: u.update(role="viewer" if u["role"] == "admin" else "admin"),
        "associations": lambda link: link.update(group_id=link["group_id"] % 100 + 1),
        "recovery_codes": lambda code: code.update(created_at="2026-11-30T00:00:00Z"),
    }
    for section, items in changed.items():
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            continue
        edit = edits.get(section, lambda item: item.update(name=f"{item['name']} (renamed)"))
        for item in items[::100]:
            edit(item)
    settings = changed["settings"]
    for key in list(settings)[::100]:
        settings[key] = settings[key] + 1 if type(settings[key]) is int else settings[key]
    return changed


def _timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def median_times(works, runs):
    """(wall, cpu) medians of ``runs`` timings of each work, interleaved so that load from other
    processes hits them all alike."""
    times = [[] for _ in works]
    for _ in range(runs):
        for slot, work in zip(times, works, strict=True):
            slot.append(_timed(work))
    return [(statistics.median(t[0] for t in slot), statistics.median(t[1] for t in slot)) for slot in times]


def profile(label, work):
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    print(f"\n--- profile of one {label} (top 10 by own time) ---")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(10)


def floor_create(db_path, out_path):
    """Raw sqlite3: SELECT every table, rows as dicts, json.dumps, write, fsync."""
    conn = sqlite3.connect(db_path)
    try:
        doc = {}
        for table in TABLES:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            names = [c[0] for c in cursor.description]
            doc[table] = [dict(zip(names, row, strict=True)) for row in cursor]
        data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    finally:
        conn.close()
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def store_as_before(db_path, doc):
    """Rewrite the cameras' schedules as versions before 2026-11-30 stored JSON text: keys in the order
    given, not sorted. A backup must come out byte for byte the same; only its speed may differ."""
    text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.executemany(
                'UPDATE "camera" SET "schedule" = ? WHERE "id" = ?',
                [(text(camera["schedule"]), camera["id"]) for camera in doc["cameras"]],
            )
    finally:
        conn.close()


def snapshot_rows(db_path):
    conn = sqlite3.connect(db_path)
    try:
        rows = {}
        for table in TABLES:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            rows[table] = ([c[0] for c in cursor.description], cursor.fetchall())
        return rows
    finally:
        conn.close()


def floor_restore(db_path, rows):
    """Raw sqlite3: DELETE every table and executemany the same rows, in one transaction."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=1")
        conn.execute("PRAGMA synchronous=normal")
        conn.execute("BEGIN")
        for table in reversed(TABLES):
            conn.execute(f'DELETE FROM "{table}"')
        for table in TABLES:
            names, values = rows[table]
            marks = ", ".join("?" * len(names))
            columns = ", ".join(f'"{n}"' for n in names)
            conn.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)
        conn.execute("COMMIT")
    finally:
        conn.close()


def rss_child(data_dir, backup_path):
    """In a fresh process: peak RSS growth while reading, validating and restoring one file."""
    from vibenvr.backups.document.validate import validate_document
    from vibenvr.backups.restore import restore_document
    from vibenvr.db import db

    app = _make_app(Path(data_dir))
    with app.app_context(), db.connection_context():
        before = _rss_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
        restore_document(validate_document(Path(backup_path).read_bytes()))
        peak = _rss_kib("VmHWM")
    print(json.dumps({"growth_bytes": (peak - before) * 1024}))


def _rss_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _make_app(data_dir):
    from vibenvr import create_app

    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": data_dir,
            "SCHEDULER_ENABLED": False,
            "SECRET_KEY": "bench",
            "SKIP_ASSET_CHECK": True,
            "DATABASE_URL": f"sqlite:///{data_dir}/vibenvr.db",
        }
    )


def encrypted_runs(service, update_settings, runs):
    """``backup_encrypt = all`` against plain: create (export, encrypt, write, validate) and verify (read,
    decrypt, validate) of the same configuration, interleaved; returns the times and the encrypted size."""
    made = {}

    def create(mode):
        update_settings({"backup_encrypt": mode})
        made[mode] = service.create_backup("manual")

    t_enc, t_plain = median_times([lambda: create("all"), lambda: create("off")], runs)
    store = service.get_store()
    t_venc, t_vplain = median_times([lambda: store.open(made["all"].name), lambda: store.open(made["off"].name)], runs)
    return t_enc, t_plain, t_venc, t_vplain, made["all"].size_bytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print cProfile tops of create and restore")
    args = parser.parse_args()

    from vibenvr.backups import service
    from vibenvr.backups.document.canonical import compute_checksum, encode
    from vibenvr.backups.document.diff import diff_documents
    from vibenvr.backups.document.export import export_bytes
    from vibenvr.backups.document.validate import validate_document
    from vibenvr.backups.restore import restore_document
    from vibenvr.db import db
    from vibenvr.settings.service import update_settings

    with tempfile.TemporaryDirectory(prefix="vibenvr-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        app = _make_app(data_dir)
        db_path = str(data_dir / "vibenvr.db")
        floor_path = Path(tmp) / "floor.json"
        with app.app_context(), db.connection_context():
            doc = large_document()
            doc["checksum"] = compute_checksum(doc)
            restore_document(validate_document(encode(doc)))
            rows = snapshot_rows(db_path)
            gc.collect()
            gc.freeze()  # the benchmark's own data is no work for the collector, in the floor or in VibeNVR

            created = []

            def create_cold():
                created.append(service.create_backup("manual"))  # every backup encodes every row afresh

            t_cold, f_create = median_times([create_cold, lambda: floor_create(db_path, floor_path)], args.runs)
            path = Path(app.config["BACKUP_DIR"]) / created[-1].name
            data = path.read_bytes()
            valid = validate_document(data)
            t_verify, f_verify, t_restore, f_restore = median_times(
                [
                    lambda: validate_document(path.read_bytes()),
                    lambda: json.loads(path.read_bytes()),  # the least a validation does: parse the file
                    lambda: restore_document(valid),
                    lambda: floor_restore(db_path, rows),
                ],
                args.runs,
            )
            changed = one_percent_changed(valid.doc)
            assert not diff_documents(valid.doc, changed)["identical"], "the changed copy differs"
            t_diff, f_diff = median_times(
                [lambda: diff_documents(valid.doc, changed), lambda: validate_document(path.read_bytes())],
                args.runs,
            )
            if args.profile:
                profile("create (cold)", create_cold)
                profile("diff", lambda: diff_documents(valid.doc, changed))
            t_enc, f_enc, t_venc, f_venc, enc_size = encrypted_runs(service, update_settings, args.runs)
            fixed = dt.datetime(2026, 11, 29, 22, 40)
            canonical_stored = export_bytes(now=fixed)
            store_as_before(db_path, doc)
            assert export_bytes(now=fixed) == canonical_stored, "the stored text changed the backup"
            t_before, f_before = median_times([create_cold, lambda: floor_create(db_path, floor_path)], args.runs)
            if args.profile:
                profile("create (cold, old text)", create_cold)
                profile("verify", lambda: validate_document(data))
                profile("restore", lambda: restore_document(valid))

        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(data_dir), str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        growth = json.loads(child.stdout.strip().splitlines()[-1])["growth_bytes"]

    size = len(data)
    print(f"configuration: {', '.join(f'{n:,} {k}' for k, n in COUNTS.items())}")
    print(f"backup file: {size / 1e6:.2f} MB; median of {args.runs} interleaved runs (wall clock, and CPU time)")
    print("one line per operation, ending with the ratio of its CPU time to its floor's")
    print("(old text: the first backup after an upgrade, schedules still stored as before 2026-11-30)")
    print(
        f"(encrypted: age to the server key and {COUNTS['backup_recipients']} admin keys, {enc_size / 1e6:.2f} MB; "
        "its floor is the same operation on a plain file)"
    )
    rows = [
        ("create cold", t_cold, f_create, "<= 2x"),
        ("create old-text", t_before, f_before, ""),
        ("verify", t_verify, f_verify, ""),
        ("diff", t_diff, f_diff, "<= 1x"),
        ("restore", t_restore, f_restore, "<= 3x"),
        ("create encrypted", t_enc, f_enc, "<= 1.3x"),
        ("verify encrypted", t_venc, f_venc, "<= 1.3x"),
    ]
    for name, ours, floor, target in rows:
        print(
            f"{name:<16} wall {ours[0] * 1000:>5.0f}ms floor {floor[0] * 1000:>5.0f}ms ({ours[0] / floor[0]:.2f}x)  "
            f"cpu {ours[1] * 1000:>5.0f}ms floor {floor[1] * 1000:>5.0f}ms  target {target or '-':<6} "
            f"{ours[1] / floor[1]:.2f}x"
        )
    print(
        f"peak RSS growth of verify + restore: {growth / 1e6:.1f} MB = {growth / size:.1f}x the file size "
        "(target <= 10x)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--rss-child":
        rss_child(sys.argv[2], sys.argv[3])
    else:
        main()
