#!/usr/bin/env bash
# cpack -G DEB in BUILD_DIR, then checks the package with dpkg-deb: Debian's file name,
# dependencies on the C library and the C++ runtime only (and no ELF in it needing
# anything else), and the files an install must have.
# Usage: deb.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
. "$(dirname "$0")/common.sh"
(cd "$build" && cpack -G DEB -B "$work" >/dev/null)
deb=$(find "$work" -maxdepth 1 -name '*.deb')
[ "$(wc -l <<<"$deb")" = 1 ] || fail "expected one .deb, found: $deb"
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "fastpool_${version}_${arch}.deb" ] || fail "file name $(basename "$deb")"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$ ]] || fail "version $version"
[ "$(dpkg-deb -f "$deb" Package)" = fastpool ] || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends =~ ^libc6\ \(\>=\ [0-9.]+\),\ libstdc\+\+6\ \(\>=\ [0-9]+\)$ ]] || fail "Depends: $depends"
echo "ok: $(basename "$deb"), Depends: $depends"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/bin/fastpool /usr/include/fastpool/fastpool.h /usr/include/fastpool/fastpool.hpp \
  /usr/lib/libfastpool.a /usr/lib/libfastpool.so.0 /usr/lib/libfastpool_preload.so \
  /usr/lib/libfastpool_preload_secure.so /usr/lib/cmake/fastpool/fastpoolConfig.cmake \
  /usr/lib/cmake/fastpool/fastpoolConfigVersion.cmake /usr/lib/pkgconfig/fastpool.pc \
  /usr/lib/pkgconfig/fastpool-override.pc; do
  grep -qx -- "$f" "$work/contents" || fail "$f is not in the package"
done
echo "ok: $(wc -l <"$work/contents") entries, the expected files among them"

# Every ELF needs libc and libstdc++ at most, and no glibc newer than Depends says.
dpkg-deb -x "$deb" "$work/root"
need_libc=${depends#libc6 (>= }
need_libc=${need_libc%%)*}
while IFS= read -r f; do
  [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
  for lib in $(readelf -d "$f" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }'); do
    case $lib in
      libc.so.6 | libstdc++.so.6 | libm.so.6 | ld-linux-*.so.*) ;;
      *) fail "$f needs $lib" ;;
    esac
  done
  newest=$(readelf -V "$f" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
  [ -z "$newest" ] || [ "$(printf '%s\n%s\n' "$newest" "$need_libc" | sort -V | tail -n 1)" = "$need_libc" ] ||
    fail "$f needs GLIBC_$newest, Depends says $need_libc"
done < <(find "$work/root" -type f \( -name '*.so*' -o -path '*/bin/*' \))
echo "ok: every ELF needs libc and libstdc++ only, within Depends"
echo "PASS"
