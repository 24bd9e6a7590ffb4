"""Real program: build, sort and serialise over a million small Python objects.

200,000 orders of about five objects each (instance, string, float, list, ints), then a dict
copy of each for JSON and the decoded copy: well over a million live small objects, sized so
one run takes a few seconds with glibc.

Run with PYTHONMALLOC=malloc so every object goes through the preloaded malloc instead of
CPython's own arena allocator. Usage: objects.py [scale]. Deterministic and self-checking.
"""
import json
import sys


class Order:
    __slots__ = ("oid", "customer", "amount", "tags")

    def __init__(self, oid, customer, amount, tags):
        self.oid = oid
        self.customer = customer
        self.amount = amount
        self.tags = tags


def make(i):
    # A multiplicative hash instead of the random module: the same objects on every Python,
    # and the time goes to allocation rather than to the generator.
    h = (i * 2654435761) & 0xFFFFFFFF
    return Order(i, "cust-%d" % (h % 50_000), (h % 100_000) / 100, [h % 97, h % 89, i][: h % 4])


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = int(200_000 * scale)
    orders = [make(i) for i in range(n)]
    orders.sort(key=lambda o: (o.customer, -o.amount))
    text = json.dumps([{"id": o.oid, "c": o.customer, "a": o.amount, "t": o.tags} for o in orders])
    del orders
    back = json.loads(text)
    # Self-check: the round trip kept every order, in sorted order.
    if len(back) != n or sorted(o["id"] for o in back) != list(range(n)):
        sys.exit("orders lost in serialisation")
    if any(back[i]["c"] > back[i + 1]["c"] for i in range(n - 1)):
        sys.exit("orders not sorted")


if __name__ == "__main__":
    main()
