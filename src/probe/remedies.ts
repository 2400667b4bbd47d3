/**
 * The fixes for a missing addon and for ICMP sockets that will not open, as hints. Apart from the addon
 * loader (icmp-addon.ts) so the CLI's table of default hints (src/cli/exit-codes.ts), loaded by every
 * command, does not load the loader.
 */
export const NATIVE_ADDON_HINT =
  'rebuild with `npm rebuild relay-select` (`npm rebuild -g relay-select` for a global install); needs a C++ compiler and python3';

export const PING_SYSCTL_FIX =
  'allow ping sockets (no privilege needed): sysctl -w net.ipv4.ping_group_range="0 2147483647", kept across boots in /etc/sysctl.d/60-relay-select-ping.conf';
const RAW_CAPABILITY_FIX = 'or grant raw sockets: run as root or setcap cap_net_raw+ep "$(command -v node)"';
export const RAW_SOCKET_PERMISSION_HINT = `${PING_SYSCTL_FIX}; ${RAW_CAPABILITY_FIX}`;
