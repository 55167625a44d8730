#!/usr/bin/env python3
"""Checks dbinfo's task export: CSV and JSON of the same database agree, one row per task.

    check_export.py DBINFO DATABASE TASKS FAILED

Both formats must parse (Python's csv and json modules), hold TASKS rows with the same ids and
columns, FAILED of them with status "error" and their error text, and time stamps in order.
"""
import csv
import io
import json
import subprocess
import sys


def run(*args):
    r = subprocess.run(list(args), capture_output=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {r.returncode}: {r.stderr.decode()}")
    return r.stdout.decode()


def main():
    dbinfo, db, tasks, failed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rows = list(csv.DictReader(io.StringIO(run(dbinfo, "export", db, "--format", "csv"),
                                           newline="")))
    objs = json.loads(run(dbinfo, "export", db, "--format", "json"))
    problems = []
    if len(rows) != tasks or len(objs) != tasks:
        problems.append(f"{len(rows)} CSV rows and {len(objs)} JSON objects, expected {tasks}")
    for row, obj in zip(rows, objs):
        if set(row) != set(obj):
            problems.append(f"CSV columns {sorted(row)} differ from JSON keys {sorted(obj)}")
            break
        for k, v in obj.items():
            text = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
            if row[k] != text:
                problems.append(f"task {obj['run']}:{obj['msg_id']}: {k} is '{row[k]}' in CSV, "
                                f"'{text}' in JSON")
        if obj["started_ns"] and not (obj["submitted_ns"] <= obj["started_ns"] <=
                                      obj["completed_ns"] <= obj["received_ns"]):
            problems.append(f"task {obj['run']}:{obj['msg_id']}: stamps out of order")
    bad = [o for o in objs if o["status"] == "error"]
    if len(bad) != failed or any(not o["error"] for o in bad):
        problems.append(f"{len(bad)} failed tasks (expected {failed}), each with its error")
    if problems:
        print("FAILED: " + "; ".join(problems[:10]))
        return 1
    print(f"export ok: {len(rows)} tasks in CSV and JSON, {len(bad)} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
