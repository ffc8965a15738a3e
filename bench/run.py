"""`python -m bench`: querylang's costs against luqum and a hand-written yardstick, in one run.

Method. Every workload runs over the whole corpus (`bench.corpus`) once per round; the rounds
interleave the workloads (the order rotates each round) and the report gives the median over
rounds of µs per query, so a slow spell of a noisy machine hits every workload alike. Ratios
are taken within each round, then their median is reported. Relative dates are resolved
against a fixed `now`, so every run compiles the same bodies. The garbage collector stays on:
allocation is part of the cost. The values the checker remembers are forgotten before each pass
(and each round of keystrokes), so that no round reads its values from an earlier one.

- Stages: querylang's `parse`, `check` (of parsed trees), `compile` (lowering checked queries to
  the JSON body: `compiler.lower`, with the canonical form), `json.dumps` of the body, and the
  whole pipeline `json.dumps(compile_body(text))`; the same through the pydantic model,
  `json.dumps(compile(text).to_body())`, for comparison; luqum's parse
  and parse + `ElasticsearchQueryBuilder` + `json.dumps` on the Lucene spelling; the yardstick
  (`bench.yardstick`) parse and pipeline.
- Keystrokes: every prefix of every corpus query, through each search-box function that exists
  (`querylang.tokens`, `diagnose`, `complete`; `n/a` until they do), and `parse` + `check` (what
  a search box can call today to underline errors).
- Scaling: one query of 1, 10, 100, 1,000 and 10,000 terms (limits raised), per stage.
- Start-up: wall time of fresh processes, against `python -c pass`.

`--quick` runs every measurement briefly (under 30 s, for CI) and asserts no numbers; `--json`
prints the results as JSON; `--profile` adds a cProfile of the pipeline and `-X importtime`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import querylang
from bench import yardstick
from bench.corpus import TYPICAL, Pair, corpus
from querylang.checker import read_remembered
from querylang.compiler import lower
from querylang.errors import QueryError
from querylang.limits import Limits

# The checkout that holds the querylang being measured (the bench can measure another one:
# `PYTHONPATH=/other/checkout python -m bench`); fresh processes import it from there.
REPO = Path(querylang.__file__).resolve().parents[1]
NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
SEARCH_BOX = ("tokens", "diagnose", "complete")
SIZES = (1, 10, 100, 1_000, 10_000)
BIG = Limits(max_length=10_000_000, max_list_values=1_000_000, max_depth=100)
Workload = Callable[[], object]


@dataclass(frozen=True, slots=True)
class Settings:
    rounds: int
    keystroke_rounds: int
    keystroke_queries: int | None
    scaling_seconds: float
    scaling_sizes: tuple[int, ...]
    startup_runs: int


FULL = Settings(
    rounds=21,
    keystroke_rounds=3,
    keystroke_queries=None,
    scaling_seconds=1.5,
    scaling_sizes=SIZES,
    startup_runs=21,
)
# 10,000 terms is left out: an OR of 10,000 values alone takes seconds today (docs/performance.md).
QUICK = Settings(
    rounds=3,
    keystroke_rounds=1,
    keystroke_queries=6,
    scaling_seconds=0.0,
    scaling_sizes=SIZES[:-1],
    startup_runs=2,
)


# --- the workloads ----------------------------------------------------------------------------


def luqum_workloads(pairs: Sequence[Pair]) -> dict[str, Workload]:
    """luqum's parse, and parse + Elasticsearch query builder + `json.dumps`, over `pairs`."""
    from luqum.elasticsearch import ElasticsearchQueryBuilder  # type: ignore[import-untyped]
    from luqum.parser import parser  # type: ignore[import-untyped]

    builder = ElasticsearchQueryBuilder(default_operator=ElasticsearchQueryBuilder.MUST)
    texts = [pair.lucene for pair in pairs]

    def parse() -> None:
        for text in texts:
            parser.parse(text)

    def pipeline() -> None:
        for text in texts:
            json.dumps(builder(parser.parse(text)))

    return {"luqum parse": parse, "luqum pipeline": pipeline}


def _cold() -> None:
    """Forget the values read so far (the checker remembers them): each pass over the corpus then
    compiles its queries once, as a bulk check does, rather than reading the same values from
    memory round after round. Values repeated within a pass are still remembered."""
    read_remembered.cache_clear()


def stage_workloads(pairs: Sequence[Pair], *, limits: Limits | None = None) -> dict[str, Workload]:
    """One workload per querylang stage, each over `pairs` with its input prepared beforehand."""
    texts = [pair.querylang for pair in pairs]
    trees = [querylang.parse(text, limits=limits) for text in texts]
    checked = [
        querylang.check(tree, text, limits=limits) for tree, text in zip(trees, texts, strict=True)
    ]
    bodies = [lower(query, text, now=NOW).body for query, text in zip(checked, texts, strict=True)]

    def parse() -> None:
        for text in texts:
            querylang.parse(text, limits=limits)

    def check() -> None:
        _cold()
        for tree, text in zip(trees, texts, strict=True):
            querylang.check(tree, text, limits=limits)

    def compile() -> None:
        for query, text in zip(checked, texts, strict=True):
            lower(query, text, now=NOW)

    def dumps() -> None:
        for body in bodies:
            json.dumps(body)

    def pipeline() -> None:
        _cold()
        for text in texts:
            json.dumps(querylang.compile_body(text, now=NOW, limits=limits))

    def pipeline_with_the_model() -> None:
        _cold()
        for text in texts:
            json.dumps(querylang.compile(text, now=NOW, limits=limits).to_body())

    return {
        "parse": parse,
        "check": check,
        "compile": compile,
        "dumps": dumps,
        "pipeline": pipeline,
        "pipeline with the model": pipeline_with_the_model,
    }


def yardstick_workloads(pairs: Sequence[Pair]) -> dict[str, Workload]:
    """The hand-written yardstick's parse and pipeline over `pairs`."""
    texts = [pair.querylang for pair in pairs]

    def parse() -> None:
        for text in texts:
            yardstick.parse(text)

    def pipeline() -> None:
        for text in texts:
            yardstick.pipeline(text, now=NOW)

    return {"yardstick parse": parse, "yardstick pipeline": pipeline}


def interleave(workloads: dict[str, Workload], rounds: int, per: int) -> dict[str, list[float]]:
    """µs per item of each workload, one sample per round, the order rotating every round."""
    names = list(workloads)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm up: imports, caches, the Lark parser
        workloads[name]()
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter_ns()
            workloads[name]()
            samples[name].append((time.perf_counter_ns() - start) / 1_000 / per)
    return samples


RATIOS = {
    "pipeline / luqum pipeline": ("pipeline", "luqum pipeline", 0.25),
    "pipeline / yardstick pipeline": ("pipeline", "yardstick pipeline", 2.5),
    "parse / luqum parse": ("parse", "luqum parse", None),
    "parse / yardstick parse": ("parse", "yardstick parse", None),
}


def measure_stages(pairs: Sequence[Pair], rounds: int) -> dict[str, Any]:
    """Medians (µs per query) of every stage, peer and yardstick workload, and their ratios."""
    workloads = {
        **stage_workloads(pairs),
        **luqum_workloads(pairs),
        **yardstick_workloads(pairs),
    }
    samples = interleave(workloads, rounds, len(pairs))
    ratios = {}
    for label, (ours, theirs, target) in RATIOS.items():
        per_round = [a / b for a, b in zip(samples[ours], samples[theirs], strict=True)]
        ratios[label] = {"median": statistics.median(per_round), "target": target}
    return {
        "queries": len(pairs),
        "rounds": rounds,
        "us_per_query": {name: _summary(values) for name, values in samples.items()},
        "ratios": ratios,
    }


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# --- keystrokes -------------------------------------------------------------------------------


def _guarded(function: Callable[[str], object], crashes: dict[str, str]) -> Callable[[str], object]:
    """`function`, with a `QueryError` as a result, and any other exception (a crash: querylang
    promises a `QueryError` for any text) noted in `crashes` by the text that raised it."""

    def call(text: str) -> object:
        try:
            return function(text)
        except QueryError as error:
            return error
        except Exception as error:
            crashes.setdefault(text, f"{type(error).__name__}: {error}")
            return error

    return call


def _check_as_you_type(text: str) -> object:
    return querylang.check(querylang.parse(text), text)


def measure_keystrokes(pairs: Sequence[Pair], rounds: int) -> dict[str, Any]:
    """Per keystroke (each prefix of each query): median, p99 and max µs of each call, the
    slowest prefix, and the prefixes that raised anything but a `QueryError`."""
    prefixes = [pair.querylang[:end] for pair in pairs for end in range(1, len(pair.querylang) + 1)]
    crashes: dict[str, dict[str, str]] = {}
    calls: dict[str, Callable[[str], object] | None] = {}
    for name in SEARCH_BOX:
        # Called with the text typed so far; `n/a` until the search-box toolkit has it.
        function = getattr(querylang, name) if hasattr(querylang, name) else None
        calls[name] = None if function is None else _guarded(function, crashes.setdefault(name, {}))
    present = {name: call for name, call in calls.items() if call is not None}
    if len(present) > 1:

        def together(text: str) -> object:
            return [call(text) for call in present.values()]

        calls["all search-box calls"] = together
    today = "parse+check (today)"
    calls[today] = _guarded(_check_as_you_type, crashes.setdefault(today, {}))
    results: dict[str, Any] = {"prefixes": len(prefixes), "rounds": rounds}
    for name, call in calls.items():
        if call is None:
            results[name] = None
            continue
        for prefix in prefixes[:50]:  # warm up
            call(prefix)
        per_prefix: list[list[float]] = [[] for _ in prefixes]
        for _ in range(rounds):
            gc.collect()
            _cold()
            for index, prefix in enumerate(prefixes):
                start = time.perf_counter_ns()
                call(prefix)
                per_prefix[index].append((time.perf_counter_ns() - start) / 1_000)
        medians = [statistics.median(samples) for samples in per_prefix]
        costs = sorted(medians)
        slowest = max(range(len(prefixes)), key=medians.__getitem__)
        results[name] = {
            "median": statistics.median(costs),
            "p99": costs[min(len(costs) - 1, round(0.99 * (len(costs) - 1)))],
            "max": costs[-1],
            "slowest prefix": prefixes[slowest],
            "crashes": crashes.get(name, {}),
        }
    return results


# --- scaling ----------------------------------------------------------------------------------


def scaling_queries(terms: int) -> dict[str, tuple[str, str]]:
    """Queries of `terms` terms, in querylang and Lucene: an AND of mixed terms (repeating every
    eight terms), and an OR of distinct agents (a body with `terms` uuids)."""
    mix = [
        ("direction:inbound", "direction:inbound"),
        ("duration:>=5s", "duration:[5000 TO *]"),
        ("after:-7d", "created:[now-7d TO *]"),
        ('from:"+1 (415) 555-0100"', 'from:"+1 (415) 555-0100"'),
        (
            "agent:6fa459ea-ee8a-3ca4-894e-db77e160355e",
            "agent:6fa459ea-ee8a-3ca4-894e-db77e160355e",
        ),
        ("mode:(ai, human)", "mode:(ai OR human)"),
        ("-rating:incomplete", "-rating:incomplete"),
        ("lang:en-us", "lang:en-us"),
    ]
    chosen = [mix[index % len(mix)] for index in range(terms)]
    agents = [f"agent:00000000-0000-4000-8000-{index:012x}" for index in range(terms)]
    return {
        "AND of mixed terms": (" ".join(q for q, _ in chosen), " ".join(lu for _, lu in chosen)),
        "OR of distinct agents": (" OR ".join(agents), " OR ".join(agents)),
    }


def _time_us(workload: Workload, budget: float) -> float:
    """Median µs of one call, repeated until `budget` seconds are spent (at least once; five
    times when each call is short)."""
    samples: list[float] = []
    spent = 0.0
    while not samples or spent < budget or (len(samples) < 5 and spent < 0.2):
        gc.collect()
        start = time.perf_counter_ns()
        workload()
        elapsed = (time.perf_counter_ns() - start) / 1_000
        samples.append(elapsed)
        spent += elapsed / 1e6
    return statistics.median(samples)


def measure_scaling(seconds: float, sizes: Sequence[int] = SIZES) -> dict[str, Any]:
    """µs per stage for each shape and size, µs per term, and the growth of the per-term cost."""
    from luqum.elasticsearch import ElasticsearchQueryBuilder
    from luqum.parser import parser

    builder = ElasticsearchQueryBuilder(default_operator=ElasticsearchQueryBuilder.MUST)
    results: dict[str, Any] = {}
    for size in sizes:
        for shape, (text, lucene) in scaling_queries(size).items():
            pair = Pair(text, lucene, size)
            stages = stage_workloads([pair], limits=BIG)
            row: dict[str, float | None] = {
                name: _time_us(stages[name], seconds / 5) for name in stages
            }

            def luqum(lucene: str = lucene) -> object:
                return json.dumps(builder(parser.parse(lucene)))

            try:
                row["luqum pipeline"] = _time_us(luqum, seconds / 5)
            except RecursionError:
                row["luqum pipeline"] = None
            row["pipeline us/term"] = (row["pipeline"] or 0.0) / size
            results.setdefault(shape, {})[str(size)] = row
    for rows in results.values():
        first, last = rows.get("100"), rows.get(str(sizes[-1]))
        if first and last and sizes[-1] > 100:
            rows[f"per-term growth 100 -> {sizes[-1]}"] = (
                last["pipeline us/term"] / first["pipeline us/term"]
            )
    return results


# --- start-up ---------------------------------------------------------------------------------


def cli_command() -> tuple[list[str], str]:
    """How to run the CLI: the console script next to `sys.executable`, else `-m querylang`."""
    script = shutil.which("querylang", path=str(Path(sys.executable).parent))
    if script:
        return [script], f"console script {script}"
    return [sys.executable, "-m", "querylang"], f"{sys.executable} -m querylang (no console script)"


def child_env() -> dict[str, str]:
    """The environment of a fresh interpreter: this checkout first on the path (an installed
    querylang is shadowed by it), and bytecode cached as in a normal install, even where
    PYTHONDONTWRITEBYTECODE is set (in a directory of its own, so the checkout stays clean)."""
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "querylang-bench-pycache")
    return env


def measure_startup(runs: int) -> dict[str, Any]:
    """Median and minimum wall ms of fresh processes, interleaved, against `python -c pass`."""
    cli, how = cli_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import querylang'": [sys.executable, "-c", "import querylang"],
        "querylang --help": [*cli, "--help"],
        "querylang compile TYPICAL": [*cli, "compile", TYPICAL],
    }
    env = child_env()
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs + 1):
        for name, command in commands.items():
            start = time.perf_counter_ns()
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
            samples[name].append((time.perf_counter_ns() - start) / 1e6)
    # The first run of each warms the OS caches and Lark's grammar cache; it is not counted.
    medians = {name: _summary(values[1:]) for name, values in samples.items()}
    baseline = medians["python -c pass"]["median"]
    for summary in medians.values():
        summary["over python"] = summary["median"] - baseline
    return {"runs": runs, "cli": how, "typical query": TYPICAL, "ms": medians}


# --- profile ----------------------------------------------------------------------------------


def _area(filename: str) -> str:
    """Which library or querylang module a profiled function belongs to."""
    path = filename.replace("\\", "/")
    for marker, area in (
        ("/lark/lexer.py", "lark lexer"),
        ("/lark/parsers/", "lark parser"),
        ("/lark/", "lark (other)"),
        ("/pydantic_core/", "pydantic"),
        ("/pydantic/", "pydantic"),
        ("/phonenumbers/", "phonenumbers"),
    ):
        if marker in path:
            return area
    if "/querylang/" in path:
        return "querylang." + Path(path).stem
    if path.startswith("~") or path.startswith("<"):
        return "builtins"
    return "stdlib: " + Path(path).stem


_STAGE_FUNCTIONS = {
    ("parser.py", "parse"): "parse (Lark + tree builder)",
    ("checker.py", "check"): "check",
    ("formatter.py", "canonical"): "compile: canonical form",
    ("compiler.py", "body"): "compile: lowering",
    ("main.py", "model_validate"): "compile: pydantic validation",
    ("request.py", "to_body"): "to_body (pydantic dump)",
}


def measure_substeps(pairs: Sequence[Pair], rounds: int) -> dict[str, float]:
    """Median µs per query of each step inside the pipeline, timed without a profiler.

    Reaches into querylang's internals (the Lark object, the canonical form, the lowering), so it
    is part of `--profile` only, and may need updating when they change.
    """
    from zoneinfo import ZoneInfo

    from lark import Lark

    from querylang.compiler import _Lowering
    from querylang.formatter import canonical
    from querylang.parser import grammar_text
    from querylang.request import SearchCallsRequest

    schema = querylang.default_schema()
    texts = [pair.querylang for pair in pairs]
    bare_lark = Lark(grammar_text(), parser="lalr", lexer="contextual", cache=True)
    checked = [querylang.check(querylang.parse(text), text) for text in texts]
    canonical_filters = [canonical(query, schema).filter for query in checked]
    zones = [ZoneInfo(query.tz or "UTC") for query in checked]
    lowered = [
        _Lowering(schema, NOW, zone).body(root)
        for root, zone in zip(canonical_filters, zones, strict=True)
    ]
    # The lowering gives the body, or (since the search-box toolkit) the body and its sources.
    bodies = [body[0] if isinstance(body, tuple) else body for body in lowered]
    requests = [SearchCallsRequest.model_validate(body) for body in bodies]
    plain = [request.to_body() for request in requests]

    def lark_tree() -> None:
        for text in texts:
            bare_lark.parse(text)

    def canonical_form() -> None:
        for query in checked:
            canonical(query, schema)

    def lowering() -> None:
        for root, zone in zip(canonical_filters, zones, strict=True):
            _Lowering(schema, NOW, zone).body(root)

    def validate() -> None:
        for body in bodies:
            SearchCallsRequest.model_validate(body)

    def to_body() -> None:
        for request in requests:
            request.to_body()

    def dumps() -> None:
        for body in plain:
            json.dumps(body)

    stages = stage_workloads(pairs)
    workloads: dict[str, Workload] = {
        "parse (querylang.parse)": stages["parse"],
        "  of which Lark alone (a Tree)": lark_tree,
        "check": stages["check"],
        "compile: canonical form": canonical_form,
        "compile: lowering": lowering,
        "compile: pydantic model_validate": validate,
        "to_body (model_dump)": to_body,
        "json.dumps": dumps,
        "pipeline": stages["pipeline"],
    }
    samples = interleave(workloads, rounds, len(pairs))
    return {name: statistics.median(values) for name, values in samples.items()}


def profile_pipeline(pairs: Sequence[Pair], passes: int = 5) -> dict[str, Any]:
    """cProfile of the pipeline: cumulative time per stage and self time per area (µs/query).

    cProfile adds a cost per call, so the shares lean towards code that makes many small calls.
    """
    import cProfile
    import pstats

    pipeline = stage_workloads(pairs)["pipeline"]
    pipeline()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(passes):
        pipeline()
        json.dumps([])  # dumps of real bodies happen inside the pipeline
    profiler.disable()
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    scale = 1e6 / (passes * len(pairs))
    stages: dict[str, float] = {}
    areas: dict[str, float] = {}
    functions: list[tuple[float, str]] = []
    total = 0.0
    for (filename, line, name), (_, _, own, cumulative, _) in stats.items():
        total += own
        area = _area(filename)
        areas[area] = areas.get(area, 0.0) + own * scale
        functions.append((own * scale, f"{area}:{name}:{line}"))
        stage = _STAGE_FUNCTIONS.get((Path(filename).name, name))
        if stage and ("/querylang/" in filename or "/pydantic/" in filename):
            stages[stage] = stages.get(stage, 0.0) + cumulative * scale
    functions.sort(reverse=True)
    return {
        "total us/query (profiled)": total * scale,
        "stages cumulative us/query": stages,
        "areas self us/query": dict(sorted(areas.items(), key=lambda item: -item[1])),
        "top functions self us/query": {label: us for us, label in functions[:15]},
    }


def import_times() -> dict[str, Any]:
    """`python -X importtime -m querylang compile TYPICAL`: self time by top-level package (ms)."""
    env = child_env()
    command = [sys.executable, "-X", "importtime", "-m", "querylang", "compile", TYPICAL]
    subprocess.run(command, env=env, capture_output=True, check=True)  # warm the caches
    stderr = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr
    packages: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        package = name.strip().split(".")[0]
        packages[package] = packages.get(package, 0.0) + int(own) / 1_000
    top = dict(sorted(packages.items(), key=lambda item: -item[1])[:12])
    return {"total ms": sum(packages.values()), "self ms by package": top}


# --- the report -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("lark", "pydantic", "pydantic-core", "phonenumbers", "luqum", "ply"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.platform(),
        "querylang": str(REPO),
        "load average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


SECTIONS = ("stages", "keystrokes", "scaling", "startup")


def run(
    settings: Settings, *, profile: bool = False, only: Sequence[str] = SECTIONS
) -> dict[str, Any]:
    """The measurements (every section, or those in `only`), as one JSON-ready dict."""
    pairs = corpus()
    keystroke_pairs = pairs[: settings.keystroke_queries] if settings.keystroke_queries else pairs
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": asdict(settings) | {"keystroke_queries": len(keystroke_pairs)},
    }
    if "stages" in only:
        results["stages"] = measure_stages(pairs, settings.rounds)
    if "keystrokes" in only:
        results["keystrokes"] = measure_keystrokes(keystroke_pairs, settings.keystroke_rounds)
    if "scaling" in only:
        results["scaling"] = measure_scaling(settings.scaling_seconds, settings.scaling_sizes)
    if "startup" in only:
        results["startup"] = measure_startup(settings.startup_runs)
    results["load average at end"] = machine()["load average"]
    if profile:
        try:
            results["substeps"] = measure_substeps(pairs, settings.rounds)
        except Exception as error:  # it reaches into internals, which may have moved
            results["substeps"] = {f"failed: {type(error).__name__}: {error}": None}
        results["profile"] = profile_pipeline(pairs)
        results["import time"] = import_times()
    return results


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _report_stages(add: Callable[[str], None], stages: dict[str, Any]) -> None:
    add(f"µs per query: {stages['queries']} queries, median of {stages['rounds']} rounds")
    add(f"  {'workload':<22}{'median':>10}{'min':>10}{'max':>10}")
    for name, summary in stages["us_per_query"].items():
        add(
            f"  {name:<22}{_fmt(summary['median']):>10}"
            f"{_fmt(summary['min']):>10}{_fmt(summary['max']):>10}"
        )
    add("")
    add(f"  {'ratio (median of rounds)':<32}{'measured':>10}{'target':>10}")
    for label, ratio in stages["ratios"].items():
        target = ratio["target"]
        verdict = "" if target is None else ("  met" if ratio["median"] <= target else "  NOT met")
        add(f"  {label:<32}{_fmt(ratio['median'], 2):>10}{_fmt(target, 2):>10}{verdict}")


def _report_keystrokes(add: Callable[[str], None], keys: dict[str, Any]) -> None:
    add(f"per keystroke: {keys['prefixes']:,} prefixes, median of {keys['rounds']} rounds each")
    add(f"  {'call':<24}{'median µs':>12}{'p99 µs':>12}{'max µs':>12}")
    calls = {name: value for name, value in keys.items() if name not in ("prefixes", "rounds")}
    for name, value in calls.items():
        if value is None:
            add(f"  {'querylang.' + name:<24}{'n/a':>12}{'n/a':>12}{'n/a':>12}")
        else:
            add(
                f"  {name:<24}{_fmt(value['median']):>12}{_fmt(value['p99']):>12}"
                f"{_fmt(value['max']):>12}"
            )
    add("  targets: median <= 150 µs, p99 <= 1,000 µs (search-box toolkit)")
    for name, value in calls.items():
        if value is not None:
            add(f"  slowest prefix for {name}: {value['slowest prefix']!r}")
            for text, crash in list(value["crashes"].items())[:5]:
                add(f"  CRASH in {name} (not a QueryError) on {text!r}: {crash}")


def _report_scaling(add: Callable[[str], None], scaling: dict[str, Any]) -> None:
    columns = ("parse", "check", "compile", "dumps", "pipeline", "pipeline us/term")
    for shape, rows in scaling.items():
        add(f"scaling, {shape} (µs per query; limits raised)")
        add(f"  {'terms':>7}" + "".join(f"{c:>17}" for c in (*columns, "luqum pipeline")))
        for size, row in rows.items():
            if isinstance(row, dict):
                cells = [_fmt(row[c]) for c in columns] + [_fmt(row["luqum pipeline"])]
                add(f"  {int(size):>7,}" + "".join(f"{c:>17}" for c in cells))
        for label, growth in rows.items():
            if label.startswith("per-term growth"):
                biggest = int(label.rsplit(" ", 1)[1])
                add(f"  per-term cost, {biggest:,} terms vs 100: x{growth:.2f} (1.0 = linear)")
        add("")


def _report_startup(add: Callable[[str], None], startup: dict[str, Any]) -> None:
    add(f"start-up: wall ms of fresh processes, {startup['runs']} interleaved runs")
    add(f"  CLI run as: {startup['cli']}")
    add(f"  {'command':<32}{'median':>10}{'min':>10}{'over python':>14}{'target':>10}")
    targets = {"querylang --help": 40.0, "querylang compile TYPICAL": 150.0}
    for name, summary in startup["ms"].items():
        add(
            f"  {name:<32}{_fmt(summary['median']):>10}{_fmt(summary['min']):>10}"
            f"{_fmt(summary['over python']):>14}{_fmt(targets.get(name)):>10}"
        )
    add(f"  TYPICAL = {startup['typical query']!r}")


def _report_profile(add: Callable[[str], None], results: dict[str, Any]) -> None:
    add("inside the pipeline, µs per query (timed alone, no profiler)")
    for name, us in results["substeps"].items():
        add(f"    {name:<36}{_fmt(us):>10}")
    prof = results["profile"]
    add("")
    add(f"profile of the pipeline (cProfile; {_fmt(prof['total us/query (profiled)'])} µs/query")
    add("  when profiled, so the shares matter more than the figures)")
    add("  stages, cumulative µs/query:")
    for name, us in prof["stages cumulative us/query"].items():
        add(f"    {name:<36}{_fmt(us):>10}")
    add("  self µs/query by area:")
    for name, us in prof["areas self us/query"].items():
        add(f"    {name:<36}{_fmt(us):>10}")
    add("  top functions, self µs/query:")
    for name, us in prof["top functions self us/query"].items():
        add(f"    {name:<60}{_fmt(us):>8}")
    imports = results["import time"]
    add("")
    add(f"imports of `querylang compile`: {_fmt(imports['total ms'])} ms (-X importtime)")
    for name, ms in imports["self ms by package"].items():
        add(f"    {name:<36}{_fmt(ms):>10}")


def report(results: dict[str, Any]) -> str:
    """The results as readable tables."""
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    add(f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']} ({m['system']})")
    add(f"querylang measured: {m['querylang']}; load average at start: {m['load average']}")
    add("versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    sections: dict[str, Callable[[Callable[[str], None], dict[str, Any]], None]] = {
        "stages": _report_stages,
        "keystrokes": _report_keystrokes,
        "scaling": _report_scaling,
        "startup": _report_startup,
    }
    for name, section in sections.items():
        if name in results:
            add("")
            section(add, results[name])
    if "profile" in results:
        add("")
        _report_profile(add, results)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run for CI (under 30 s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--profile", action="store_true", help="add cProfile and import times")
    parser.add_argument("--rounds", type=int, help="rounds of the stage measurements")
    parser.add_argument(
        "--only",
        type=lambda text: [name.strip() for name in text.split(",")],
        default=list(SECTIONS),
        metavar="SECTION,...",
        help=f"run only these sections (of {', '.join(SECTIONS)})",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.rounds:
        settings = replace(settings, rounds=args.rounds)
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}")
    results = run(settings, profile=args.profile, only=args.only)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results), end="")
    return 0
