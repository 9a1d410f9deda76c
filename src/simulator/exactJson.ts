/** Moved to src/exactJson.ts (shared with the HTTP API); re-exported for the simulator. */
export * from '../exactJson';
