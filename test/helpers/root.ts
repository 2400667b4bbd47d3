/** Namespace tests need root; they skip with this reason otherwise. */
export const isRoot = process.getuid?.() === 0;
export const NOT_ROOT_REASON = 'needs root to create network namespaces (run the suite as root)';
