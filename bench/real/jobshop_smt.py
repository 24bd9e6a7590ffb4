"""Writes the SMT solver's input: a job-shop schedule in linear integer arithmetic.

JOBS jobs of MACHINES ordered tasks each (random durations 1-9, fixed seed), every machine
running one task at a time, all done by BOUND. z3 proves the bound infeasible (unsat) after
about a second of search, allocating clauses, terms and lemmas as it goes.
Usage: jobshop_smt.py JOBS MACHINES BOUND > file.smt2
"""
import random
import sys


def main():
    jobs, machines, bound = (int(a) for a in sys.argv[1:4])
    rnd = random.Random(7)
    out = ["(set-logic QF_LIA)"]
    tasks = []
    for j in range(jobs):
        for k in range(machines):
            duration = rnd.randint(1, 9)
            tasks.append((j, k, (j + k * 3) % machines, duration))
            s = f"s{j}_{k}"
            out += [f"(declare-const {s} Int)", f"(assert (>= {s} 0))",
                    f"(assert (<= (+ {s} {duration}) {bound}))"]
            if k:
                out.append(f"(assert (>= {s} (+ s{j}_{k - 1} {tasks[-2][3]})))")
    for a, (ja, ka, ma, da) in enumerate(tasks):
        for jb, kb, mb, db in tasks[a + 1:]:
            if ma == mb and ja != jb:
                sa, sb = f"s{ja}_{ka}", f"s{jb}_{kb}"
                out.append(f"(assert (or (>= {sa} (+ {sb} {db})) (>= {sb} (+ {sa} {da}))))")
    out.append("(check-sat)")
    print("\n".join(out))


if __name__ == "__main__":
    main()
