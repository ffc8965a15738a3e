"""The benchmark suite of querylang (issue 6): not part of the package, never imported by it.

- `bench.corpus`: the corpus, each query written in querylang and in Lucene syntax (for luqum).
- `bench.yardstick`: a minimal hand-written parser and compiler for the same queries, as a floor.
- `bench.run`: the measurements and the report; `python -m bench [--quick] [--json]`.

luqum is a benchmark-only dependency: `pip install -e '.[bench]'`.
"""
