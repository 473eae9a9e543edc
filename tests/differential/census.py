"""Count how many generated networks disagree with the reference, and why.

Runs the differential comparison on N generated networks with no known bug
skipped, each in a forked child process (a bug may crash the interpreter), and
sorts the disagreements by the known bugs whose conditions each network meets:

    PYTHONPATH=$PWD python tests/differential/census.py -n 1000 [--seed 3] [--show 2]

Not a test: a tool to measure the generator and to see which bugs are left.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

from hypothesis import HealthCheck, given, seed, settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netgen import (  # noqa: E402
    deferred_keys,
    descriptions,
    differences,
    execute,
    in_float64,
    known_bugs,
    optimised_network,
    reference_network,
    reset_differences,
    script,
    unused_sum_of_stacked,
)


def examine(desc) -> dict:
    """The comparison with nothing skipped: the known-bug conditions met and the first differences."""
    bugs: set[str] = set(known_bugs(desc))
    loose: dict[str, float] = {}  # lazily added traces: within their documented tolerance, as test_differential

    def inspect(net) -> None:
        bugs.update(known_bugs(desc, net))
        loose.update(deferred_keys(net))

    got = execute(desc, optimised_network, inspect)
    expected = execute(desc, reference_network)
    found = reset_differences(desc, expected) + differences(desc.actions, got, expected, loose=loose)
    if found and not reset_differences(desc, expected) + differences(desc.actions, got, expected, loose=loose,
                                                                      ignore_extra=unused_sum_of_stacked(desc)):
        bugs.add("stacked-targets-union")
    if desc.dtype == "float32" and not found:
        found = differences(desc.actions, got, execute(desc, in_float64(reference_network)), rtol=1e-5)
    return {"bugs": sorted(bugs), "found": found[:3]}


def isolated(desc) -> dict:
    """:func:`examine` in a forked child; a crash or an exception is a result too."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            result = examine(desc)
        except Exception as exc:  # the comparison reports, the census goes on
            result = {"bugs": known_bugs(desc), "found": [], "error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(write, "w") as pipe:
            json.dump(result, pipe)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not text:
        return {"bugs": known_bugs(desc), "found": [], "error": f"crashed (status {status})"}
    return json.loads(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="networks to generate")
    parser.add_argument("--seed", type=int, default=None, help="other networks than the fixed default set")
    parser.add_argument("--show", type=int, default=1, help="scripts to print per kind of disagreement")
    args = parser.parse_args()
    tally: collections.Counter[str] = collections.Counter()
    shown: collections.Counter[str] = collections.Counter()

    @settings(max_examples=args.n, deadline=None, derandomize=args.seed is None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(descriptions())
    def run(desc) -> None:
        result = isolated(desc)
        wrong = bool(result["found"]) or "error" in result
        kind = "+".join(result["bugs"]) or "no known bug"
        if "error" in result:
            kind += " / " + result["error"].split(":")[0]
        tally[f"{'DISAGREE' if wrong else 'agree   '} [{kind}]"] += 1
        if wrong and shown[kind] < args.show:
            shown[kind] += 1
            print(f"--- {kind}: {(result['found'] or [result.get('error')])[0]}\n{script(desc)}")

    if args.seed is not None:
        run = seed(args.seed)(run)
    # ratenet imports SciPy's modules when first used: import them here once, not in every child
    import scipy.fft  # noqa: E401, F401
    from scipy.sparse import _sparsetools  # noqa: F401

    start = time.perf_counter()
    run()
    print(f"\n{sum(tally.values())} networks in {time.perf_counter() - start:.0f} s")
    for key, count in sorted(tally.items()):
        print(f"{count:6d}  {key}")
    print(f"{sum(c for k, c in tally.items() if k.startswith('DISAGREE')):6d}  disagree in all")


if __name__ == "__main__":
    main()
