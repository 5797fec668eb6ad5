"""How right and how fast `sal evaluate` grades, against plain math-verify.

    python bench/grading.py [--problems 500] [--n 64] [--workers 2] [--baseline 10] [--corpus-only]

Agreement: on the differential corpus (`tests/grading/corpus/*.jsonl`: gold, prediction,
expected verdict), per source, sal's grade (`grade_problem(normalize_gold(gold),
[prediction], [cut_off])`, `cut_off` as a run's finish reasons give it) and plain
math-verify's (default `parse` + `verify`, each side wrapped as `$\\boxed{...}$` when it is
a bare answer, the raw text otherwise) side by side, with the time each took.

Speed: 500 MATH-500 problems x 64 realistic completions, cold cache. Completions are
multi-step solutions (LaTeX, intermediate numbers, sometimes an early `\\boxed{}`) ending in
answers of varied forms: the reference as written, `\\dfrac`, a decimal, `x = ...`,
thousands separators, spacing variants, wrong values, and no answer at all (cut off, and
marked so). Prints the grading time in a fresh process (every cache cold) and the CPU time
it took, and, on `--baseline` problems, a naive grader (math-verify's `parse` + `verify` on
every completion, serial, uncached) and the speed-up over it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sal_cli.data.datasets import BENCHMARK_DIR  # noqa: E402
from sal_cli.grading.extract import is_bare, normalize_gold  # noqa: E402
from sal_cli.grading.grader import grade_all, grade_problem  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "grading" / "corpus"

STEPS = [
    "First, we rewrite the equation as $x^2 + {a}x - {b} = 0$, so by the quadratic formula "
    "$x = \\frac{{-{a} \\pm \\sqrt{{{a}^2 + 4 \\cdot {b}}}}}{{2}}$.",
    "Since the triangle has sides ${a}$, ${b}$ and ${c}$, Heron's formula gives $s = \\frac{{{a}+{b}+{c}}}{{2}}$.",
    "We compute $\\binom{{{a}}}{{2}} = \\frac{{{a}({a}-1)}}{{2}}$ ways to choose the pair, then multiply by ${b}$.",
    "Note that ${a} \\equiv {c} \\pmod{{{b}}}$, so the remainder cycles with period ${b}$.",
    "Substituting back, we get $f({a}) = {a}^2 - {b} \\cdot {a} + {c} = {d}$.",
    "The sum of the roots is $-\\frac{{{b}}}{{{a}}}$ and their product is $\\frac{{{c}}}{{{a}}}$ by Vieta's formulas.",
    "Let me double check: ${a} \\times {b} = {d}$, and ${d} - {c}$ leaves the rest.",
    "Therefore the area is $\\frac{{1}}{{2}} \\cdot {a} \\cdot {b} \\sin 60^\\circ = \\frac{{{a}{b}\\sqrt{{3}}}}{{4}}$.",
]
ENDINGS = [
    "Therefore, the final answer is: $\\boxed{{{answer}}}$. I hope it is correct.",
    "So the answer is $\\boxed{{{answer}}}$.",
    "## Final Answer\n\\[\\boxed{{{answer}}}\\]",
    "The final answer is ${answer}$.",
    "Thus we obtain \\boxed{{{answer}}}",
]


def correct_forms(gold: str) -> list[str]:
    """Ways a model writes the right answer."""
    forms = [gold, gold.replace("\\frac", "\\dfrac"), gold.replace(",", ", "), f" {gold} "]
    if re.fullmatch(r"-?\d+", gold):
        value = int(gold)
        forms += [f"{value}.0", f"x = {value}", f"{value:,}"]
    match = re.fullmatch(r"\\frac\{(\d+)\}\{(\d+)\}", gold)
    if match:
        num, den = int(match[1]), int(match[2])
        forms += [f"{num}/{den}", f"{num / den:.6f}".rstrip("0")]
    return forms


def wrong_answers(gold: str, rng: random.Random) -> list[str]:
    """A pool of distinct wrong answers, some written two ways."""
    pool = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.5:
            value = rng.randint(-20, 500)
            pool.append(str(value))
            if rng.random() < 0.3:
                pool.append(f"{value}.0")
        elif kind < 0.7:
            pool.append(f"\\frac{{{rng.randint(1, 50)}}}{{{rng.randint(2, 60)}}}")
        elif kind < 0.85:
            pool.append(f"{rng.randint(2, 9)}\\sqrt{{{rng.choice([2, 3, 5, 7])}}}")
        else:
            pool.append(f"-{gold}" if not gold.startswith("-") else gold[1:])
    return pool


def completion(answer: str | None, rng: random.Random) -> str:
    numbers = {k: rng.randint(2, 99) for k in "abcd"}
    steps = [rng.choice(STEPS).format(**numbers) for _ in range(rng.randint(4, 9))]
    if rng.random() < 0.1:
        steps.insert(2, f"A first guess would be $\\boxed{{{rng.randint(1, 99)}}}$, but let us verify.")
    if answer is None:  # cut off mid-sentence by max_tokens
        return "\n\n".join(steps)[: rng.randint(200, 900)]
    return "\n\n".join(f"## Step {i + 1}: {s}" for i, s in enumerate(steps)) + "\n\n" + rng.choice(ENDINGS).format(answer=answer)


def make_jobs(problems: int, n: int, seed: int = 0) -> list[tuple[str, list[str], list[bool]]]:
    """(gold, completions, cut_off) per problem; a completion without an answer ran out of
    tokens, and is marked so, as a run's `finish_reasons` mark it for `sal evaluate`."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in (BENCHMARK_DIR / "math500.jsonl").read_text().splitlines()][:problems]
    jobs = []
    for row in rows:
        gold = normalize_gold(row["answer"])
        right, wrong, p_right = correct_forms(gold), wrong_answers(gold, rng), rng.random()
        answers = [
            None if r < 0.08 else rng.choice(right) if r < 0.08 + 0.92 * p_right else rng.choice(wrong)
            for r in (rng.random() for _ in range(n))
        ]
        jobs.append((gold, [completion(a, rng) for a in answers], [a is None for a in answers]))
    return jobs


def naive_grade(jobs) -> None:
    """What a first evaluator does: math-verify on every completion, no cache, no shortcuts."""
    from math_verify import parse, verify

    for gold, completions, _ in jobs:
        parsed_gold = parse(f"${gold}$")
        for text in completions:
            verify(parsed_gold, parse(text))


def plain_math_verify(gold, prediction: str) -> bool:
    """The baseline: math-verify's defaults, a bare answer wrapped as `$\\boxed{...}$`."""
    from math_verify import parse, verify

    def read(text):
        text = str(text)
        return parse(f"$\\boxed{{{text}}}$" if is_bare(text) else text)

    return bool(verify(read(gold), read(prediction)))


def sal_grade(gold, prediction: str, cut_off: bool = False) -> bool:
    return grade_problem(normalize_gold(gold), [prediction], [cut_off]).correct[0]


def agreement() -> None:
    """Per source: cases, and how many verdicts sal and plain math-verify get right."""
    cases = [json.loads(line) for path in sorted(CORPUS.glob("*.jsonl")) for line in path.read_text().splitlines()]
    rows, seconds = {}, {"sal": 0.0, "plain": 0.0}
    for case in cases:
        row = rows.setdefault(case["source"], [0, 0, 0])
        row[0] += 1
        graders = (("sal", lambda g, p: sal_grade(g, p, case.get("cut_off", False))), ("plain", plain_math_verify))
        for i, (name, grade) in enumerate(graders, start=1):
            start = time.perf_counter()
            row[i] += grade(case["gold"], case["prediction"]) == case["expected"]
            seconds[name] += time.perf_counter() - start
    rows["all"] = [sum(r[i] for r in rows.values()) for i in range(3)]
    print(f"{'source':<14}{'cases':>6}  {'sal':>14}  {'plain math-verify':>18}")
    for source, (count, sal, plain) in rows.items():
        print(f"{source:<14}{count:>6}  {sal:>5} ({100 * sal / count:5.1f}%)  {plain:>9} ({100 * plain / count:5.1f}%)")
    print(f"grading time: sal {seconds['sal']:.1f} s, plain math-verify {seconds['plain']:.1f} s (one process, cold)")


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the workers):
    on a shared machine, wall time measures the neighbours too."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=10, help="problems for the naive baseline (0 = skip)")
    parser.add_argument("--corpus-only", action="store_true", help="only the agreement on the corpus")
    args = parser.parse_args()

    agreement()
    if args.corpus_only:
        return

    jobs = make_jobs(args.problems, args.n)
    chars = sum(len(c) for _, cs, _ in jobs for c in cs)
    print(f"{len(jobs)} problems x {args.n} completions ({chars / 1e6:.1f} MB of text), {args.workers} workers")
    start, cpu = time.perf_counter(), _cpu_seconds()
    graded = grade_all(jobs, workers=args.workers)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    count = len(jobs) * args.n
    right = sum(sum(g.correct) for g in graded) / count
    missing = sum(a is None for g in graded for a in g.answers) / count
    classes = sum(len(g.class_answers) for g in graded) / len(graded)
    print(f"graded in {seconds:.1f} s ({count / seconds:,.0f} completions/s, cold cache; {cpu:.1f} CPU-seconds in all "
          f"processes): {100 * right:.1f}% correct, {100 * missing:.1f}% no answer, "
          f"{classes:.1f} distinct answers per problem")

    if args.baseline:
        subset = jobs[: args.baseline]
        start = time.perf_counter()
        naive_grade(subset)
        naive = (time.perf_counter() - start) / len(subset)
        ours = seconds / len(jobs)
        print(f"naive serial uncached math-verify: {naive:.2f} s per problem (on {len(subset)} problems), "
              f"~{naive * len(jobs):.0f} s for all; sal: {ours:.3f} s per problem: {naive / ours:.0f}x faster")


if __name__ == "__main__":
    main()
