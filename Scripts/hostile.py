#!/usr/bin/env python3
"""The hostile peers and files of Scripts/hostile.sh: what a peer that reaches a coordinator's port (or an
allow-listed key) can send, and the files a careless or malicious user can put where Sift reads.

Peers (pyzmq, the wire protocol of Sources/SiftWire/WireMessage.swift: a 7-byte header "SIFT", version,
kind; a JSON body; a RESULT's files as further frames):
  forge-rewind  answers level 0 with the reference run's own files, and every later level with the
                reference's files plus a forged rewind point (every weight 0.5);
  fail-all      answers every lease with FAILURE, cause "task";
  oversized     answers every lease with a RESULT of 1,000 frames;
  flood         sends COUNT one-byte messages and leaves.
Files:
  gzip-bomb     an IDX folder whose train-images file is a small gzip that inflates past 2 GB;
  npz-bomb      an .npz whose x.npy inflates past 2 GB;
  max-rss       runs a command and prints its peak resident memory in MiB.

    pip install pyzmq
"""
import argparse
import hashlib
import json
import os
import resource
import struct
import subprocess
import sys
import time
import zlib

HEADER = b"SIFT" + bytes([0, 2])
READY, HEARTBEAT, TASK, RESULT, FAILURE, ACK, REFUSE, DONE = 1, 2, 3, 4, 5, 6, 7, 8


def message(kind, body):
    return [HEADER + bytes([kind]), json.dumps(body, sort_keys=True).encode()]


def digest(files):
    sha = hashlib.sha256()
    for f in files:
        sha.update(struct.pack(">Q", len(f)))
        sha.update(f)
    return sha.hexdigest()


def npy(values, shape):
    """A float32 .npy file, as numpy.save writes it (format 1.0, header padded to 64 bytes)."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        f"{shape[0]}," if len(shape) == 1 else ", ".join(map(str, shape)))
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    text = (header + " " * pad + "\n").encode()
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + struct.pack(f"<{len(values)}f", *values)


def level_files(reference, task):
    """The reference run's files of `task` (hash/seed-s/level-k), with level 0's rewind point."""
    folder = os.path.join(reference, "experiments", task)
    names = sorted(os.listdir(folder))
    files = [open(os.path.join(folder, n), "rb").read() for n in names]
    if task.endswith("/level-0"):
        rewind = os.path.join(reference, "experiments", os.path.dirname(task), "rewind")
        for n in sorted(os.listdir(rewind)):
            names.append("rewind-" + n)
            files.append(open(os.path.join(rewind, n), "rb").read())
    return names, files


def peer(args):
    import zmq
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(args.connect)
    socket.send_multipart(message(READY, {"host": args.host, "pid": os.getpid(), "cores": 1, "build": args.build}))
    deadline = time.time() + args.seconds
    answered = 0
    while time.time() < deadline:
        if not socket.poll(200):
            continue
        frames = socket.recv_multipart()
        kind = frames[0][6]
        body = json.loads(frames[1]) if len(frames) > 1 else {}
        if kind == HEARTBEAT and body.get("challenge"):
            socket.send_multipart(message(HEARTBEAT, {"answer": body["challenge"]}))
        elif kind in (DONE, REFUSE):
            break
        elif kind == TASK:
            task, attempt, lease = body["task"], body["attempt"], body["lease"]
            answered += 1
            if args.mode == "fail-all":
                socket.send_multipart(message(FAILURE, {"task": task, "attempt": attempt, "lease": lease,
                                                        "error": "hostile: these inputs are broken", "cause": "task"}))
            elif args.mode == "oversized":
                files = [b"x"] * 1000
                socket.send_multipart(message(RESULT, {"task": task, "attempt": attempt, "lease": lease,
                                                       "digest": digest(files), "summary": "[]"}) + files)
            else:
                names, files = level_files(args.reference, task)
                if not task.endswith("/level-0"):
                    # A whole rewind point, the one every later level of the chain starts from, its weights all 0.5.
                    widths = [int(w) for w in json.loads(json.loads(body["parameters"])["settings"])["model.arch"].split("-")]
                    rewind_names, rewind_files = level_files(args.reference, os.path.dirname(task) + "/level-0")
                    for name, data in zip(rewind_names, rewind_files):
                        if name.startswith("rewind-weights-"):
                            layer = int(name[len("rewind-weights-"):-len(".npy")])
                            data = npy([0.5] * (widths[layer] * widths[layer + 1]), [widths[layer], widths[layer + 1]])
                        if name.startswith("rewind-"):
                            names.append(name)
                            files.append(data)
                socket.send_multipart(message(RESULT, {"task": task, "attempt": attempt, "lease": lease,
                                                       "digest": digest(files), "summary": json.dumps(names)}) + files)
    print(f"hostile {args.mode}: answered {answered} lease(s)")


def flood(args):
    import zmq
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 2000)
    socket.setsockopt(zmq.SNDHWM, 0)
    socket.connect(args.connect)
    for _ in range(args.count):
        socket.send(b"\x00")
    socket.close()
    context.term()
    print(f"hostile flood: sent {args.count} one-byte messages")


def deflated_zeros(prefix, total, wrap):
    """`prefix` then zeros up to `total` bytes, deflated in pieces (never held inflated)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wrap)
    out = [compressor.compress(prefix)]
    chunk = bytes(1 << 24)
    left = total - len(prefix)
    while left > 0:
        piece = min(left, len(chunk))
        out.append(compressor.compress(chunk[:piece]))
        left -= piece
    out.append(compressor.flush())
    return b"".join(out)


def gzip_bomb(args):
    """Fashion-MNIST's four files, the training images replaced by a header of 60,000 28x28 images followed
    by 2 GB: a gzip of about 2 MB."""
    os.makedirs(args.folder, exist_ok=True)
    source = "/usr/share/datasets/fashion-mnist"
    for name in os.listdir(source):
        data = open(os.path.join(source, name), "rb").read()
        open(os.path.join(args.folder, name), "wb").write(data)
    target = next(n for n in os.listdir(args.folder) if n.startswith("train-images"))
    os.remove(os.path.join(args.folder, target))
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 28, 28)
    bomb = deflated_zeros(header, 2 << 30, 31)
    open(os.path.join(args.folder, "train-images-idx3-ubyte.gz"), "wb").write(bomb)
    print(f"hostile gzip-bomb: {len(bomb)} bytes inflating to 2 GiB in {args.folder}")


def npz_bomb(args):
    """An .npz whose x.npy declares 16 images of 4x4 but goes on for 2 GB, and a sound test .npz."""
    def zip_file(entries):
        body, directory = b"", b""
        for name, raw, packed, size in entries:
            name = name.encode()
            common = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, zlib.crc32(raw) if raw is not None else 0,
                                 len(packed), size, len(name), 0)
            directory += struct.pack("<IH", 0x02014B50, 20) + common + struct.pack("<HHHII", 0, 0, 0, 0, len(body)) + name
            body += struct.pack("<I", 0x04034B50) + common + name + packed
        return body + directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    x = npy([0.0] * 256, [16, 4, 4])
    y = npy([0.0] * 16, [16])
    size = 2 << 30
    # The CRC (left 0) would be of the whole 2 GB entry: Sift must stop long before it could check it.
    archive = zip_file([("x.npy", None, deflated_zeros(x, size, -15), size), ("y.npy", y, deflated_zeros(y, len(y), -15), len(y))])
    open(args.path, "wb").write(archive)
    print(f"hostile npz-bomb: {len(archive)} bytes, x.npy inflating to 2 GiB, in {args.path}")


def max_rss(args):
    """Runs the command; prints its exit status and peak resident memory (MiB) on one line."""
    status = subprocess.run(args.command, stdout=subprocess.DEVNULL, stderr=open(args.stderr, "w")).returncode
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"{status} {peak}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("peer")
    p.add_argument("mode", choices=["forge-rewind", "fail-all", "oversized"])
    p.add_argument("--connect", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--host", default="hostile")
    p.add_argument("--reference")
    p.add_argument("--seconds", type=float, default=120)
    p.set_defaults(run=peer)
    p = sub.add_parser("flood")
    p.add_argument("--connect", required=True)
    p.add_argument("--count", type=int, default=200_000)
    p.set_defaults(run=flood)
    p = sub.add_parser("gzip-bomb")
    p.add_argument("folder")
    p.set_defaults(run=gzip_bomb)
    p = sub.add_parser("npz-bomb")
    p.add_argument("path")
    p.set_defaults(run=npz_bomb)
    p = sub.add_parser("max-rss")
    p.add_argument("--stderr", required=True)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(run=max_rss)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
