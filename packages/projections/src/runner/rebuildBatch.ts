/** Events per batch in a rebuild (a batch is what one step of the pass reads and applies). */
export const REBUILD_BATCH = 65_536
