"""Times Runway's official Python SDK (`runwayml`) for `cargo bench --bench vs_python`.

Usage: runway_driver.py BASE_URL TASK_ID

Builds one synchronous `RunwayML` client (httpx, keep-alive, default retries) and then reads
commands on stdin, one per line: `N` runs N sequential `client.tasks.retrieve(TASK_ID)` calls
and prints the elapsed nanoseconds of the batch; an empty line or EOF ends it. The first line
printed is `ready <runwayml version>`.
"""

import sys
import time

import runwayml
from runwayml import RunwayML


def main() -> None:
    base_url, task_id = sys.argv[1], sys.argv[2]
    client = RunwayML(api_key="key_bench", base_url=base_url)
    task = client.tasks.retrieve(task_id)
    assert task.id == task_id, task
    print(f"ready {runwayml.__version__}", flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            break
        calls = int(line)
        started = time.perf_counter_ns()
        for _ in range(calls):
            task = client.tasks.retrieve(task_id)
        elapsed = time.perf_counter_ns() - started
        assert task.status == "SUCCEEDED", task
        print(elapsed, flush=True)
    client.close()


if __name__ == "__main__":
    main()
