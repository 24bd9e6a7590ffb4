"""The allocators compared: glibc (no preload) and four LD_PRELOAD libraries."""
import glob
import os
import platform
from dataclasses import dataclass
from typing import Optional

# Where Debian and most distributions put shared libraries; the first match wins.
LIB_DIRS = [f"/usr/lib/{platform.machine()}-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]

# tcmalloc_minimal: the allocator without the heap profiler's hooks, the fair comparison.
SYSTEM_PRELOADS = {
    "jemalloc": "libjemalloc.so.2",
    "mimalloc": "libmimalloc.so.2",
    "tcmalloc": "libtcmalloc_minimal.so.4",
}


@dataclass
class Allocator:
    name: str
    preload: Optional[str]  # None: the C library's own malloc
    missing: bool = False


def find_library(filename):
    for d in LIB_DIRS:
        hits = glob.glob(os.path.join(d, filename))
        if hits:
            return hits[0]
    return None


def peer_libraries(peers_dir):
    """Every lib*.so in peers_dir as (column name, path): libsnmalloc-0.7.5.so -> snmalloc-0.7.5."""
    if not peers_dir or not os.path.isdir(peers_dir):
        return []
    names = sorted(f for f in os.listdir(peers_dir) if f.startswith("lib") and f.endswith(".so"))
    return [(f[3:-3], os.path.join(peers_dir, f)) for f in names]


def discover(fastpool_preload, peers_dir=None):
    """glibc, Debian's three, the peers of peers_dir, fastpool-secure (when built), fastpool
    last; absent ones are missing."""
    found = [Allocator("glibc", None)]
    for name, filename in SYSTEM_PRELOADS.items():
        path = find_library(filename)
        found.append(Allocator(name, path, missing=path is None))
    for name, path in peer_libraries(peers_dir):
        found.append(Allocator(name, path))
    have_fastpool = fastpool_preload is not None and os.path.exists(fastpool_preload)
    # The hardened build beside it, where it was built: what its checks cost.
    secure = have_fastpool and os.path.join(os.path.dirname(fastpool_preload),
                                            "libfastpool_preload_secure.so")
    if secure and os.path.exists(secure):
        found.append(Allocator("fastpool-secure", secure))
    found.append(Allocator("fastpool", fastpool_preload if have_fastpool else None,
                           missing=not have_fastpool))
    return found
