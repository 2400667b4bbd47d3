/**
 * The peer view a running agent keeps in its state directory for `status` (which takes no lock and
 * opens no socket): versioned JSON, written atomically by the agent, read and validated here. Pure.
 */
import { z } from 'zod';
import type { PeerView } from './peer-service.js';

const PEER_VIEW_VERSION = 1;

/** `status --json`'s `peer` object (DESIGN §9, issue 11), and what the file adds to it. */
export interface PeerStatus extends PeerView {
  /** The interface and address the agent meets its peers on. */
  interface: string;
  address: string;
  /** When the agent last wrote the view, ISO-8601. */
  updatedAt: string;
}

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

/** The human `status` line. */
export function describePeerStatus(status: PeerStatus | null): string {
  if (status === null) return 'none (no agent with peer.enabled is running)';
  const rejected = status.rejected === 0 ? '' : `, ${status.rejected} message${status.rejected === 1 ? '' : 's'} rejected`;
  const members = `${status.members} member${status.members === 1 ? '' : 's'} on ${status.interface}`;
  switch (status.role) {
    case 'leader':
      return `leader (${members})${rejected}`;
    case 'alone':
      return `alone (no other agent of this relay list on ${status.interface})${rejected}`;
    case 'follower':
      return `follower of ${status.leader ?? 'a leader not yet known'} (${members})${rejected}`;
  }
}
