// runsc's file names inside the root directory.
import { join } from 'node:path';

/** runsc's ID rule: `^[A-Za-z0-9_+.-]+$`. */
export const VALID_ID = /^[\w+.-]+$/;

export const statePath = (root: string, cid: string, sid: string): string => join(root, `${cid}_sandbox:${sid}.state`);
export const lockPath = (root: string, cid: string, sid: string): string => join(root, `${cid}_sandbox:${sid}.lock`);
export const socketPath = (root: string, sid: string): string => join(root, `runsc-${sid}.sock`);
