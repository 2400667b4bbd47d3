/**
 * What `status` says of the peers of a running agent (DESIGN §9, issue 11): the `peer` object of
 * `status --json` and the human line. Pure, and light: `status` loads it on every call.
 */
import type { PeerView } from './peer-service.js';

/** `status --json`'s `peer` object (DESIGN §9, issue 11), and what the file adds to it. */
export interface PeerStatus extends PeerView {
  /** The interface and address the agent meets its peers on. */
  interface: string;
  address: string;
  /** When the agent last wrote the view, ISO-8601. */
  updatedAt: string;
}

/** The human `status` line. */
export function describePeerStatus(status: PeerStatus | null): string {
  if (status === null) return 'none (no agent with peer.enabled is running)';
  const rejected =
    status.rejected === 0 ? '' : `, ${status.rejected} message${status.rejected === 1 ? '' : 's'} rejected`;
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
