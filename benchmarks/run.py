"""bridge against Mangum, apig-wsgi and serverless-wsgi, side by side.

    python benchmarks/run.py            # the full run (about five minutes)
    python benchmarks/run.py --quick    # under two minutes, fewer rounds
    python benchmarks/run.py --only requests,bodies,coldstart,soak,events,runtime --json out.json

Requests run in this process, every contender interleaved round by round on
fresh copies of the same event; the large-body, cold-start and soak sections
run in child processes, and the runtime section (``runtime.py``) starts each
Lambda runtime as a process of its own against a Runtime API on loopback.
Every response is checked before it is timed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import apps  # noqa: E402
import contenders as cs  # noqa: E402
from stats import (  # noqa: E402
    Series,
    fmt_bytes,
    fmt_time,
    interleave,
    paired_ratio,
    paired_ratio_interval,
)

from bridge.local.events import build_event  # noqa: E402

SOURCES = ["http", "rest", "alb", "alb-multi", "url"]
SOURCE_LABELS = {
    "http": "HTTP API 2.0",
    "rest": "REST",
    "alb": "ALB",
    "alb-multi": "ALB multi-value",
    "url": "Function URL",
}
#: The request headers of the timed events.  "minimal": a bare client.
#: "browser": what a browser's page request carries; the samples of real
#: HTTP API, REST and function URL events carry 10-22 headers, as this does
#: once the event adds Host and the X-Forwarded ones.
HEADER_SETS: dict[str, list[tuple[str, str]]] = {
    "minimal": [
        ("User-Agent", "bench/1.0"),
        ("Accept", "text/plain, */*"),
        ("Accept-Language", "en"),
        ("Cookie", "session=abc; theme=dark"),
    ],
    "browser": [
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Accept-Language", "en-GB,en-US;q=0.9,en;q=0.8"),
        ("Cache-Control", "max-age=0"),
        ("Cookie", "session=abc; theme=dark"),
        ("Sec-Ch-Ua", '"Chromium";v="130", "Google Chrome";v="130"'),
        ("Sec-Ch-Ua-Mobile", "?0"),
        ("Sec-Ch-Ua-Platform", '"Linux"'),
        ("Sec-Fetch-Dest", "document"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Site", "none"),
        ("Sec-Fetch-User", "?1"),
        ("Upgrade-Insecure-Requests", "1"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0"),
        ("X-Amzn-Trace-Id", "Root=1-62ecd163-5f302e550dcde3b12402207d"),
    ],
}
#: The apps also timed with the "browser" headers: the WSGI ones, whose
#: adapters (bridge, apig-wsgi, serverless-wsgi) differ most in per-header work.
BROWSER_APPS = ("trivial-wsgi", "flask", "django")
SECTIONS = ("requests", "bodies", "coldstart", "soak", "events", "runtime")


# ----------------------------------------------------------------- requests


def _check(contender: cs.Contender, event: Any) -> str | None:
    """None when the response is right, else what is wrong with it."""
    try:
        status, headers, body = contender.check(event)
    except Exception as exc:  # a contender that fails is reported, not fatal
        return f"raised {type(exc).__name__}: {exc}"
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    if status != 200 or body != apps.BODY or not content_type.startswith("text/plain"):
        return f"wrong response: {status} {content_type!r} {body[:40]!r}"
    return None


def _time_group(
    app: Any, interface: str, source: str, event: dict[str, Any], *, rounds: int, batch: int
) -> dict[str, Any]:
    """Every contender on ``event``, interleaved round by round."""
    runners = []
    notes: dict[str, str] = {}
    made: list[cs.Contender] = []
    for make in cs.ADAPTERS[interface]:
        try:
            made.append(make(app, source, interface))
        except cs.Unavailable as exc:
            notes[getattr(make, "__name__", "?")] = str(exc)
    for make in cs.FLOORS[interface]:
        made.append(make(app, source, interface, event))

    def fresh(contender: cs.Contender, event: Any = event) -> Any:
        return contender.prepare(event)

    for contender in made:
        problem = _check(contender, event)
        if problem:
            notes[contender.name] = problem
            continue
        contender.run_batch([contender.prepare(event) for _ in range(batch)])  # warm up
        runners.append((contender.name, contender.run_batch, lambda c=contender, f=fresh: f(c)))
    series = interleave(runners, rounds=rounds, batch=batch)
    return {"rows": {name: s.summary() for name, s in series.items()}, "notes": notes}


def requests_section(rounds: int, batch: int, app_names: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for app_name in app_names:
        interface, factory = apps.APPS[app_name]
        app = factory()
        header_sets = ["minimal", "browser"] if app_name in BROWSER_APPS else ["minimal"]
        for headers in header_sets:
            for source in SOURCES:
                event = build_event(
                    source, path="/hello", query="a=1&b=two", headers=HEADER_SETS[headers]
                )
                key = f"{app_name}/{source}" + ("" if headers == "minimal" else f"/{headers}")
                results[key] = _time_group(
                    app, interface, source, event, rounds=rounds, batch=batch
                )
                results[key].update(app=app_name, source=source, headers=headers)
                print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Paired (round by round) median ratio of two result rows of the same run."""
    return paired_ratio(Series("a", a["samples"]), Series("b", b["samples"]))


def print_requests(results: dict[str, Any]) -> None:
    print("## Requests: time per invocation, median (p10-p90)\n")
    by_app: dict[str, list[dict[str, Any]]] = {}
    for group in results.values():
        headers = group.get("headers", "minimal")
        title = group["app"] + ("" if headers == "minimal" else f", {headers} headers")
        by_app.setdefault(title, []).append(group)
    for title, groups in by_app.items():
        print(f"### {title}\n")
        names: list[str] = []
        for group in groups:
            names += [n for n in group["rows"] if n not in names]
        header = ["contender"] + [SOURCE_LABELS[g["source"]] for g in groups]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for name in names:
            cells = [name]
            for group in groups:
                row = group["rows"].get(name)
                if row is None:
                    cells.append("n/a")
                    continue
                bridge = group["rows"].get("bridge")
                ratio = f", {_ratio(row, bridge):.2f}x bridge" if bridge else ""
                cells.append(
                    f"{fmt_time(row['median'])} ({fmt_time(row['p10'])}-"
                    f"{fmt_time(row['p90'])}){ratio if name != 'bridge' else ''}"
                )
            print("| " + " | ".join(cells) + " |")
        notes = {k: v for g in groups for k, v in g["notes"].items()}
        for name, note in notes.items():
            print(f"\n- {name}: {note}")
        print()


# ------------------------------------------------------------ non-HTTP events


def print_events(results: dict[str, Any]) -> None:
    print("## An SQS batch (10 messages) through non_http_path vs a plain handler\n")
    print("| handler | time per invocation, median (p10-p90) | / plain handler (95% interval) |")
    print("|---|---|---|")
    reference = results["rows"][results["reference"]]
    for name, row in results["rows"].items():
        if row is reference:
            ratio = "1"
        else:
            low, high = paired_ratio_interval(
                Series("a", row["samples"]), Series("b", reference["samples"])
            )
            ratio = f"{_ratio(row, reference):.2f}x ({low:.2f}-{high:.2f})"
        times = f"{fmt_time(row['median'])} ({fmt_time(row['p10'])}-{fmt_time(row['p90'])})"
        print(f"| {name} | {times} | {ratio} |")
    print()


# ------------------------------------------------------------ child sections


def _child(args: list[str], timeout: float = 1800) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("PYTHONDEVMODE", None)
    output = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if output.returncode != 0:
        return {"error": output.stderr.strip().splitlines()[-1:] or [f"exit {output.returncode}"]}
    return json.loads(output.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def bodies_section(rounds: int) -> dict[str, Any]:
    script = os.path.join(HERE, "bodies.py")
    return {
        "with pybase64": _child([script, "--rounds", str(rounds)]),
        "standard library only": _child([script, "--rounds", str(rounds), "--no-pybase64"]),
    }


def print_bodies(results: dict[str, Any]) -> None:
    print("## Large bodies: time and peak traced memory (tracemalloc) per invocation\n")
    for variant, data in results.items():
        if "error" in data:
            print(f"{variant}: failed: {data['error']}\n")
            continue
        for case in data["cases"]:
            size = case["body_bytes"]
            reference = case["rows"][case["reference"]]
            print(f"### {case['case']}, {variant}\n")
            print(
                "| contender | median (p10-p90) | vs bare stdlib step | peak memory | peak / body |"
            )
            print("|---|---|---|---|---|")
            for name, row in case["rows"].items():
                print(
                    f"| {name} | {fmt_time(row['median'])} ({fmt_time(row['p10'])}-"
                    f"{fmt_time(row['p90'])}) | {_ratio(row, reference):.2f}x | "
                    f"{fmt_bytes(row['peak_bytes'])} | {row['peak_bytes'] / size:.2f}x |"
                )
            for name, note in case["notes"].items():
                print(f"\n- {name}: {note}")
            print()


def soak_section(count: int) -> dict[str, Any]:
    script = os.path.join(HERE, "soak.py")
    return {
        name: _child([script, name, str(count)])
        for name in ("trivial-asgi", "fastapi-async", "fastapi-sync", "flask")
    }


def print_soak(results: dict[str, Any]) -> None:
    print("## Soak: one bridge handler, many invocations in one process\n")
    print("| app | invocations | per call | RSS before | RSS change | tasks | threads |")
    print("|---|---|---|---|---|---|---|")
    for name, data in results.items():
        if "n" not in data:
            print(f"| {name} | {data.get('unavailable') or data.get('error')} ||||||")
            continue
        before, after = data["before"], data["after"]
        change = (after["rss"] - before["rss"]) / 2**20
        print(
            f"| {name} | {data['n']:,} | {fmt_time(data['seconds'] / data['n'])} | "
            f"{fmt_bytes(before['rss'])} | {change:+.2f} MiB | "
            f"{before['tasks']} -> {after['tasks']} | {before['threads']} -> {after['threads']} |"
        )
    print()


def print_coldstart(results: dict[str, Any]) -> None:
    print("## Cold start (fresh interpreters, medians)\n")
    print("| import | median (p10-p90) | imports asyncio |")
    print("|---|---|---|")
    for name, row in results["imports"].items():
        print(
            f"| `{name}` | {fmt_time(row['median'])} ({fmt_time(row['p10'])}-"
            f"{fmt_time(row['p90'])}) | {'yes' if row['asyncio'] else 'no'} |"
        )
    within = results.get("imports_within_runtime_client")
    if within:
        print(
            "\nWithin the Lambda runtime client (`awslambdaric.bootstrap` imported first, "
            "untimed):\n"
        )
        print("| import | median (p10-p90) |")
        print("|---|---|")
        for name, row in within.items():
            print(
                f"| `{name}` | {fmt_time(row['median'])} ({fmt_time(row['p10'])}-"
                f"{fmt_time(row['p90'])}) |"
            )
    print("\n| process start to first response | median (p10-p90) | asyncio loaded |")
    print("|---|---|---|")
    for name, row in results["first"].items():
        loaded = {True: "yes", False: "no", None: "-"}[row["asyncio"]]
        print(
            f"| {name} | {fmt_time(row['median'])} ({fmt_time(row['p10'])}-"
            f"{fmt_time(row['p90'])}) | {loaded} |"
        )
    for name, note in results["notes"].items():
        print(f"\n- {name}: {note}")
    print()


# ------------------------------------------------------------------ targets


def _row(results: dict[str, Any], group: str, name: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        results.get("requests", {}).get(group, {}).get("rows", {}).get(name)
    )
    return row


def _judged(a: dict[str, Any], b: dict[str, Any], goal: float, *, above: bool) -> tuple[str, str]:
    """(measured, verdict) for the paired ratio of two rows against ``goal``
    (at least ``goal`` if ``above``, else under it): a verdict only when the
    whole 95% interval is on one side of the goal."""
    value = _ratio(a, b)
    low, high = paired_ratio_interval(Series("a", a["samples"]), Series("b", b["samples"]))
    if (low >= goal) if above else (high < goal):
        verdict = "met"
    elif (high < goal) if above else (low >= goal):
        verdict = "NOT met"
    else:
        verdict = "level: the interval spans the goal"
    return f"{value:.3f}x ({low:.3f}-{high:.3f})", verdict


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every goal this run measured.  Ratios are
    given with their 95% bootstrap interval (``paired_ratio_interval``)."""
    rows: list[tuple[str, str, str]] = []

    def ratio(label: str, group: str, num: str, den: str, goal: float, *, above: bool) -> None:
        if group not in results.get("requests", {}):
            return  # this app was not part of the run
        a, b = _row(results, group, num), _row(results, group, den)
        if a is None or b is None:
            missing = den if b is None else num
            note = results.get("requests", {}).get(group, {}).get("notes", {})
            why = note.get(missing) or note.get("bridge") or "not measured"
            rows.append((label, "n/a", f"not measured: {why}"))
            return
        rows.append((label, *_judged(a, b, goal, above=above)))

    if "requests" in results:
        r = "trivial-asgi/http"
        off, auto = "mangum lifespan=off", "mangum lifespan=auto"
        ratio("trivial ASGI: Mangum(off) / bridge >= 4", r, off, "bridge", 4, above=True)
        ratio("trivial ASGI: Mangum(default) / bridge >= 10", r, auto, "bridge", 10, above=True)
        for app in ("fastapi-async", "fastapi-sync"):
            g = f"{app}/http"
            ratio(
                f"{app}: bridge / app awaited directly <= 1.15",
                g,
                "bridge",
                "floor: awaited in running loop",
                1.15,
                above=False,
            )
            ratio(
                f"{app}: bridge / app via run_until_complete (for reference) <= 1.15",
                g,
                "bridge",
                "floor: run_until_complete",
                1.15,
                above=False,
            )
        for app in ("flask", "django"):
            for headers in ("minimal", "browser"):
                for source in SOURCES:
                    label = (
                        f"{app}, {SOURCE_LABELS[source]}, {headers} headers: bridge / apig-wsgi < 1"
                    )
                    group = f"{app}/{source}" + ("" if headers == "minimal" else f"/{headers}")
                    ratio(label, group, "bridge", "apig-wsgi", 1, above=False)
        label = "trivial WSGI: bridge / apig-wsgi <= 1.5"
        ratio(label, "trivial-wsgi/http", "bridge", "apig-wsgi", 1.5, above=False)
    for variant, data in results.get("bodies", {}).items():
        for case in data.get("cases", []):
            bridge_rows = [n for n in case["rows"] if n.startswith("bridge")]
            reference = case["rows"][case["reference"]]
            for name in bridge_rows:
                row = case["rows"][name]
                peak = row["peak_bytes"] / case["body_bytes"]
                rows.append(
                    (
                        f"{case['case']}, {name}, {variant}: peak <= 2.7x body",
                        f"{peak:.2f}x",
                        "met" if peak <= 2.7 else "NOT met",
                    )
                )
                label = f"{case['case']}, {name}, {variant}: time <= 1.05x bare stdlib base64"
                rows.append((label, *_judged(row, reference, 1.05, above=False)))
    cold = results.get("coldstart", {}).get("imports")
    if cold:
        b, m, a = cold["bridge"]["median"], cold["mangum"]["median"], cold["apig_wsgi"]["median"]
        rows.append(
            (
                "import bridge <= import mangum",
                f"{fmt_time(b)} vs {fmt_time(m)}",
                "met" if b <= m else "NOT met",
            )
        )
        rows.append(
            (
                "import bridge (WSGI: no asyncio) <= import apig_wsgi",
                f"{fmt_time(b)} vs {fmt_time(a)}; asyncio imported: "
                f"{'yes' if cold['bridge']['asyncio'] else 'no'}",
                "met" if b <= a and not cold["bridge"]["asyncio"] else "NOT met",
            )
        )
    within = results.get("coldstart", {}).get("imports_within_runtime_client")
    if within and "bridge" in within and "apig_wsgi" in within:
        b, a = within["bridge"]["median"], within["apig_wsgi"]["median"]
        rows.append(
            (
                "import bridge <= import apig_wsgi, within the Lambda runtime client",
                f"{fmt_time(b)} vs {fmt_time(a)}",
                "met" if b <= a else "NOT met",
            )
        )
    for name, data in results.get("soak", {}).items():
        if "n" not in data:
            rows.append((f"soak {name}", "n/a", str(data.get("unavailable") or data.get("error"))))
            continue
        before, after = data["before"], data["after"]
        change = (after["rss"] - before["rss"]) / 2**20
        flat = (
            change <= 2
            and (after["tasks"] or 0) <= (before["tasks"] or 0)
            and after["threads"] <= before["threads"]
        )
        rows.append(
            (
                f"soak {name} ({data['n']:,} calls): RSS within 2 MB, no task/thread growth",
                f"{change:+.2f} MiB, tasks {before['tasks']}->{after['tasks']}, "
                f"threads {before['threads']}->{after['threads']}",
                "met" if flat else "NOT met",
            )
        )
    runtime_results = results.get("runtime")
    if runtime_results and "error" not in runtime_results:
        import runtime

        rows += runtime.targets(runtime_results)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: under two minutes")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--apps", default=",".join(apps.APPS), help="comma-separated apps")
    parser.add_argument("--json", help="also write every figure to this file")
    options = parser.parse_args()
    sections = options.only.split(",")
    quick = options.quick
    started = time.perf_counter()
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f"# bridge benchmarks, {now:%Y-%m-%d %H:%M} UTC\n")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} at start. "
        f"Mode: {'quick' if quick else 'full'}.\n"
    )
    if sys.flags.dev_mode or sys.gettrace() is not None:
        print("WARNING: development mode or a tracer is on; every figure is inflated.\n")
    print(
        "The machine is shared and noisy: absolute times move from run to run, so compare "
        "the ratios, which come from contenders interleaved round by round in the same run.\n"
    )
    results: dict[str, Any] = {}
    if "requests" in sections:
        rounds, batch = (20, 20) if quick else (80, 40)
        results["requests"] = requests_section(rounds, batch, options.apps.split(","))
        print_requests(results["requests"])
    if "bodies" in sections:
        results["bodies"] = bodies_section(5 if quick else 25)
        print_bodies(results["bodies"])
    if "coldstart" in sections:
        import coldstart

        results["coldstart"] = coldstart.measure(3 if quick else 15)
        print_coldstart(results["coldstart"])
    if "soak" in sections:
        results["soak"] = soak_section(10_000 if quick else 100_000)
        print_soak(results["soak"])
    if "events" in sections:
        import nonhttp

        rounds, batch = (20, 20) if quick else (80, 40)
        results["events"] = nonhttp.measure(rounds, batch)
        print_events(results["events"])
    if "runtime" in sections:
        import runtime

        chosen = [app for app in options.apps.split(",") if app in runtime.APPS]
        args = [os.path.join(HERE, "runtime.py"), "--json-line"]
        args += (["--apps", ",".join(chosen)] if chosen else []) + (["--quick"] if quick else [])
        results["runtime"] = _child(args)
        if "error" in results["runtime"]:
            print(f"## Runtime: failed: {results['runtime']['error']}\n")
        else:
            runtime.print_report(results["runtime"])
    print("## Targets\n")
    print("| target | measured | verdict |")
    print("|---|---|---|")
    for target, measured, verdict in targets(results):
        print(f"| {target} | {measured} | {verdict} |")
    print(f"\nTook {time.perf_counter() - started:.0f} s.")
    if options.json:
        with open(options.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
