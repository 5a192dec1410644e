"""Run the same work in several threads at once, for the PostgreSQL concurrency tests."""

import threading
from collections.abc import Callable

from django.db import close_old_connections, connection


def run_in_parallel(work: Callable[[int], object], n: int) -> list[object]:
    """Start `n` threads that pass a barrier together, then call `work(i)`.

    Returns each thread's outcome, or the exception it raised.
    """
    barrier = threading.Barrier(n)
    outcomes: list[object] = [None] * n

    def run(i: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
