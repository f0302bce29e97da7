#!/usr/bin/env bash
# Acceptance check: `sift report DIR` writes its three files and the page renders in headless
# Chromium to a screenshot that is not blank. Usage: Scripts/check-report-render.sh [DIR]
# (default runs/quickstart, as left by Scripts/quickstart.sh). Needs `apt-get install chromium`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-runs/quickstart}"
sift="$(swift build -c release --show-bin-path)/sift"
"$sift" report "$dir"
for f in summary.csv summary.json index.html; do
    [ -s "$dir/report/$f" ] || { echo "missing $dir/report/$f" >&2; exit 1; }
done
report="$(cd "$dir/report" && pwd)"
shot="$report/screenshot.png"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --window-size=1400,2200 \
    --screenshot="$shot" "file://$report/index.html" >/dev/null 2>&1
python3 - "$shot" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
channels = {2: 3, 6: 4}[colour]
raw, stride = zlib.decompress(idat), width * channels
rows, previous = [], bytearray(stride)
for y in range(height):
    kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - channels] if x >= channels else 0
        b, c = previous[x], previous[x - channels] if x >= channels else 0
        p = a + b - c
        predictor = [0, a, b, (a + b) // 2, a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (b if abs(p - b) <= abs(p - c) else c)][kind]
        line[x] = (line[x] + predictor) & 0xFF
    rows.append(line)
    previous = line
ink = sum(1 for line in rows for x in range(0, stride, channels) if line[x] + line[x + 1] + line[x + 2] < 720)
fraction = ink / (width * height)
print(f"screenshot {width}x{height}: {fraction:.1%} of pixels drawn")
sys.exit(0 if fraction > 0.03 else 1)
PY
