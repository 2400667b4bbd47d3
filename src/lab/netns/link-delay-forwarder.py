"""Link delay and loss for relay-select namespace labs on kernels without sch_netem.

Started by src/lab/netns/link-delay.ts as `python3 link-delay-forwarder.py SPEC...`, one SPEC per link:
NAMESPACE_A:DEVICE_A:NAMESPACE_B:DEVICE_B:DELAY_MS:LOSS_PERCENT. Both ends are TAP devices that exist
already. The forwarder enters each namespace with setns(2) only to attach to its TAP device (a TAP fd
stays bound to its device after the process returns home), prints "ready", then moves frames between
the two ends of each link, holding each for the delay and dropping a share for loss. It exits when its
stdin closes, so it never outlives the process that started it. Standard library only.
"""
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
