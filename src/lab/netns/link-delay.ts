/**
 * Link delay and loss for labs. `netem` when the kernel has it; otherwise our own userspace stand-in:
 * the two ends of the link are TAP devices (one per namespace) and a small Python program bridges them,
 * holding each frame for the delay in each direction and dropping a share for loss. Node cannot call
 * ioctl(TUNSETIFF) itself, hence Python (standard library only): link-delay-forwarder.py.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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

/** The forwarder program, shipped next to this module (the build copies it into dist/). */
const FORWARDER = fileURLToPath(new URL('./link-delay-forwarder.py', import.meta.url));

/**
 * Starts one forwarder for all `links`. It prints "ready" once every TAP is attached; the caller waits for
 * that line and kills the PID to remove the forwarder.
 */
export function startLinkDelayForwarder(links: DelayedLink[]): ChildProcess {
  const args = links.map((link) =>
    [link.namespaceA, link.deviceA, link.namespaceB, link.deviceB, link.delayMs, link.lossPercent].join(':'),
  );
  // -I: isolated, so nothing next to the script or in the environment can shadow the standard library.
  return spawn('python3', ['-I', FORWARDER, ...args], { stdio: 'pipe' });
}
