"""The SQL `GET /api/v1/customers?project=…&q=…` runs, and PostgreSQL's plan for each statement that
reads the customers table (S5's plan assertion).

    python -m bench.search_plans --seed seed.json --token TOKEN --q 1234 --q 王伟 --q wxm [--show]

Runs against DATABASE_URL after `bench.search_seed`, in its own process (the settings read DATABASE_URL
at import time). Each query string goes through the whole Django stack in process (middleware, bearer
auth, the view) with `CaptureQueriesContext`; every captured statement that reads `customers_customer`
is then run again as `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` — the exact SQL text the endpoint sent,
parameters included. Read-only: the list endpoint writes nothing.

A statement passes when its plan reads the customers table through an index that serves the search
condition: an Index Scan / Index Only Scan / Bitmap Index Scan on a customers index whose Index Cond
carries the searched column (`phone_last4`, `phone`, `name`, `name_pinyin`, `name_initials`), and no
Seq Scan of the table. Walking the primary key backwards (for `ORDER BY id DESC`) and filtering each
row (`pk_order_scan`) reads the table in id order until it has a page: fine when matches are dense and
it stops after a few thousand rows, a full scan in disguise when they are rare. It passes only if it
read less than `PK_WALK_MAX_SHARE` of the table's rows.

With no search (q empty) there is nothing to find by index: such statements are reported, not judged.

Prints one JSON line last: {"table_rows": N, "queries": {q: {"ok", "count", "statements": [{"sql",
"role", "ok", "why", "seq_scan", "rows_read", "nodes", "execution_ms", "rows_removed_by_filter",
"plan"}]}}}.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

TABLE = "customers_customer"
SEARCH_COLUMNS = ("phone_last4", "phone", "name", "name_pinyin", "name_initials")
INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
PK_WALK_MAX_SHARE = 0.05


def walk(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += walk(child)
    return nodes


def customer_indexes(cursor: Any) -> set[str]:
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
    return {row[0] for row in cursor.fetchall()}


def judge(plan: dict[str, Any], indexes: set[str], sql: str, table_rows: int) -> dict[str, Any]:
    """Which nodes touch the customers table, and whether an index serves the search condition."""
    nodes = walk(plan["Plan"])
    where = sql.split(" WHERE ", 1)[-1]
    searched = any(f'"{TABLE}"."{column}"' in where for column in SEARCH_COLUMNS)
    touching = []
    for node in nodes:
        if node.get("Relation Name") == TABLE or node.get("Index Name") in indexes:
            touching.append(
                {
                    key: node[key]
                    for key in (
                        "Node Type",
                        "Index Name",
                        "Scan Direction",
                        "Index Cond",
                        "Recheck Cond",
                        "Filter",
                        "Parallel Aware",
                        "Plan Rows",
                        "Actual Rows",
                        "Actual Loops",
                        "Rows Removed by Filter",
                        "Rows Removed by Index Recheck",
                        "Actual Total Time",
                    )
                    if key in node
                }
            )
    seq = [n for n in touching if n["Node Type"] == "Seq Scan"]
    index_nodes = [n for n in touching if n["Node Type"] in INDEX_NODES]

    def serves_search(node: dict[str, Any]) -> bool:
        cond = node.get("Index Cond", "")
        return any(f"{column})" in cond or f"{column} " in cond for column in SEARCH_COLUMNS)

    searching = [n for n in index_nodes if serves_search(n)]
    pk_order = [
        n
        for n in index_nodes
        if n.get("Index Name", "").endswith("_pkey") and not n.get("Index Cond") and n.get("Filter")
    ]
    # Rows the scans of the table looked at; figures of a node are per loop (per parallel worker).
    rows_read = sum(
        (
            n.get("Actual Rows", 0)
            + n.get("Rows Removed by Filter", 0)
            + n.get("Rows Removed by Index Recheck", 0)
        )
        * n.get("Actual Loops", 1)
        for n in touching
        if n["Node Type"] in ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")
    )
    if not searched:
        # No search (q empty): nothing to find by index; reported, not judged.
        ok = True
        why = "no search condition; " + ", ".join(sorted({n["Node Type"] for n in touching}))
    elif seq:
        ok, why = False, f"Seq Scan on {TABLE}"
    elif searching:
        ok, why = (
            True,
            "index on the searched column: " + ", ".join(sorted({n["Index Name"] for n in searching})),
        )
    elif pk_order:
        ok = rows_read < PK_WALK_MAX_SHARE * table_rows
        why = (
            f"pk_order_scan: walks the primary key in id order filtering each row, "
            f"{rows_read:,.0f} of {table_rows:,} rows read" + ("" if ok else " (a full scan in all but name)")
        )
    elif index_nodes:
        ok, why = False, "an index is used, but not on the searched column"
    else:
        ok, why = False, f"no index scan on {TABLE}"
    # Actual figures of a node are averages per loop (per parallel worker): times its loops.
    removed = sum(
        (n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0))
        * n.get("Actual Loops", 1)
        for n in touching
    )
    return {
        "ok": ok,
        "why": why,
        "seq_scan": bool(seq),
        "rows_read": round(rows_read),
        "nodes": touching,
        "rows_removed_by_filter": removed,
        "execution_ms": round(plan.get("Execution Time", 0.0), 2),
        "planning_ms": round(plan.get("Planning Time", 0.0), 2),
    }


def role_of(sql: str) -> str:
    head = sql.lstrip().upper()
    if head.startswith("SELECT COUNT(*)"):
        return "count"
    return "page"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", required=True, type=Path)
    parser.add_argument("--token", required=True)
    parser.add_argument("--q", action="append", required=True, help="a query string (repeatable)")
    parser.add_argument("--show", action="store_true", help="also print each statement and its plan")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anchang.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed = json.loads(args.seed.read_text())
    client = Client()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {args.token}"}
    url = "/api/v1/customers"
    client.get(url, {"project": seed["project_id"], "q": "预热"}, **auth)  # first request builds caches
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        indexes = customer_indexes(cursor)
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [TABLE])
        table_rows = cursor.fetchone()[0]
    for q in args.q:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"project": seed["project_id"], "q": q}, **auth)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}?q={q} answered {response.status_code}: {response.content[:300]!r}")
        body = response.json()
        statements = []
        for captured in ctx.captured_queries:
            sql = captured["sql"]
            if TABLE not in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                raw = cursor.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
            verdict = judge(plan, indexes, sql, table_rows)
            statements.append({"role": role_of(sql), "sql": sql, **verdict, "plan": plan["Plan"]})
            if args.show:
                print(f"\n=== q={q!r} {role_of(sql)}: {verdict['why']} ({verdict['execution_ms']} ms)")
                print(sql)
                for node in verdict["nodes"]:
                    print("   ", node)
        out[q] = {
            "statements_in_request": len(ctx.captured_queries),
            "count": body["count"],
            "count_is_estimate": body["count_is_estimate"],
            "items": len(body["items"]),
            "ok": all(s["ok"] for s in statements) and bool(statements),
            "statements": statements,
        }
    print(json.dumps({"table_rows": table_rows, "queries": out}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
