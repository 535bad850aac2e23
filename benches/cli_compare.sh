#!/usr/bin/env bash
# Whole-process comparison: `callseal seal` / `callseal open` of a 1 GiB file
# against Go age and rage, timed with hyperfine, printed as ratios.
#
#   bash benches/cli_compare.sh            # 1 GiB
#   SIZE_MB=256 RUNS=3 bash benches/cli_compare.sh
#
# Installs what is missing: hyperfine and age from Debian (as root), rage with
# `cargo install rage --locked` (a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${SIZE_MB:-1024}
runs=${RUNS:-5}

need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
command -v age >/dev/null || need_apt+=(age)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v rage >/dev/null; then
  cargo install rage --locked --quiet
fi

cargo build --release --quiet
callseal=$PWD/target/release/callseal
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c "${size_mb}M" /dev/urandom > "$work/plain"
recipient=$("$callseal" keygen -o "$work/key")
"$callseal" seal -r "$recipient" -o "$work/sealed.age" "$work/plain"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "versions: callseal $("$callseal" --version | cut -d' ' -f2), $(age --version 2>&1 | head -1 | sed 's/^/Go age /'), $(rage --version 2>&1 | head -1)"
echo "file: ${size_mb} MiB of random bytes in $work (page cache warm), output to /dev/null"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/seal.json" \
  -n callseal "$callseal seal -r $recipient $work/plain > /dev/null" \
  -n go-age "age -r $recipient $work/plain > /dev/null" \
  -n rage "rage -r $recipient $work/plain > /dev/null"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/open.json" \
  -n callseal "$callseal open -i $work/key $work/sealed.age > /dev/null" \
  -n go-age "age -d -i $work/key $work/sealed.age > /dev/null" \
  -n rage "rage -d -i $work/key $work/sealed.age > /dev/null"

python3 - "$work" "$size_mb" <<'PY'
import json, sys
work, size_mb = sys.argv[1], int(sys.argv[2])
print(f"\n{'':8} {'tool':10} {'median s':>9} {'MiB/s':>8} {'callseal speed-up':>18}")
for op in ("seal", "open"):
    results = {r["command"]: r["median"] for r in json.load(open(f"{work}/{op}.json"))["results"]}
    ours = results["callseal"]
    for tool, t in results.items():
        print(f"{op:8} {tool:10} {t:9.3f} {size_mb / t:8.0f} {t / ours:17.2f}x")
PY
