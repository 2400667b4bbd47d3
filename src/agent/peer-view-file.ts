/**
 * The peer view a running agent keeps in its state directory for `status` (which takes no lock and
 * opens no socket): versioned JSON, written atomically by the agent, read and validated here (with zod,
 * which `status` loads only when there is such a file). Pure.
 */
import { z } from 'zod';
import type { PeerStatus } from './peer-status.js';

const PEER_VIEW_VERSION = 1;

const fileSchema = z.object({
  version: z.literal(PEER_VIEW_VERSION),
  pid: z.number().int().positive(),
  updatedAt: z.string(),
  role: z.enum(['leader', 'follower', 'alone']),
  leader: z.string().nullable(),
  members: z.number().int().min(1),
  rejected: z.number().int().min(0),
  rejectedBy: z.record(z.number().int().min(0)),
  interface: z.string(),
  address: z.string(),
});

export function renderPeerViewFile(status: PeerStatus, pid: number): string {
  const { role, leader, members, rejected, rejectedBy, interface: name, address, updatedAt } = status;
  return `${JSON.stringify({ version: PEER_VIEW_VERSION, pid, updatedAt, role, leader, members, rejected, rejectedBy, interface: name, address }, null, 2)}\n`;
}

/** The view and the pid of the agent that wrote it; null for a file this version cannot read. */
export function parsePeerViewFile(text: string): { status: PeerStatus; pid: number } | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) return null;
  const { version: _version, pid, ...status } = parsed.data;
  return { status, pid };
}
