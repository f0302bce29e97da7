#!/usr/bin/env python3
"""Flood a coordinator with maximal messages, as any peer that reaches its port could, and print the
coordinator's peak resident memory (VmHWM) before and after.

Two floods, each from --peers connections at once (pyzmq, no CURVE):
  frame   one RESULT whose attachment is a single --frame-mib MiB part (far past the sweep's part limit);
  parts   --messages RESULTs per connection, each of --parts parts just under the part limit.

    pip install pyzmq
    python3 Scripts/flood.py --pid PID --connect tcp://127.0.0.1:5555 --part-limit BYTES
"""
import argparse
import threading
import time

import zmq


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit(f"no VmHWM for pid {pid}")


def flood(endpoint, peers, messages, parts):
    context = zmq.Context()
    header = b"SIFT" + bytes([0, 2, 4])   # protocol 2, RESULT
    body = b'{"task":"x","attempt":1,"lease":"0","digest":"d","summary":"{}"}'

    def send():
        socket = context.socket(zmq.DEALER)
        socket.setsockopt(zmq.SNDHWM, 100000)
        socket.connect(endpoint)
        for _ in range(messages):
            socket.send_multipart([header, body] + parts, copy=False)
        time.sleep(3)   # let the coordinator read (or refuse) what was sent
        socket.close(linger=0)

    threads = [threading.Thread(target=send) for _ in range(peers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    context.term()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pid", type=int, required=True, help="the coordinator's process id")
    parser.add_argument("--connect", required=True, help="the coordinator's endpoint")
    parser.add_argument("--part-limit", type=int, required=True, help="the sweep's part limit in bytes")
    parser.add_argument("--peers", type=int, default=4)
    parser.add_argument("--frame-mib", type=int, default=1024)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--parts", type=int, default=30)
    args = parser.parse_args()

    print(f"coordinator at rest: peak {peak_kib(args.pid) / 1024:.0f} MB")
    flood(args.connect, args.peers, 1, [bytes(args.frame_mib << 20)])
    print(f"{args.peers} connections x one {args.frame_mib} MiB part: peak {peak_kib(args.pid) / 1024:.0f} MB")
    flood(args.connect, args.peers, args.messages, [bytes(args.part_limit - 4096)] * args.parts)
    print(f"{args.peers} connections x {args.messages} messages of {args.parts} parts of "
          f"{(args.part_limit - 4096) / 2**20:.1f} MiB: peak {peak_kib(args.pid) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
