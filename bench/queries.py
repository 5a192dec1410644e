"""SQL statements per check-in, by kind of visitor, through the whole Django stack (middleware, token
auth, the API view, commit hooks) — the same path gunicorn serves, minus the socket.

    python -m bench.queries --seed seed.json [--show] [--profile 300]

Runs against DATABASE_URL after `bench.seed`; it makes a few real check-ins (phones of its own prefix,
so they never collide with the load). `--show` prints every statement of one check-in of each kind;
`--profile N` runs N new-visitor check-ins under cProfile and prints where the time goes
(`--profile-out FILE` keeps the raw stats for `python -m pstats FILE`).
Prints one JSON line (the counts) last, which the orchestrator reads.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", required=True, type=Path)
    parser.add_argument("--prefix", default="186", help="new phones: never the pool's 139 or the load's 13x")
    parser.add_argument("--nth", type=int, default=1, help="which pool customer, counted from the end")
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--profile-out", type=Path, help="also dump the raw cProfile stats here")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anchang.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed = json.loads(args.seed.read_text())
    client = Client()
    desk = seed["frontdesk"][0]
    answer = client.post("/api/v1/auth/token", desk, content_type="application/json")
    assert answer.status_code == 200, answer.content
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {answer.json()['token']}"}
    url = f"/api/v1/projects/{seed['project_id']}/checkins"
    counter = iter(range(10**7))

    def new_phone() -> str:
        return f"{args.prefix}{next(counter):08d}"

    def post(body: dict[str, object]) -> tuple[int, list[str], float, dict[str, object]]:
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(url, {**body, "consent": True}, content_type="application/json", **auth)
        elapsed = time.perf_counter() - start
        assert response.status_code == 201, (response.status_code, response.content)
        return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries], elapsed, response.json()

    # The first request of a process builds caches (URL resolver, ninja schemas): not counted.
    post({"phone": new_phone(), "name": "预热"})
    kinds = {
        "new": {"phone": new_phone(), "name": "王新", "gender": "male", "source": "friend"},
        "returning protected": {"phone": seed["returning_protected"][-args.nth]},
        "returning lapsed": {"phone": seed["returning_lapsed"][-args.nth]},
        "designated": {"phone": new_phone(), "designated_consultant_id": seed["consultant_ids"][3]},
    }
    counts: dict[str, dict[str, object]] = {}
    for kind, body in kinds.items():
        n, statements, elapsed, answer_body = post(body)
        rule = answer_body["attribution"]["rule"]  # type: ignore[index]
        counts[kind] = {"queries": n, "rule": rule, "ms_in_process": round(elapsed * 1000, 1)}
        if args.show:
            print(f"\n=== {kind}: {n} statements, rule={rule}, {elapsed * 1000:.1f} ms")
            for i, sql in enumerate(statements, 1):
                print(f"{i:3d}  {sql[:220]}")

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        for _ in range(args.profile):
            client.post(
                url,
                {"phone": new_phone(), "name": "张测", "consent": True},
                content_type="application/json",
                **auth,
            )
        profiler.disable()
        per = (time.perf_counter() - start) / args.profile * 1000
        print(f"\n=== cProfile over {args.profile} new-visitor check-ins: {per:.2f} ms each (with profiler)")
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)

    print(json.dumps(counts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
