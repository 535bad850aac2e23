#!/usr/bin/env bash
# The C ABI in CI: library build, header check, C tests (plain, valgrind,
# ASan+UBSan), capture simulator, C++ and Python bindings, and a test
# install used through pkg-config. Run from the repository root (as root on
# Debian 12, it installs what it lacks). Prints PASS/FAIL per step and exits
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
REL="$CARGO_TARGET_DIR/release"
CBINDGEN_VERSION=0.29.4
WORK="$(mktemp -d /tmp/callseal-c-abi.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
CSTRICT=(-std=c99 -Wall -Wextra -Werror -pedantic -g)
LIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
passed=0
failed=0

# step NAME COMMAND...: runs COMMAND with its output in a log; prints the
# log's tail on failure and carries on, so one run shows every failure.
step() {
  local name="$1"
  shift
  local log="$WORK/step-$((passed + failed)).log"
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS: $name ($((SECONDS - t0))s)"
  else
    failed=$((failed + 1))
    echo "FAIL: $name ($((SECONDS - t0))s); last lines of its output:"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
}

# A step whose output is worth showing even when it passes.
step_show() {
  step "$@"
  tail -n 8 "$WORK/step-$((passed + failed - 1)).log" | sed 's/^/    /'
}

echo "== tools"
if [ "$(id -u)" = 0 ]; then
  missing=()
  for tool in valgrind:valgrind g++:g++ clang:clang age:age pkg-config:pkg-config make:make; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
for tool in cc g++ valgrind age pkg-config make; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is required"; exit 1; }
done
PY=python3
if ! $PY -m pytest --version >/dev/null 2>&1; then
  $PY -m pip install -q pytest >/dev/null 2>&1 || true
fi
if ! $PY -m pytest --version >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pytest >/dev/null
  PY=/usr/bin/python3
fi
if [ "$(cbindgen --version 2>/dev/null || true)" != "cbindgen $CBINDGEN_VERSION" ]; then
  echo "installing cbindgen $CBINDGEN_VERSION (pinned)"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/cbindgen-install" \
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi
echo "$(cbindgen --version), $(cc --version | head -n1), $(valgrind --version), age $(age --version)"

echo "== library and header"
step "build libcallseal.so and libcallseal.a (release, panic=unwind, soname)" make lib
step "include/callseal.h is what cbindgen $CBINDGEN_VERSION generates" \
  env CI=1 cargo test --locked --test header_up_to_date
header_compiles() {
  printf '#include "callseal.h"\nint main(void) { return callseal_version() == 0; }\n' >"$WORK/h.c"
  gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c "$WORK/h.c" -o "$WORK/h1.o"
  clang -std=c99 -Weverything -Wno-declaration-after-statement -Werror -Iinclude -c "$WORK/h.c" -o "$WORK/h2.o"
  g++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -c "$WORK/h.c" -o "$WORK/h3.o"
}
step "header compiles as C99 (gcc, clang -Weverything) and C++11" header_compiles

echo "== C tests"
CTESTS=(tests/c/test_callseal.c tests/c/common.c)
export CALLSEAL_REQUIRE_AGE=1
step "C tests build (gcc ${CSTRICT[*]})" \
  gcc "${CSTRICT[@]}" -Iinclude "${CTESTS[@]}" "$REL/libcallseal.a" "${LIBS[@]}" -o "$WORK/test_static"
step_show "C tests, static library" "$WORK/test_static" "$WORK"
step "C tests build against the shared library (clang)" \
  clang "${CSTRICT[@]}" -Iinclude "${CTESTS[@]}" -L"$REL" -lcallseal -lpthread -o "$WORK/test_shared"
shared_run() {
  # The library's soname is libcallseal.so.0.MINOR: give it that name.
  mkdir -p "$WORK/so"
  cp "$REL/libcallseal.so" "$WORK/so/$(readelf -d "$REL/libcallseal.so" | sed -n 's/.*soname: \[\(.*\)\]/\1/p')"
  LD_LIBRARY_PATH="$WORK/so" "$WORK/test_shared" "$WORK"
}
step_show "C tests, shared library" shared_run
step_show "C tests under valgrind (--error-exitcode=1 --leak-check=full)" \
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
  "$WORK/test_static" "$WORK"
step "C tests build with -fsanitize=address,undefined" \
  gcc "${CSTRICT[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
  -Iinclude "${CTESTS[@]}" "$REL/libcallseal.a" "${LIBS[@]}" -o "$WORK/test_asan"
step_show "C tests with AddressSanitizer + UBSan (leak detection on)" \
  env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$WORK/test_asan" "$WORK"

echo "== C audio tests"
ATESTS=(tests/c/test_audio.c tests/c/common.c)
step "C audio tests build (gcc ${CSTRICT[*]})" \
  gcc "${CSTRICT[@]}" -Iinclude "${ATESTS[@]}" "$REL/libcallseal.a" "${LIBS[@]}" -o "$WORK/audio_static"
step_show "C audio tests, static library" "$WORK/audio_static" "$WORK"
step "C audio tests build against the shared library (clang)" \
  clang "${CSTRICT[@]}" -Iinclude "${ATESTS[@]}" -L"$REL" -lcallseal -lpthread -o "$WORK/audio_shared"
audio_shared_run() {
  mkdir -p "$WORK/so"
  cp "$REL/libcallseal.so" "$WORK/so/$(readelf -d "$REL/libcallseal.so" | sed -n 's/.*soname: \[\(.*\)\]/\1/p')"
  LD_LIBRARY_PATH="$WORK/so" "$WORK/audio_shared" "$WORK"
}
step_show "C audio tests, shared library" audio_shared_run
step_show "C audio tests under valgrind (--error-exitcode=1 --leak-check=full)" \
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
  "$WORK/audio_static" "$WORK"
step "C audio tests build with -fsanitize=address,undefined" \
  gcc "${CSTRICT[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
  -Iinclude "${ATESTS[@]}" "$REL/libcallseal.a" "${LIBS[@]}" -o "$WORK/audio_asan"
step_show "C audio tests with AddressSanitizer + UBSan (leak detection on)" \
  env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$WORK/audio_asan" "$WORK"

echo "== capture simulator"
step "capture_sim builds" make capture-sim
step_show "capture_sim: 8 calls x 30 s, every file verified" "$REL/capture_sim" -n 8 -t 30 -d "$WORK"
step "capture_sim builds with -fsanitize=address,undefined" \
  gcc -std=c99 -O1 -g -Wall -Wextra -Werror -pedantic -pthread -fsanitize=address,undefined \
  -fno-sanitize-recover=all -Iinclude examples/capture_sim.c "$REL/libcallseal.a" "${LIBS[@]}" \
  -o "$WORK/capture_sim_asan"
step_show "capture_sim under ASan + UBSan: 4 calls x 10 s" \
  env ASAN_OPTIONS=detect_leaks=1 "$WORK/capture_sim_asan" -n 4 -t 10 -d "$WORK"

echo "== C++ binding"
step "C++17 wrapper test builds (g++ -Wall -Wextra -Werror -pedantic)" \
  g++ -std=c++17 -Wall -Wextra -Werror -pedantic -g -Iinclude -Ibindings/cpp \
  bindings/cpp/test_callseal.cpp "$REL/libcallseal.a" "${LIBS[@]}" -o "$WORK/test_cpp"
step_show "C++17 wrapper test" "$WORK/test_cpp"
step_show "C++17 wrapper test under valgrind" \
  valgrind -q --error-exitcode=1 --leak-check=full "$WORK/test_cpp"

echo "== Python binding"
step_show "pytest bindings/python" \
  env CALLSEAL_LIB="$REL/libcallseal.so" PYTHONDONTWRITEBYTECODE=1 \
  $PY -m pytest -q -p no:cacheprovider bindings/python

echo "== install"
install_and_use() {
  local prefix="$WORK/prefix"
  make install PREFIX="$prefix"
  test -f "$prefix/include/callseal.h" && test -f "$prefix/lib/libcallseal.a"
  test -L "$prefix/lib/libcallseal.so" && test -f "$prefix/lib/pkgconfig/callseal.pc"
  # The minimal program of docs/using-from-c.md, as a user would build it.
  sed -n '/^```c$/,/^```$/p' docs/using-from-c.md | sed '1d;$d' >"$WORK/app.c"
  grep -q 'int main' "$WORK/app.c"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  # shellcheck disable=SC2046
  cc -std=c99 -Wall -Wextra -Werror -pedantic "$WORK/app.c" $(pkg-config --cflags --libs callseal) -o "$WORK/app"
  (cd "$WORK" && LD_LIBRARY_PATH="$prefix/lib" ./app)
  # shellcheck disable=SC2046
  cc -std=c99 "$WORK/app.c" $(pkg-config --cflags callseal) -L"$prefix/lib" -l:libcallseal.a \
    $(pkg-config --static --libs-only-l callseal | sed 's/-lcallseal//') -o "$WORK/app_static"
  (cd "$WORK" && ./app_static)
  make uninstall PREFIX="$prefix"
  test -z "$(find "$prefix" -type f -o -type l)"
}
step_show "make install to a temporary prefix; docs/using-from-c.md program via pkg-config" install_and_use

echo "c-abi: $passed passed, $failed failed"
[ "$failed" = 0 ]
