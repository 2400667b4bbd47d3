/**
 * Link delay and loss for labs. `netem` when the kernel has it; otherwise our own userspace stand-in:
 * the two ends of the link are TAP devices (one per namespace) and a small Python program bridges them,
 * holding each frame for the delay in each direction and dropping a share for loss. Node cannot call
 * ioctl(TUNSETIFF) itself, hence Python (standard library only), run with `python3 -c`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** One delayed link: both TAP devices must exist already (`ip -n NS tuntap add dev DEV mode tap`). */
export interface DelayedLink {
  namespaceA: string;
  deviceA: string;
  namespaceB: string;
  deviceB: string;
  /** Added to each direction. */
  delayMs: number;
  /** Frames dropped in each direction, percent. */
  lossPercent: number;
}

/**
 * The forwarder. It enters each namespace with setns(2) only to attach to the TAP device (a TAP fd stays
 * bound to its device after the process returns home), then moves frames with a timer heap. It exits
 * when its stdin closes, so it never outlives the Node process that started it.
 */
const LINK_DELAY_FORWARDER_PY = String.raw`
import ctypes, fcntl, heapq, os, random, select, struct, sys, time
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)

def enter(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)

def attach(namespace, device):
    enter("/run/netns/" + namespace)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TAP | IFF_NO_PI))
    return fd

home = os.open("/proc/self/ns/net", os.O_RDONLY)
route = {}
for spec in sys.argv[1:]:
    ns_a, dev_a, ns_b, dev_b, delay_ms, loss_percent = spec.split(":")
    hold, drop = float(delay_ms) / 1000.0, float(loss_percent) / 100.0
    fd_a = attach(ns_a, dev_a)
    fd_b = attach(ns_b, dev_b)
    route[fd_a] = (fd_b, hold, drop)
    route[fd_b] = (fd_a, hold, drop)
libc.setns(home, CLONE_NEWNET)
os.close(home)
print("ready", flush=True)

stdin = sys.stdin.fileno()
watched = list(route) + [stdin]
pending, order = [], 0
while True:
    wait = max(0.0, pending[0][0] - time.monotonic()) if pending else None
    readable, _, _ = select.select(watched, [], [], wait)
    now = time.monotonic()
    for fd in readable:
        if fd == stdin:
            if not os.read(stdin, 4096):
                sys.exit(0)
            continue
        target, hold, drop = route[fd]
        while True:
            try:
                frame = os.read(fd, 65536)
            except OSError:
                break
            if drop > 0 and random.random() < drop:
                continue
            heapq.heappush(pending, (now + hold, order, target, frame))
            order += 1
    now = time.monotonic()
    while pending and pending[0][0] <= now:
        _, _, target, frame = heapq.heappop(pending)
        try:
            os.write(target, frame)
        except OSError:
            pass
`;

/**
 * Starts one forwarder for all `links`. It prints "ready" once every TAP is attached; the caller waits for
 * that line and kills the PID to remove the forwarder.
 */
export function startLinkDelayForwarder(links: DelayedLink[]): ChildProcess {
  const args = links.map((link) => [link.namespaceA, link.deviceA, link.namespaceB, link.deviceB, link.delayMs, link.lossPercent].join(':'));
  return spawn('python3', ['-c', LINK_DELAY_FORWARDER_PY, ...args], { stdio: 'pipe' });
}
