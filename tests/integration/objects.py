"""Builds, sorts and serialises a million small objects; prints digests of the results.

Run with PYTHONMALLOC=malloc so every object is a malloc/free through the allocator
under test. Output must be identical with any correct allocator.
"""
import hashlib
import json
import pickle
import random

N = 1_000_000
rng = random.Random(12345)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Small objects of mixed sizes: tuples, short and medium strings, dicts, lists, floats.
records = []
for i in range(N):
    k = rng.randrange(1 << 30)
    name = "item-%d-%s" % (k, "x" * (k % 40))
    if i % 4 == 0:
        records.append({"id": k, "name": name, "tags": [k % 7, k % 11]})
    else:
        records.append((k, name, k / 7.0))
print("built", len(records))


def key(r):
    return (r["id"], r["name"]) if isinstance(r, dict) else (r[0], r[1])


records.sort(key=key)
print("sorted first", key(records[0]), "last", key(records[-1]))

# json writes tuples as arrays; the digest covers every object's contents.
as_json = json.dumps(records)
print("json", len(as_json), digest(as_json.encode()))

pickled = pickle.dumps(records, protocol=4)
print("pickle", len(pickled), digest(pickled))
assert pickle.loads(pickled) == records

# Churn: grow and shrink a dict and a set, freeing half the objects in between.
index = {key(r): r for r in records}
del records[::2]
names = {r["name"] if isinstance(r, dict) else r[1] for r in records}
print("index", len(index), "remaining", len(records), "names", len(names))
print("joined", digest("\n".join(sorted(names)).encode()))
