# Sourced by the package tests: a fresh WORK_DIR ($work, set by the caller) and fail().
rm -rf "$work"
mkdir -p "$work"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
